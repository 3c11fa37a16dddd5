// One routed call (PROTOCOL §5.4, §5.5): the call header goes to the provider, then the two
// channels are joined by mux::splice, which forwards DATA payloads whole (split only by the
// destination's window/max packet), never parsed or re-encoded.
#include "hub/splice.hpp"

#include "hub/errors.hpp"
#include "qtalk/mux/splice.hpp"

namespace qtalkd {
using qtalk::mux::Channel;
using qtalk::rpc::Task;

Task<SpliceStats> splice(Channel caller, Channel provider, std::vector<std::byte> header, qtalk::rpc::Codec codec,
                         std::function<void()> forwarded) {
    caller.set_manual_credit(true);
    provider.set_manual_credit(true);
    if (!co_await provider.write(header)) {
        forwarded();
        co_await reply_error(caller, codec, provider_unavailable(), false);
        provider.close();
        co_return SpliceStats{};
    }
    caller.grant(static_cast<std::uint32_t>(header.size()));
    auto r = co_await qtalk::mux::splice(caller, provider, std::move(forwarded));
    // A provider whose session ends before it sent a byte leaves the caller waiting: the hub
    // answers `provider unavailable`; once provider bytes exist it never injects a reply (§5.5).
    if (r.lost_silent[1]) co_await reply_error(caller, codec, provider_unavailable(), false);
    caller.close();
    provider.close();
    co_return SpliceStats{r.forwarded[0], r.forwarded[1]};
}

}  // namespace qtalkd
