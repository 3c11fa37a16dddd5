// Messages of frame::Errc.
#include "qtalk/frame/errc.hpp"

namespace qtalk::frame {
QTALK_DEFINE_ERRC(frame, {
    switch (e) {
    case Errc::unknown_type: return "unknown qmux message type";
    case Errc::payload_too_large: return "DATA payload exceeds maximum packet";
    }
})
}  // namespace qtalk::frame
