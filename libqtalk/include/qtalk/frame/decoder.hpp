// Decodes one qmux message from the front of a byte span (PROTOCOL §2.2).
// Owns wire layout and size limits; channel state is mux's, I/O is transport's.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "qtalk/frame/errc.hpp"
#include "qtalk/frame/message.hpp"
#include "qtalk/result.hpp"

namespace qtalk::frame {

struct Decoded {
    Message message;        // a Data payload points into the caller's span
    std::size_t consumed;   // bytes the caller may now drop
};

// Empty optional: incomplete, keep the bytes and read more. Any Errc is fatal for the session.
Result<std::optional<Decoded>> decode(std::span<const std::byte> in, std::uint32_t max_payload);

// Total size of the message at the front of `in` once enough of it is visible (type byte, and
// for DATA the 9-byte header); nullopt if not yet known. Errors as decode().
Result<std::optional<std::size_t>> message_size(std::span<const std::byte> in, std::uint32_t max_payload);

}  // namespace qtalk::frame
