// CBOR value codec (PROTOCOL §4.2). Encodes like fxamacker/cbor v2.4 with default options;
// decodes whatever the Go and JS refs emit (non-preferred heads, indefinite lengths, f7, tags).
// Our own decoder rather than nlohmann::from_cbor, which rejects f7 (PROTOCOL §6, tolerate 11).
#include <bit>
#include <cmath>
#include <limits>

#include "rpc/codec_detail.hpp"
#include "qtalk/rpc/errc.hpp"

namespace qtalk::rpc::detail {
namespace {

using nlohmann::json;

void put(std::vector<std::byte>& out, std::uint8_t b) { out.push_back(static_cast<std::byte>(b)); }

void put_be(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
    for (int s = (bytes - 1) * 8; s >= 0; s -= 8) put(out, static_cast<std::uint8_t>(v >> s));
}

// fxamacker defaults: floats stay 8-byte (ShortestFloatNone), but NaN becomes f9 7e00
// (NaNConvert7e00) and infinities half floats (InfConvertFloat16).
void append_float(std::vector<std::byte>& out, double f) {
    if (std::isnan(f)) return put_be(out, 0xf97e00, 3);
    if (std::isinf(f)) return put_be(out, f > 0 ? 0xf97c00 : 0xf9fc00, 3);
    put(out, 0xfb);
    put_be(out, std::bit_cast<std::uint64_t>(f), 8);
}

void append_value(std::vector<std::byte>& out, const json& v) {
    switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded: return put(out, 0xf6);
    case json::value_t::boolean: return put(out, v.get<bool>() ? 0xf5 : 0xf4);
    case json::value_t::number_integer: {
        const auto i = v.get<std::int64_t>();
        // -(i + 1) cannot overflow, even for INT64_MIN.
        if (i >= 0) return append_cbor_head(out, CborMajor::unsigned_int, static_cast<std::uint64_t>(i));
        return append_cbor_head(out, CborMajor::negative_int, static_cast<std::uint64_t>(-(i + 1)));
    }
    case json::value_t::number_unsigned:
        return append_cbor_head(out, CborMajor::unsigned_int, v.get<std::uint64_t>());
    case json::value_t::number_float: return append_float(out, v.get<double>());
    case json::value_t::string: return append_cbor_text(out, v.get_ref<const std::string&>());
    case json::value_t::binary: {
        // A subtype has no Go counterpart ([]byte is plain major type 2), so it is dropped.
        const auto& b = v.get_binary();
        append_cbor_head(out, CborMajor::bytes, b.size());
        const auto* p = reinterpret_cast<const std::byte*>(b.data());
        out.insert(out.end(), p, p + b.size());
        return;
    }
    case json::value_t::array:
        append_cbor_head(out, CborMajor::array, v.size());
        for (const auto& e : v) append_value(out, e);
        return;
    case json::value_t::object:
        append_cbor_head(out, CborMajor::map, v.size());
        for (const auto& [k, e] : v.items()) {
            append_cbor_text(out, k);
            append_value(out, e);
        }
        return;
    }
}

double half_to_double(std::uint16_t h) {
    const int exp = h >> 10 & 0x1f;
    const int mant = h & 0x3ff;
    double d;
    if (exp == 0) d = std::ldexp(mant, -24);
    else if (exp != 31) d = std::ldexp(mant + 1024, exp - 25);
    else d = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    return h & 0x8000 ? -d : d;
}

// Every length is checked against the bytes that remain before anything is allocated, so a
// declared length of 2^64-1 fails at once; recursion is bounded by max_depth.
class Reader {
public:
    explicit Reader(std::span<const std::byte> in) : in_(in) {}
    bool at_end() const { return pos_ == in_.size(); }

    bool value(json& out, int depth) {
        if (depth > max_depth) return false;
        std::uint8_t ib;
        if (!byte(ib)) return false;
        const auto major = static_cast<CborMajor>(ib >> 5);
        const std::uint8_t ai = ib & 0x1f;
        std::uint64_t n = 0;
        switch (major) {
        case CborMajor::unsigned_int:
            if (!argument(ai, n)) return false;
            out = n;
            return true;
        case CborMajor::negative_int:
            if (!argument(ai, n) || n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return false;  // below INT64_MIN: nlohmann cannot hold it
            out = -static_cast<std::int64_t>(n) - 1;
            return true;
        case CborMajor::bytes: {
            json::binary_t::container_type b;
            if (!string_payload(major, ai, b)) return false;
            out = json::binary(std::move(b));
            return true;
        }
        case CborMajor::text: {
            std::string s;
            // fxamacker rejects invalid UTF-8 text, and nlohmann's dump() would throw on it later.
            if (!string_payload(major, ai, s) || !valid_utf8(s)) return false;
            out = std::move(s);
            return true;
        }
        case CborMajor::array: return array(ai, out, depth);
        case CborMajor::map: return map(ai, out, depth);
        case CborMajor::tag:
            // Tags carry no meaning for us: tag 64 (JS Uint8Array) already wraps a byte string.
            return ai != 31 && argument(ai, n) && value(out, depth + 1);
        case CborMajor::simple: return simple(ai, out);
        }
        return false;
    }

private:
    std::size_t remaining() const { return in_.size() - pos_; }

    bool byte(std::uint8_t& b) {
        if (pos_ >= in_.size()) return false;
        b = std::to_integer<std::uint8_t>(in_[pos_++]);
        return true;
    }

    // Consumes the 0xff that ends an indefinite-length item, if it is next.
    bool at_break(bool& brk) {
        if (pos_ >= in_.size()) return false;
        brk = in_[pos_] == std::byte{0xff};
        if (brk) ++pos_;
        return true;
    }

    // Non-preferred (longer than needed) heads are accepted, as the JS ref's b9 maps need.
    bool argument(std::uint8_t ai, std::uint64_t& n) {
        if (ai < 24) {
            n = ai;
            return true;
        }
        if (ai > 27) return false;  // 28-30 reserved, 31 handled by the callers that allow it
        const std::size_t len = std::size_t{1} << (ai - 24);
        if (remaining() < len) return false;
        n = 0;
        for (std::size_t k = 0; k < len; ++k) n = n << 8 | std::to_integer<std::uint8_t>(in_[pos_++]);
        return true;
    }

    template <class Buf>
    bool raw(std::uint64_t n, Buf& out) {
        if (n > remaining()) return false;
        const auto* p = reinterpret_cast<const typename Buf::value_type*>(in_.data() + pos_);
        out.insert(out.end(), p, p + n);
        pos_ += n;
        return true;
    }

    // Indefinite strings are a sequence of definite chunks of the same major type.
    template <class Buf>
    bool string_payload(CborMajor major, std::uint8_t ai, Buf& out) {
        std::uint64_t n;
        if (ai != 31) return argument(ai, n) && raw(n, out);
        for (;;) {
            bool brk;
            if (!at_break(brk)) return false;
            if (brk) return true;
            std::uint8_t ib;
            if (!byte(ib) || static_cast<CborMajor>(ib >> 5) != major) return false;
            if ((ib & 0x1f) == 31 || !argument(ib & 0x1f, n) || !raw(n, out)) return false;
        }
    }

    bool array(std::uint8_t ai, json& out, int depth) {
        out = json::array();
        auto& a = out.get_ref<json::array_t&>();
        if (ai == 31) {
            for (;;) {
                bool brk;
                if (!at_break(brk)) return false;
                if (brk) return true;
                if (!value(a.emplace_back(), depth + 1)) return false;
            }
        }
        std::uint64_t n;
        if (!argument(ai, n) || n > remaining()) return false;  // each item takes at least one byte
        a.reserve(n);
        for (std::uint64_t k = 0; k < n; ++k)
            if (!value(a.emplace_back(), depth + 1)) return false;
        return true;
    }

    bool map(std::uint8_t ai, json& out, int depth) {
        out = json::object();
        auto& m = out.get_ref<json::object_t&>();
        if (ai == 31) {
            for (;;) {
                bool brk;
                if (!at_break(brk)) return false;
                if (brk) return true;
                if (!entry(m, depth)) return false;
            }
        }
        std::uint64_t n;
        if (!argument(ai, n) || n > remaining() / 2) return false;
        for (std::uint64_t k = 0; k < n; ++k)
            if (!entry(m, depth)) return false;
        return true;
    }

    // nlohmann keys are strings: integer keys (Go map[int]T) become their decimal text.
    // A repeated key keeps the last value, as Go's map decoding does.
    bool entry(json::object_t& m, int depth) {
        json k, v;
        if (!value(k, depth + 1)) return false;
        std::string key;
        if (k.is_string()) key = std::move(k.get_ref<std::string&>());
        else if (k.is_number_unsigned()) key = std::to_string(k.get<std::uint64_t>());
        else if (k.is_number_integer()) key = std::to_string(k.get<std::int64_t>());
        else return false;
        if (!value(v, depth + 1)) return false;
        m[std::move(key)] = std::move(v);
        return true;
    }

    bool simple(std::uint8_t ai, json& out) {
        std::uint64_t n;
        switch (ai) {
        case 20: out = false; return true;
        case 21: out = true; return true;
        case 22:
        case 23: out = nullptr; return true;  // undefined (JS ref's "no error", PROTOCOL §6 tolerate 11)
        case 24:
            if (!argument(ai, n)) return false;
            out = nullptr;
            return true;
        case 25:
            if (!argument(ai, n)) return false;
            out = half_to_double(static_cast<std::uint16_t>(n));
            return true;
        case 26:
            if (!argument(ai, n)) return false;
            out = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(n)));
            return true;
        case 27:
            if (!argument(ai, n)) return false;
            out = std::bit_cast<double>(n);
            return true;
        default:
            if (ai < 20) {  // unassigned simple values have no JSON meaning
                out = nullptr;
                return true;
            }
            return false;  // 28-30 reserved; 31 is a break outside an indefinite item
        }
    }

    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
};

}  // namespace

void append_cbor_head(std::vector<std::byte>& out, CborMajor major, std::uint64_t n) {
    const auto m = static_cast<std::uint8_t>(static_cast<std::uint8_t>(major) << 5);
    if (n < 24) return put(out, static_cast<std::uint8_t>(m | n));
    const int ai = n <= 0xff ? 24 : n <= 0xffff ? 25 : n <= 0xffffffff ? 26 : 27;
    put(out, static_cast<std::uint8_t>(m | ai));
    put_be(out, n, 1 << (ai - 24));
}

void append_cbor_text(std::vector<std::byte>& out, std::string_view s) {
    append_cbor_head(out, CborMajor::text, s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
}

std::vector<std::byte> encode_cbor(const json& value) {
    std::vector<std::byte> out;
    append_value(out, value);
    return out;
}

Result<json> decode_cbor(std::span<const std::byte> bytes) {
    try {
        Reader r(bytes);
        json v;
        if (!r.value(v, 0) || !r.at_end()) return Errc::decode_failed;
        return v;
    } catch (const std::exception&) {  // only allocation failure is left to throw
        return Errc::decode_failed;
    }
}

}  // namespace qtalk::rpc::detail
