// qmux message encoding (PROTOCOL §2.2). encode_header() writes only the fixed part, so a DATA
// payload is never copied on the send path; encode() appends a whole message (tests, tools).
// Choosing payload sizes (window, maximum packet) is mux's job.
#include "qtalk/frame/encoder.hpp"

#include <cassert>
#include <cstdint>
#include <type_traits>

namespace qtalk::frame {

std::size_t encode_header(const Message& m, std::span<std::byte, max_header_size> out) noexcept {
    std::byte* p = out.data();
    p[0] = std::byte(static_cast<std::uint8_t>(type_of(m)));
    return std::visit(
        [p](const auto& x) -> std::size_t {
            using M = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<M, Open>) {
                put_u32(p + 1, x.sender);
                put_u32(p + 5, x.window);
                put_u32(p + 9, x.max_packet);
                return open_size;
            } else if constexpr (std::is_same_v<M, OpenConfirm>) {
                put_u32(p + 1, x.recipient);
                put_u32(p + 5, x.sender);
                put_u32(p + 9, x.window);
                put_u32(p + 13, x.max_packet);
                return open_confirm_size;
            } else if constexpr (std::is_same_v<M, WindowAdjust>) {
                put_u32(p + 1, x.recipient);
                put_u32(p + 5, x.bytes);
                return window_adjust_size;
            } else if constexpr (std::is_same_v<M, Data>) {
                // Callers keep N <= the peer's maximum packet (at most 2^31, §2.4).
                assert(x.payload.size() <= UINT32_MAX);
                put_u32(p + 1, x.recipient);
                put_u32(p + 5, static_cast<std::uint32_t>(x.payload.size()));
                return data_header_size;
            } else {  // OpenFailure, Eof, Close: type + recipient
                static_assert(open_failure_size == 5 && eof_size == 5 && close_size == 5);
                put_u32(p + 1, x.recipient);
                return 5;
            }
        },
        m);
}

void encode(const Message& m, std::vector<std::byte>& out) {
    std::array<std::byte, max_header_size> hdr;
    auto n = encode_header(m, hdr);
    out.insert(out.end(), hdr.begin(), hdr.begin() + static_cast<std::ptrdiff_t>(n));
    if (auto* d = std::get_if<Data>(&m)) out.insert(out.end(), d->payload.begin(), d->payload.end());
}

}  // namespace qtalk::frame
