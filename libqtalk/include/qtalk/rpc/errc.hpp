// Errors of the rpc layer (codecs, framing, calls). Lower-layer errors are translated into these.
#pragma once
#include "qtalk/errc.hpp"

namespace qtalk::rpc {

enum class Errc {
    decode_failed = 1,     // a value frame is not valid in the codec
    invalid_header,        // a call/response header has the wrong shape
    frame_too_large,       // a frame length above the configured limit
    empty_frame,           // a frame of length 0
    remote_error,          // the responder replied with Error set
    not_found,             // no handler for the selector
    closed,                // the call's channel ended before the expected frame
    protocol,              // unexpected bytes on a call channel
};
QTALK_DECLARE_ERRC(rpc)

}  // namespace qtalk::rpc
QTALK_ERRC_ENABLE(qtalk::rpc::Errc)
