// rpc codec entry points: codec names, value dispatch, and the Call/Response headers of
// PROTOCOL §4.3. Headers are written by hand (nlohmann sorts keys, Go writes Error before
// Continue) and read tolerantly: key case, missing keys, JS `undefined` (§6 tolerate 7, 11).
#include <algorithm>
#include <cctype>

#include "qtalk/rpc/codec.hpp"
#include "rpc/codec_detail.hpp"

namespace qtalk::rpc {
namespace {

using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
        return std::tolower(x) == std::tolower(y);
    });
}

// Go's decoders match struct fields exact first, then case-insensitively.
const json* field(const json& obj, std::string_view name) {
    if (auto it = obj.find(name); it != obj.end()) return &*it;
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (iequals(it.key(), name)) return &*it;
    return nullptr;
}

void append_text(Codec c, std::vector<std::byte>& out, std::string_view s) {
    if (c == Codec::json) detail::append_json_string(out, s);
    else detail::append_cbor_text(out, s);
}

}  // namespace

std::optional<Codec> parse_codec(std::string_view name) {
    if (iequals(name, "json")) return Codec::json;
    if (iequals(name, "cbor")) return Codec::cbor;
    return std::nullopt;
}

const char* codec_name(Codec c) noexcept { return c == Codec::json ? "json" : "cbor"; }

std::vector<std::byte> encode(Codec c, const json& value) {
    return c == Codec::json ? detail::encode_json(value) : detail::encode_cbor(value);
}

Result<json> decode(Codec c, std::span<const std::byte> bytes) {
    return c == Codec::json ? detail::decode_json(bytes) : detail::decode_cbor(bytes);
}

std::vector<std::byte> encode_call_header(Codec c, std::string_view selector) {
    std::vector<std::byte> out;
    if (c == Codec::json) detail::append_ascii(out, R"({"Selector":)");
    else detail::append_ascii(out, "\xa1\x68" "Selector");
    append_text(c, out, selector);
    if (c == Codec::json) detail::append_ascii(out, "}\n");
    return out;
}

namespace {
// The header exactly as encode_call_header writes it (and the Go and JS peers do): its selector,
// read without building a value. Anything else (other keys, spellings, escapes, non-ASCII JSON,
// longer heads) is left to the general decoder, so both give the same answer.
std::optional<std::string> canonical_selector(Codec c, std::span<const std::byte> bytes) {
    const std::string_view b(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (c == Codec::cbor) {
        constexpr std::string_view prefix = "\xa1\x68" "Selector";
        if (!b.starts_with(prefix) || b.size() < prefix.size() + 1) return std::nullopt;
        const auto head = static_cast<unsigned char>(b[prefix.size()]);
        std::size_t len = head & 0x1f, at = prefix.size() + 1;
        if (head >> 5 != 3) return std::nullopt;  // a text string
        if (len == 24) {
            if (b.size() < at + 1) return std::nullopt;
            len = static_cast<unsigned char>(b[at++]);
        } else if (len > 24) {
            return std::nullopt;
        }
        if (b.size() - at != len) return std::nullopt;
        auto sel = b.substr(at);
        if (!detail::valid_utf8(sel)) return std::nullopt;
        return std::string(sel);
    }
    constexpr std::string_view prefix = R"({"Selector":")";
    if (!b.starts_with(prefix)) return std::nullopt;
    auto end = b.find('"', prefix.size());
    if (end == std::string_view::npos) return std::nullopt;
    auto rest = b.substr(end + 1);
    if (rest != "}" && rest != "}\n") return std::nullopt;
    auto sel = b.substr(prefix.size(), end - prefix.size());
    for (unsigned char ch : sel)
        if (ch < 0x20 || ch > 0x7e || ch == '\\') return std::nullopt;
    return std::string(sel);
}
}  // namespace

Result<std::string> decode_call_header(Codec c, std::span<const std::byte> bytes) {
    if (auto sel = canonical_selector(c, bytes)) return std::move(*sel);
    auto v = decode(c, bytes);
    if (!v) return v.error();
    if (!v->is_object()) return Errc::invalid_header;
    const json* s = field(*v, "Selector");
    if (!s || !s->is_string()) return Errc::invalid_header;
    return s->get<std::string>();
}

std::vector<std::byte> encode_response_header(Codec c, const ResponseHeader& h) {
    std::vector<std::byte> out;
    const bool js = c == Codec::json;
    detail::append_ascii(out, js ? R"({"Error":)" : "\xa2\x65" "Error");
    if (h.error) append_text(c, out, *h.error);
    else detail::append_ascii(out, js ? "null" : "\xf6");
    detail::append_ascii(out, js ? R"(,"Continue":)" : "\x68" "Continue");
    if (js) detail::append_ascii(out, h.continue_ ? "true}\n" : "false}\n");
    else detail::append_ascii(out, h.continue_ ? "\xf5" : "\xf4");
    return out;
}

Result<ResponseHeader> decode_response_header(Codec c, std::span<const std::byte> bytes) {
    auto v = decode(c, bytes);
    if (!v) return v.error();
    if (!v->is_object()) return Errc::invalid_header;
    ResponseHeader h;
    // undefined (f7) already decoded to null.
    if (const json* e = field(*v, "Error"); e && !e->is_null()) {
        if (!e->is_string()) return Errc::invalid_header;
        h.error = e->get<std::string>();
    }
    // null leaves Go's bool at false.
    if (const json* k = field(*v, "Continue"); k && !k->is_null()) {
        if (!k->is_boolean()) return Errc::invalid_header;
        h.continue_ = k->get<bool>();
    }
    return h;
}

}  // namespace qtalk::rpc
