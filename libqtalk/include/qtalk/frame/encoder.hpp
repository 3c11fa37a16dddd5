// Encodes qmux messages (PROTOCOL §2.2). Fixed parts go into a caller-provided
// array; DATA payloads are never copied: encode_header() writes the 9-byte header
// and the caller sends header and payload together (one gathered write).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "qtalk/frame/message.hpp"

namespace qtalk::frame {

// Writes the fixed part of `m` (for Data: type, recipient, length = payload.size())
// into `out` and returns the number of bytes written (5..17).
std::size_t encode_header(const Message& m, std::span<std::byte, max_header_size> out) noexcept;

// Whole message including any DATA payload, appended to `out` (tests, tools).
void encode(const Message& m, std::vector<std::byte>& out);

inline void put_u32(std::byte* p, std::uint32_t v) noexcept {
    p[0] = std::byte(v >> 24); p[1] = std::byte(v >> 16); p[2] = std::byte(v >> 8); p[3] = std::byte(v);
}
inline std::uint32_t get_u32(const std::byte* p) noexcept {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

}  // namespace qtalk::frame
