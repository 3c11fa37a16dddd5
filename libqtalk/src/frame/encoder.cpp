// qmux message encoding (PROTOCOL §2.2). DATA payloads are never copied by encode_header().
#include "qtalk/frame/encoder.hpp"

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
                put_u32(p + 1, x.recipient);
                put_u32(p + 5, static_cast<std::uint32_t>(x.payload.size()));
                return data_header_size;
            } else {  // OpenFailure, Eof, Close: type + recipient
                put_u32(p + 1, x.recipient);
                return 5;
            }
        },
        m);
}

void encode(const Message& m, std::vector<std::byte>& out) {
    std::array<std::byte, max_header_size> hdr;
    auto n = encode_header(m, hdr);
    out.insert(out.end(), hdr.begin(), hdr.begin() + n);
    if (auto* d = std::get_if<Data>(&m)) out.insert(out.end(), d->payload.begin(), d->payload.end());
}

}  // namespace qtalk::frame
