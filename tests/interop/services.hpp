// The two sides of the interop conformance suite (PROTOCOL §4.10): InteropService (the peer
// under test answers the checker and calls back) and CallbackService (the checker's side).
#pragma once
#include <memory>

#include "qtalk/rpc/respond_mux.hpp"

namespace qtalk::interop {

// /Unary, /Stream, /Bytes, /Error; everything else not found. Values and bytes are relayed
// exactly as received (encoded frames, never re-encoded). Callbacks go to the selector the call
// came in with, or, with a `callback_prefix` (through a hub), to "<prefix>.<Method>".
std::shared_ptr<rpc::RespondMux> interop_service(std::string callback_prefix = "");
// /Unary, /Stream, /Bytes as the checker serves them; streams end with CLOSE and no EOF.
std::shared_ptr<rpc::RespondMux> callback_service();

}  // namespace qtalk::interop
