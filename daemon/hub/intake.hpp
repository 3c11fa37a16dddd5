// Call intake (PROTOCOL §5.2): read one call's header frame verbatim from a channel the hub
// accepted, sniff the codec from its first byte, and extract the selector.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qtalk/mux/session.hpp"
#include "qtalk/rpc/pipe.hpp"

namespace qtalkd {

struct Intake {
    qtalk::rpc::Codec codec = qtalk::rpc::Codec::cbor;  // replies the hub writes use this
    std::vector<std::byte> header;   // 4-byte length + header bytes, exactly as received
    std::string selector;            // as the caller wrote it
    std::string normalized;          // PROTOCOL §4.6
    std::optional<std::string> error;  // set: reply this error (in `codec`) instead of handling
    bool ended = false;              // the caller went away before a whole header arrived
};

// The steps of §5.2 over bytes as they arrive: want() is where the next bytes go, filled(n)
// applies them; once done() the intake is complete (or in error).
class IntakeParser {
public:
    explicit IntakeParser(std::uint32_t max_header);
    std::span<std::byte> want() { return done_ ? std::span<std::byte>{} : std::span(in_.header).subspan(have_); }
    void filled(std::size_t n);
    bool done() const { return done_; }
    Intake& intake() { return in_; }
    // Takes what has already arrived on `ch` (no waiting); true once done().
    bool take_buffered(qtalk::mux::Channel& ch);

private:
    void advance();
    Intake in_;
    std::size_t have_ = 0;
    std::uint32_t max_header_;
    bool done_ = false;
};


// An error reply from the hub itself in the call's sniffed codec (header, null, CLOSE). With
// `read_args` the call's argument frame is read first, so no caller bytes stay in flight
// (PROTOCOL §6, interoperating item 2).
qtalk::rpc::Task<void> reply_error(qtalk::mux::Channel ch, qtalk::rpc::Codec codec, std::string msg, bool read_args);

}  // namespace qtalkd
