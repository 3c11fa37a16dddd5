// qmux messages as values (PROTOCOL §2.2). Pure data: no I/O, no channel state.
// A Data payload is a view into the buffer it was decoded from (or will be encoded from).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

namespace qtalk::frame {

enum class Type : std::uint8_t {
    open = 100,
    open_confirm = 101,
    open_failure = 102,
    window_adjust = 103,
    data = 104,
    eof = 105,
    close = 106,
};

struct Open {            // 13 bytes
    std::uint32_t sender;
    std::uint32_t window;
    std::uint32_t max_packet;
    bool operator==(const Open&) const = default;
};
struct OpenConfirm {     // 17 bytes
    std::uint32_t recipient;
    std::uint32_t sender;
    std::uint32_t window;
    std::uint32_t max_packet;
    bool operator==(const OpenConfirm&) const = default;
};
struct OpenFailure {     // 5 bytes
    std::uint32_t recipient;
    bool operator==(const OpenFailure&) const = default;
};
struct WindowAdjust {    // 9 bytes
    std::uint32_t recipient;
    std::uint32_t bytes;
    bool operator==(const WindowAdjust&) const = default;
};
struct Data {            // 9 + N bytes
    std::uint32_t recipient;
    std::span<const std::byte> payload;
};
struct Eof {             // 5 bytes
    std::uint32_t recipient;
    bool operator==(const Eof&) const = default;
};
struct Close {           // 5 bytes
    std::uint32_t recipient;
    bool operator==(const Close&) const = default;
};

using Message = std::variant<Open, OpenConfirm, OpenFailure, WindowAdjust, Data, Eof, Close>;

// Fixed size of each message without a DATA payload, by type.
inline constexpr std::size_t open_size = 13;
inline constexpr std::size_t open_confirm_size = 17;
inline constexpr std::size_t open_failure_size = 5;
inline constexpr std::size_t window_adjust_size = 9;
inline constexpr std::size_t data_header_size = 9;
inline constexpr std::size_t eof_size = 5;
inline constexpr std::size_t close_size = 5;
inline constexpr std::size_t max_header_size = 17;  // largest fixed part of any message

// PROTOCOL §2.4: acceptable maximum packet advertised by a peer (Go ref limits).
inline constexpr std::uint32_t min_max_packet = 9;
inline constexpr std::uint32_t max_max_packet = 0x80000000u;

// The recipient/sender id a message addresses (Open: its sender id).
std::uint32_t channel_of(const Message& m) noexcept;
Type type_of(const Message& m) noexcept;
const char* type_name(Type t) noexcept;

}  // namespace qtalk::frame
