// Messages of frame::Errc (PROTOCOL §2.2). Both codes are fatal for the session: once a frame
// cannot be decoded the byte stream cannot be resynchronised. mux translates them into its own Errc.
#include "qtalk/frame/errc.hpp"

namespace qtalk::frame {

QTALK_DEFINE_ERRC(frame, {
    switch (e) {
    case Errc::unknown_type: return "unknown qmux message type";
    case Errc::payload_too_large: return "DATA payload exceeds maximum packet";
    }
})

}  // namespace qtalk::frame
