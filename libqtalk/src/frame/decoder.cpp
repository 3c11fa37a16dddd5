// qmux message decoding (PROTOCOL §2.2): fixed body sizes per type, DATA length checked against
// the receiver's maximum packet as soon as the 9-byte header is visible. Pure: no I/O, no
// allocation; a Data payload is a view into the caller's span. Channel state is mux's.
#include "qtalk/frame/decoder.hpp"

#include <cstdint>

#include "qtalk/frame/encoder.hpp"  // get_u32

namespace qtalk::frame {

namespace {
// Whole size of a non-DATA message, DATA's header size, or 0 for a type byte outside 100..106.
constexpr std::size_t fixed_size(std::uint8_t type) noexcept {
    switch (static_cast<Type>(type)) {
    case Type::open: return open_size;
    case Type::open_confirm: return open_confirm_size;
    case Type::open_failure: return open_failure_size;
    case Type::window_adjust: return window_adjust_size;
    case Type::data: return data_header_size;
    case Type::eof: return eof_size;
    case Type::close: return close_size;
    }
    return 0;
}
}  // namespace

Result<std::optional<std::size_t>> message_size(std::span<const std::byte> in, std::uint32_t max_payload) {
    using Size = std::optional<std::size_t>;
    if (in.empty()) return Size{};
    auto type = std::to_integer<std::uint8_t>(in[0]);
    auto fixed = fixed_size(type);
    if (fixed == 0) return Errc::unknown_type;
    if (static_cast<Type>(type) != Type::data) return Size(fixed);
    if (in.size() < data_header_size) return Size{};
    // Refuse before the payload arrives: a peer must not make us buffer more than max_payload.
    auto len = get_u32(in.data() + 5);
    if (len > max_payload || std::uint64_t(len) > SIZE_MAX - data_header_size) return Errc::payload_too_large;
    return Size(data_header_size + std::size_t(len));
}

Result<std::optional<Decoded>> decode(std::span<const std::byte> in, std::uint32_t max_payload) {
    auto size = message_size(in, max_payload);
    if (!size) return size.error();
    if (!*size || in.size() < **size) return std::optional<Decoded>{};
    const std::byte* p = in.data();
    auto u32 = [p](std::size_t off) { return get_u32(p + off); };
    auto decoded = [&](Message m) { return std::optional<Decoded>(Decoded{m, **size}); };
    switch (static_cast<Type>(std::to_integer<std::uint8_t>(p[0]))) {
    case Type::open: return decoded(Open{u32(1), u32(5), u32(9)});
    case Type::open_confirm: return decoded(OpenConfirm{u32(1), u32(5), u32(9), u32(13)});
    case Type::open_failure: return decoded(OpenFailure{u32(1)});
    case Type::window_adjust: return decoded(WindowAdjust{u32(1), u32(5)});
    case Type::data: return decoded(Data{u32(1), in.subspan(data_header_size, **size - data_header_size)});
    case Type::eof: return decoded(Eof{u32(1)});
    case Type::close: return decoded(Close{u32(1)});
    }
    return Errc::unknown_type;  // unreachable: message_size() vetted the type byte
}

}  // namespace qtalk::frame
