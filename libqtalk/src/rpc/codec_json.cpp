// JSON value codec (PROTOCOL §4.2), written to match Go encoding/json byte for byte: HTML-safe
// string escaping, Go float formatting, base64 byte strings, trailing '\n'. Decoding is
// nlohmann's parser behind a nesting limit. Headers are codec.cpp's.
#include <charconv>
#include <cmath>

#include "rpc/codec_detail.hpp"
#include "qtalk/rpc/errc.hpp"

namespace qtalk::rpc::detail {
namespace {

using nlohmann::json;

constexpr char hex_digits[] = "0123456789abcdef";

void put(std::vector<std::byte>& out, char c) { out.push_back(static_cast<std::byte>(c)); }

// Go's floatEncoder: shortest round-trip digits, plain notation for 1e-6 <= |f| < 1e21, otherwise
// exponent notation with "e-07" trimmed to "e-7". Go refuses NaN/Inf; JSON has no spelling for
// them, so we write null as nlohmann and JSON.stringify do.
void append_float(std::vector<std::byte>& out, double f) {
    if (!std::isfinite(f)) return append_ascii(out, "null");
    const double a = std::fabs(f);
    const bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, f, exp ? std::chars_format::scientific : std::chars_format::fixed);
    std::size_t n = r.ptr - buf;
    if (exp && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
        buf[n - 2] = buf[n - 1];
        --n;
    }
    append_ascii(out, std::string_view(buf, n));
}

template <class Int>
void append_int(std::vector<std::byte>& out, Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    append_ascii(out, std::string_view(buf, r.ptr - buf));
}

// Go encodes []byte as standard base64 with padding.
void append_base64(std::vector<std::byte>& out, const std::vector<std::uint8_t>& b) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    put(out, '"');
    std::size_t i = 0;
    for (; i + 3 <= b.size(); i += 3) {
        std::uint32_t v = b[i] << 16 | b[i + 1] << 8 | b[i + 2];
        for (int s = 18; s >= 0; s -= 6) put(out, alphabet[v >> s & 63]);
    }
    if (auto rest = b.size() - i; rest > 0) {
        std::uint32_t v = b[i] << 16 | (rest == 2 ? b[i + 1] << 8 : 0);
        put(out, alphabet[v >> 18 & 63]);
        put(out, alphabet[v >> 12 & 63]);
        put(out, rest == 2 ? alphabet[v >> 6 & 63] : '=');
        put(out, '=');
    }
    put(out, '"');
}

void append_value(std::vector<std::byte>& out, const json& v) {
    switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded: return append_ascii(out, "null");
    case json::value_t::boolean: return append_ascii(out, v.get<bool>() ? "true" : "false");
    case json::value_t::number_integer: return append_int(out, v.get<std::int64_t>());
    case json::value_t::number_unsigned: return append_int(out, v.get<std::uint64_t>());
    case json::value_t::number_float: return append_float(out, v.get<double>());
    case json::value_t::string: return append_json_string(out, v.get_ref<const std::string&>());
    case json::value_t::binary: return append_base64(out, v.get_binary());
    case json::value_t::array: {
        put(out, '[');
        bool first = true;
        for (const auto& e : v) {
            if (!first) put(out, ',');
            first = false;
            append_value(out, e);
        }
        return put(out, ']');
    }
    case json::value_t::object: {
        // nlohmann keeps keys sorted bytewise, which is also the order Go writes map keys in.
        put(out, '{');
        bool first = true;
        for (const auto& [k, e] : v.items()) {
            if (!first) put(out, ',');
            first = false;
            append_json_string(out, k);
            put(out, ':');
            append_value(out, e);
        }
        return put(out, '}');
    }
    }
}

// nlohmann's DOM parser has no depth limit of its own; check nesting before handing it the bytes.
bool nesting_within_limit(std::string_view s) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : s) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

}  // namespace

void append_ascii(std::vector<std::byte>& out, std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
}

// Go's appendString with escapeHTML: invalid UTF-8 bytes become the escape \ufffd one byte at a
// time; \b and \f use the short forms of Go >= 1.22 (and of JSON.stringify).
void append_json_string(std::vector<std::byte>& out, std::string_view s) {
    put(out, '"');
    std::size_t start = 0;
    auto flush = [&](std::size_t i) { append_ascii(out, s.substr(start, i - start)); };
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') {
                ++i;
                continue;
            }
            flush(i);
            switch (b) {
            case '"': append_ascii(out, "\\\""); break;
            case '\\': append_ascii(out, "\\\\"); break;
            case '\b': append_ascii(out, "\\b"); break;
            case '\f': append_ascii(out, "\\f"); break;
            case '\n': append_ascii(out, "\\n"); break;
            case '\r': append_ascii(out, "\\r"); break;
            case '\t': append_ascii(out, "\\t"); break;
            default:
                append_ascii(out, "\\u00");
                put(out, hex_digits[b >> 4]);
                put(out, hex_digits[b & 15]);
            }
            start = ++i;
            continue;
        }
        const auto n = utf8_rune_length(s, i);
        if (n == 0) {
            flush(i);
            append_ascii(out, "\\ufffd");
            start = ++i;
            continue;
        }
        // U+2028 / U+2029 (e2 80 a8 / e2 80 a9) break JavaScript string literals.
        if (n == 3 && b == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
            flush(i);
            append_ascii(out, "\\u202");
            put(out, hex_digits[static_cast<unsigned char>(s[i + 2]) & 15]);
            start = i += 3;
            continue;
        }
        i += n;
    }
    flush(s.size());
    put(out, '"');
}

std::vector<std::byte> encode_json(const json& value) {
    std::vector<std::byte> out;
    append_value(out, value);
    put(out, '\n');
    return out;
}

Result<json> decode_json(std::span<const std::byte> bytes) {
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (!nesting_within_limit(text)) return Errc::decode_failed;
    try {
        auto v = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
        if (v.is_discarded()) return Errc::decode_failed;
        return v;
    } catch (const std::exception&) {  // only allocation failure is left to throw
        return Errc::decode_failed;
    }
}

}  // namespace qtalk::rpc::detail
