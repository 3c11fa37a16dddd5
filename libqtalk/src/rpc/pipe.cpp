// Value framing on a channel (PROTOCOL §4.1) and the Pipe wrapper around it.
#include "qtalk/rpc/pipe.hpp"

#include "qtalk/frame/encoder.hpp"
#include "qtalk/transport/errc.hpp"

namespace qtalk::rpc {

Task<Result<std::optional<std::vector<std::byte>>>> read_frame(mux::Channel& ch, std::uint32_t max) {
    std::array<std::byte, 4> prefix;
    std::size_t have = 0;
    while (have < prefix.size()) {
        auto n = co_await ch.read_some(std::span(prefix).subspan(have));
        if (!n) co_return n.error();
        if (*n == 0) {
            if (have == 0) co_return std::optional<std::vector<std::byte>>{};
            co_return Errc::closed;
        }
        have += *n;
    }
    auto len = frame::get_u32(prefix.data());
    if (len == 0) co_return Errc::empty_frame;
    if (len > max) co_return Errc::frame_too_large;
    std::vector<std::byte> value(len);
    auto r = co_await ch.read_exact(value);
    if (!r) co_return r.error() == transport::Errc::eof ? make_error_code(Errc::closed) : r.error();
    co_return std::optional(std::move(value));
}

Task<Result<void>> write_frame(mux::Channel& ch, std::span<const std::byte> value) {
    std::vector<std::byte> buf(4 + value.size());
    frame::put_u32(buf.data(), static_cast<std::uint32_t>(value.size()));
    std::copy(value.begin(), value.end(), buf.begin() + 4);
    co_return co_await ch.write(buf);
}

Task<Result<void>> Pipe::send(const nlohmann::json& v) {
    auto bytes = encode(codec_, v);
    co_return co_await write_frame(ch_, bytes);
}

Task<Result<void>> Pipe::send_encoded(std::span<const std::byte> value) { return write_frame(ch_, value); }

Task<Result<std::optional<std::vector<std::byte>>>> Pipe::receive_encoded() { return read_frame(ch_); }

Task<Result<std::optional<nlohmann::json>>> Pipe::receive() {
    auto f = co_await read_frame(ch_);
    if (!f) co_return f.error();
    if (!*f) co_return std::optional<nlohmann::json>{};
    auto v = decode(codec_, **f);
    if (!v) co_return v.error();
    co_return std::optional(std::move(*v));
}

Task<void> Pipe::close() {
    if (!ch_) co_return;
    if (!ch_.closed()) (void)co_await ch_.close_write();  // JS peers end reads on EOF only (§6.13)
    ch_.close();
}

}  // namespace qtalk::rpc
