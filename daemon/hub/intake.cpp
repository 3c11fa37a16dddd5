// PROTOCOL §5.2 steps 2-5: length, size limits, codec sniffing, Selector extraction.
#include "hub/intake.hpp"

#include "qtalk/rpc/responder.hpp"

#include "hub/errors.hpp"
#include "qtalk/frame/encoder.hpp"
#include "qtalk/rpc/selector.hpp"

namespace qtalkd {
using qtalk::rpc::Codec;

namespace {
// Fills `buf` from what has already arrived and returns the part still to be read. A call's
// header usually arrives in one DATA payload, so past its first bytes nothing is left to wait
// for (and no read coroutine runs).
std::span<std::byte> unfilled(qtalk::mux::Channel& ch, std::span<std::byte> buf) {
    return buf.subspan(ch.read_buffered(buf));
}
}  // namespace

qtalk::rpc::Task<Intake> read_intake(qtalk::mux::Channel& ch, std::uint32_t max_header) {
    Intake in;
    in.header.reserve(256);  // typical headers fit: one allocation
    in.header.resize(4);
    if (auto rest = unfilled(ch, in.header); !rest.empty() && !co_await ch.read_exact(rest)) {
        in.ended = true;
        co_return in;
    }
    auto len = qtalk::frame::get_u32(in.header.data());
    if (len == 0) {  // nothing to sniff: CBOR (§5.2)
        in.error = invalid_call_header();
        co_return in;
    }
    // Sniff from the first header byte even when the header is refused as too large.
    in.header.resize(5);
    if (auto rest = unfilled(ch, std::span(in.header).subspan(4)); !rest.empty() && !co_await ch.read_exact(rest)) {
        in.ended = true;
        co_return in;
    }
    in.codec = in.header[4] == std::byte{'{'} ? Codec::json : Codec::cbor;
    if (len > max_header) {
        in.error = call_header_too_large();
        co_return in;
    }
    in.header.resize(4 + std::size_t(len));
    if (auto rest = unfilled(ch, std::span(in.header).subspan(5)); !rest.empty() && !co_await ch.read_exact(rest)) {
        in.ended = true;
        co_return in;
    }
    auto sel = qtalk::rpc::decode_call_header(in.codec, std::span(in.header).subspan(4));
    if (!sel) {
        in.error = invalid_call_header();
        co_return in;
    }
    in.selector = std::move(*sel);
    in.normalized = qtalk::rpc::normalize_selector(in.selector);
    co_return in;
}

qtalk::rpc::Task<void> reply_error(qtalk::mux::Channel ch, Codec codec, std::string msg, bool read_args) {
    if (read_args) (void)co_await qtalk::rpc::read_frame(ch);
    qtalk::rpc::Pipe pipe(ch, codec);
    qtalk::rpc::Responder r(pipe);
    (void)co_await r.error(std::move(msg));
}

}  // namespace qtalkd
