// PROTOCOL §5.2 steps 2-5: length, size limits, codec sniffing, Selector extraction.
#include "hub/intake.hpp"

#include "qtalk/rpc/responder.hpp"

#include "hub/errors.hpp"
#include "qtalk/frame/encoder.hpp"
#include "qtalk/rpc/selector.hpp"

namespace qtalkd {
using qtalk::rpc::Codec;

IntakeParser::IntakeParser(std::uint32_t max_header) : max_header_(max_header) {
    in_.header.reserve(256);  // typical headers fit: one allocation
    in_.header.resize(4);
}

void IntakeParser::filled(std::size_t n) {
    have_ += n;
    if (have_ == in_.header.size()) advance();
}

void IntakeParser::advance() {
    auto& h = in_.header;
    auto len = qtalk::frame::get_u32(h.data());
    if (h.size() == 4) {
        if (len == 0) {  // nothing to sniff: CBOR (§5.2)
            in_.error = invalid_call_header();
            done_ = true;
            return;
        }
        // The whole header next; one byte only when it is refused as too large (the error reply
        // is still in the sniffed codec).
        h.resize(len > max_header_ ? 5 : 4 + std::size_t(len));
        return;
    }
    done_ = true;
    in_.codec = h[4] == std::byte{'{'} ? Codec::json : Codec::cbor;
    if (len > max_header_) {
        in_.error = call_header_too_large();
        return;
    }
    auto sel = qtalk::rpc::decode_call_header(in_.codec, std::span(h).subspan(4));
    if (!sel) {
        in_.error = invalid_call_header();
        return;
    }
    in_.selector = std::move(*sel);
    in_.normalized = qtalk::rpc::normalize_selector(in_.selector);
}

// A call's header usually arrives in one DATA payload: past its first bytes nothing is left to
// wait for.
bool IntakeParser::take_buffered(qtalk::mux::Channel& ch) {
    while (!done_) {
        auto n = ch.read_buffered(want());
        if (n == 0) return false;
        filled(n);
    }
    return true;
}

qtalk::rpc::Task<void> reply_error(qtalk::mux::Channel ch, Codec codec, std::string msg, bool read_args) {
    if (read_args) (void)co_await qtalk::rpc::read_frame(ch);
    qtalk::rpc::Pipe pipe(ch, codec);
    qtalk::rpc::Responder r(pipe);
    (void)co_await r.error(std::move(msg));
}

}  // namespace qtalkd
