// The hub's own rpc methods, the reserved `qtalk.` namespace (PROTOCOL §5.3, §5.6).
#pragma once
#include "hub/hub.hpp"
#include "hub/intake.hpp"

namespace qtalkd {

struct Methods {
    Hub& hub;
    SessionId from;
    bool services_changed = false;  // register/unregister succeeded: spares need updating
    // Reads the one argument frame, answers, and (except for watch) ends the call.
    qtalk::rpc::Task<void> dispatch(qtalk::mux::Channel ch, Intake in);
};

}  // namespace qtalkd
