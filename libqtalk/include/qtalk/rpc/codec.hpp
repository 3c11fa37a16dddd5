// rpc value codecs (PROTOCOL §4.2, §4.3): JSON and CBOR, byte-compatible with the Go reference.
// Values are nlohmann::json; CBOR byte strings are nlohmann binary values.
// Owns value <-> bytes only; framing (length prefix) is rpc/framing's, channels are mux's.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "qtalk/rpc/errc.hpp"
#include "qtalk/result.hpp"

namespace qtalk::rpc {

enum class Codec { json, cbor };

// "json" / "cbor" (case-insensitive) -> Codec; anything else nullopt.
std::optional<Codec> parse_codec(std::string_view name);
const char* codec_name(Codec c) noexcept;


// Encodes one value (no length prefix).
// JSON: Go encoding/json style — compact, `<` `>` `&` U+2028 U+2029 escaped as \u003c \u003e \u0026
//       \u2028 \u2029, invalid UTF-8 replaced by U+FFFD, binary values as base64 strings, and a
//       trailing '\n'.
// CBOR: Go fxamacker style — definite lengths, shortest heads, floats always as 8-byte `fb`,
//       binary as major type 2, maps in nlohmann's (sorted) key order.
std::vector<std::byte> encode(Codec c, const nlohmann::json& value);

// Decodes exactly one value occupying all of `bytes`.
// JSON: surrounding whitespace allowed (with or without the trailing '\n').
// CBOR: accepts non-shortest heads, indefinite lengths, `f7` undefined (-> null), any tag (ignored;
//       tag 64 around a byte string -> binary), half/single/double floats.
Result<nlohmann::json> decode(Codec c, std::span<const std::byte> bytes);

// CallHeader {Selector} (PROTOCOL §4.3), bytes exactly as Go emits them.
std::vector<std::byte> encode_call_header(Codec c, std::string_view selector);
// Reads `Selector` (exact key match first, then case-insensitive); must be a text string.
Result<std::string> decode_call_header(Codec c, std::span<const std::byte> bytes);

struct ResponseHeader {
    std::optional<std::string> error;  // nullopt: no error
    bool continue_ = false;
    bool operator==(const ResponseHeader&) const = default;
};
// Always both keys, Error first, Go style: {"Error":null,"Continue":false}\n / a2 65 Error f6 68 Continue f4.
std::vector<std::byte> encode_response_header(Codec c, const ResponseHeader& h);
// Missing Error / null / undefined -> no error; missing Continue -> false; keys matched exact then
// case-insensitively; unknown keys ignored. Error of another type -> Errc::invalid_header.
Result<ResponseHeader> decode_response_header(Codec c, std::span<const std::byte> bytes);

}  // namespace qtalk::rpc
