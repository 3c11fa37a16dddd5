// Shared internals of the rpc codecs: the per-codec value encoders/decoders that codec.cpp
// dispatches to, Go-style JSON string escaping and CBOR heads (also used to hand-write headers),
// and the UTF-8 rule both codecs apply the way Go does.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "qtalk/result.hpp"

namespace qtalk::rpc::detail {

// Nesting limit for decoding, so a hostile frame cannot exhaust the stack of whoever walks the
// value afterwards (our encoders, nlohmann's dump). fxamacker's default is 32; 256 is generous.
inline constexpr int max_depth = 256;

std::vector<std::byte> encode_json(const nlohmann::json& value);
Result<nlohmann::json> decode_json(std::span<const std::byte> bytes);
std::vector<std::byte> encode_cbor(const nlohmann::json& value);
Result<nlohmann::json> decode_cbor(std::span<const std::byte> bytes);

// Appends `s` as a quoted JSON string exactly as Go encoding/json writes it (HTML-safe).
void append_json_string(std::vector<std::byte>& out, std::string_view s);
void append_ascii(std::vector<std::byte>& out, std::string_view s);

enum class CborMajor : std::uint8_t { unsigned_int = 0, negative_int, bytes, text, array, map, tag, simple };
// Shortest ("preferred") head, as fxamacker emits.
void append_cbor_head(std::vector<std::byte>& out, CborMajor major, std::uint64_t n);
void append_cbor_text(std::vector<std::byte>& out, std::string_view s);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid: Go's utf8.DecodeRune rules
// (no overlongs, no surrogates, nothing above U+10FFFF).
inline std::size_t utf8_rune_length(std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) { auto c = at(k); return c >= lo && c <= hi; };
    unsigned c = at(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

inline bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_rune_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace qtalk::rpc::detail
