// One routed call (PROTOCOL §5.4, §5.5): the caller's channel and the provider's channel joined
// byte for byte. Each direction holds at most one hub window: credit goes back to the source
// only for bytes already handed to the destination, so a stalled reader stalls its writer.
#pragma once
#include <functional>

#include "hub/intake.hpp"

namespace qtalkd {

struct SpliceStats {
    std::uint64_t to_provider = 0, to_caller = 0;
};

// `header` (4+L bytes, verbatim) has been read from `caller` and not yet credited. `forwarded`
// runs once the call (header and whatever arguments the caller channel holds) is queued to the
// provider. Returns when both directions are finished and both channels closed.
qtalk::rpc::Task<SpliceStats> splice(qtalk::mux::Channel caller, qtalk::mux::Channel provider,
                                     std::vector<std::byte> header, qtalk::rpc::Codec codec,
                                     std::function<void()> forwarded);

}  // namespace qtalkd
