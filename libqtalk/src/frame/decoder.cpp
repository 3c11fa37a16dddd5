// qmux message decoding (PROTOCOL §2.2): fixed body sizes per type, DATA length checked against
// the receiver's maximum packet as soon as the header is visible.
#include "qtalk/frame/decoder.hpp"

#include "qtalk/frame/encoder.hpp"

namespace qtalk::frame {

namespace {
constexpr std::size_t fixed_size(std::uint8_t type) {
    switch (type) {
    case 100: return open_size;
    case 101: return open_confirm_size;
    case 102: return open_failure_size;
    case 103: return window_adjust_size;
    case 104: return data_header_size;
    case 105: return eof_size;
    case 106: return close_size;
    default: return 0;
    }
}
}  // namespace

Result<std::optional<std::size_t>> message_size(std::span<const std::byte> in, std::uint32_t max_payload) {
    if (in.empty()) return std::optional<std::size_t>{};
    auto type = std::to_integer<std::uint8_t>(in[0]);
    auto fixed = fixed_size(type);
    if (fixed == 0) return Errc::unknown_type;
    if (type != 104) return std::optional<std::size_t>(fixed);
    if (in.size() < data_header_size) return std::optional<std::size_t>{};
    auto len = get_u32(in.data() + 5);
    if (len > max_payload) return Errc::payload_too_large;
    return std::optional<std::size_t>(data_header_size + std::size_t(len));
}

Result<std::optional<Decoded>> decode(std::span<const std::byte> in, std::uint32_t max_payload) {
    auto size = message_size(in, max_payload);
    if (!size) return size.error();
    if (!*size || in.size() < **size) return std::optional<Decoded>{};
    const std::byte* p = in.data();
    auto u32 = [p](std::size_t off) { return get_u32(p + off); };
    Message m;
    switch (std::to_integer<std::uint8_t>(p[0])) {
    case 100: m = Open{u32(1), u32(5), u32(9)}; break;
    case 101: m = OpenConfirm{u32(1), u32(5), u32(9), u32(13)}; break;
    case 102: m = OpenFailure{u32(1)}; break;
    case 103: m = WindowAdjust{u32(1), u32(5)}; break;
    case 104: m = Data{u32(1), in.subspan(data_header_size, **size - data_header_size)}; break;
    case 105: m = Eof{u32(1)}; break;
    default: m = Close{u32(1)}; break;
    }
    return std::optional<Decoded>(Decoded{m, **size});
}

}  // namespace qtalk::frame
