// Call intake (PROTOCOL §5.2): read one call's header frame verbatim from a channel the hub
// accepted, sniff the codec from its first byte, and extract the selector.
#pragma once
#include <optional>
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

qtalk::rpc::Task<Intake> read_intake(qtalk::mux::Channel& ch, std::uint32_t max_header);

// An error reply from the hub itself in the call's sniffed codec (header, null, CLOSE). With
// `read_args` the call's argument frame is read first, so no caller bytes stay in flight
// (PROTOCOL §6, interoperating item 2).
qtalk::rpc::Task<void> reply_error(qtalk::mux::Channel ch, qtalk::rpc::Codec codec, std::string msg, bool read_args);

}  // namespace qtalkd
