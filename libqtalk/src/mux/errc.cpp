// Messages of mux::Errc.
#include "qtalk/mux/errc.hpp"

namespace qtalk::mux {
QTALK_DEFINE_ERRC(mux, {
    switch (e) {
    case Errc::session_closed: return "session closed";
    case Errc::channel_closed: return "channel closed";
    case Errc::closed_by_peer: return "channel closed by peer";
    case Errc::open_refused: return "channel open refused by peer";
    case Errc::write_after_eof: return "write after EOF";
    case Errc::busy: return "another operation is pending on this channel";
    case Errc::too_many_channels: return "too many channels";
    case Errc::open_timeout: return "channel open timed out";
    case Errc::unknown_channel: return "frame for a channel that was never opened";
    case Errc::window_exceeded: return "peer wrote beyond the granted window";
    case Errc::packet_too_large: return "DATA exceeds the maximum packet size";
    case Errc::bad_max_packet: return "peer advertised an invalid maximum packet size";
    case Errc::unexpected_confirm: return "open confirmation or failure for a channel not being opened";
    case Errc::window_overflow: return "window adjust overflows 2^32-1";
    case Errc::control_backlog: return "peer does not read (control frame backlog)";
    case Errc::frame_error: return "malformed qmux frame";
    }
})
}  // namespace qtalk::mux
