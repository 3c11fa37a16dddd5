// Errors of the frame layer: each is fatal for the session (the stream cannot be resynchronised).
#pragma once
#include "qtalk/errc.hpp"

namespace qtalk::frame {

enum class Errc {
    unknown_type = 1,      // type byte outside 100..106
    payload_too_large,     // DATA length above the receiver's maximum packet
};
QTALK_DECLARE_ERRC(frame)

}  // namespace qtalk::frame
QTALK_ERRC_ENABLE(qtalk::frame::Errc)
