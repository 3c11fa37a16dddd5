// Errors of the mux layer. Protocol violations close the offending session only
// (PROTOCOL §2.5, §2.10, §6); the rest are per-operation outcomes.
#pragma once
#include "qtalk/errc.hpp"

namespace qtalk::mux {

enum class Errc {
    // per operation
    session_closed = 1,    // the session ended (transport closed or protocol error)
    channel_closed,        // this side closed the channel
    closed_by_peer,        // the peer sent CLOSE; no more writes
    open_refused,          // the peer answered OPEN_FAILURE (or closed before confirming)
    write_after_eof,       // this side already sent EOF
    busy,                  // another write/read is already pending on this channel
    too_many_channels,     // local channel limit reached
    open_timeout,          // no CONFIRM/FAILURE within the open timeout
    // protocol violations by the peer (fatal for the session)
    unknown_channel,       // a frame for an id never allocated
    window_exceeded,       // DATA beyond the granted window
    packet_too_large,      // DATA above our maximum packet
    bad_max_packet,        // CONFIRM with a maximum packet outside 9..2^31
    unexpected_confirm,    // CONFIRM/FAILURE for a channel not being opened
    window_overflow,       // WINDOW_ADJUST beyond 2^32-1
    control_backlog,       // the peer does not read our control frames
    frame_error,           // undecodable bytes (see the log for the frame error)
};
QTALK_DECLARE_ERRC(mux)

}  // namespace qtalk::mux
QTALK_ERRC_ENABLE(qtalk::mux::Errc)
