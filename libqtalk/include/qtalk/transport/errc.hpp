// Errors of the transport layer (URLs, dial/listen, end of stream).
#pragma once
#include "qtalk/errc.hpp"

namespace qtalk::transport {

enum class Errc {
    eof = 1,              // the peer ended the byte stream cleanly
    bad_url,              // not a valid transport URL
    unsupported_scheme,   // scheme known but not available for this operation
    address_in_use,       // a live listener already owns the address / unix path
    not_a_socket,         // unix path exists and is not a socket
    closed,               // the stream or listener was closed locally
    message_too_large,    // (ws) a message above the configured limit
    handshake_failed,     // (ws) upgrade refused or malformed
};
QTALK_DECLARE_ERRC(transport)

}  // namespace qtalk::transport
QTALK_ERRC_ENABLE(qtalk::transport::Errc)
