// Messages of transport::Errc.
#include "qtalk/transport/errc.hpp"

namespace qtalk::transport {
QTALK_DEFINE_ERRC(transport, {
    switch (e) {
    case Errc::eof: return "end of stream";
    case Errc::bad_url: return "invalid transport URL";
    case Errc::unsupported_scheme: return "unsupported transport scheme";
    case Errc::address_in_use: return "address already in use by a live listener";
    case Errc::not_a_socket: return "path exists and is not a socket";
    case Errc::closed: return "closed";
    case Errc::message_too_large: return "message too large";
    case Errc::handshake_failed: return "websocket handshake failed";
    }
})
}  // namespace qtalk::transport
