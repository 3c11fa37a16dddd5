// Messages of rpc::Errc. These texts reach users (client errors, hub replies, logs), so they
// name the failure plainly; remote error texts travel separately in CallError.
#include "qtalk/rpc/errc.hpp"

namespace qtalk::rpc {
QTALK_DEFINE_ERRC(rpc, {
    switch (e) {
    case Errc::decode_failed: return "value is not valid in the codec";
    case Errc::invalid_header: return "invalid rpc header";
    case Errc::frame_too_large: return "rpc frame exceeds the size limit";
    case Errc::empty_frame: return "empty rpc frame";
    case Errc::remote_error: return "remote error";
    case Errc::not_found: return "no handler for selector";
    case Errc::closed: return "call channel closed before the expected frame";
    case Errc::protocol: return "unexpected bytes on a call channel";
    }
})
}  // namespace qtalk::rpc
