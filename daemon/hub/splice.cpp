// Splicing two channels (PROTOCOL §5.4, §5.5). Received DATA payloads are forwarded whole
// (split only by the destination's window/max packet), never parsed or re-encoded.
#include "hub/splice.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "hub/errors.hpp"
#include "qtalk/log.hpp"

namespace qtalkd {
using qtalk::mux::Channel;
using qtalk::rpc::Task;

namespace {

// Caller -> provider. Ends the provider side the way the caller ended its side: EOF is
// forwarded as EOF, CLOSE (or the caller's session ending) as CLOSE after the buffered bytes.
Task<void> caller_to_provider(Channel from, Channel to, std::uint64_t& moved) {
    for (;;) {
        auto chunk = co_await from.read_chunk();
        if (!chunk) break;  // caller session gone or channel closed locally
        if (chunk->empty()) {
            if (!from.closed()) {
                (void)co_await to.close_write();
                co_await from.wait_closed();
            }
            break;
        }
        auto n = chunk->size();
        if (!co_await to.write(std::move(*chunk))) co_return;  // provider gone: the other pump ends the call
        moved += n;
        from.grant(static_cast<std::uint32_t>(n));
    }
    to.close();
}

// Provider -> caller. If the provider's session dies before it sent a byte, the caller gets
// `provider unavailable`; once provider bytes exist the hub never injects a reply (§5.5).
Task<void> provider_to_caller(Channel from, Channel to, qtalk::rpc::Codec codec, std::uint64_t& moved) {
    bool any = false;
    for (;;) {
        auto chunk = co_await from.read_chunk();
        if (!chunk) {
            if (!any && chunk.error() == qtalk::mux::Errc::session_closed && !to.closed())
                co_await reply_error(to, codec, provider_unavailable(), false);
            break;
        }
        if (chunk->empty()) {
            if (!from.closed()) {
                (void)co_await to.close_write();
                co_await from.wait_closed();
            }
            break;
        }
        any = true;
        auto n = chunk->size();
        if (!co_await to.write(std::move(*chunk))) break;  // caller gone: close the provider below
        moved += n;
        from.grant(static_cast<std::uint32_t>(n));
    }
    to.close();
    from.close();
}

}  // namespace

Task<SpliceStats> splice(Channel caller, Channel provider, std::vector<std::byte> header, qtalk::rpc::Codec codec) {
    auto shared = std::make_shared<SpliceStats>();  // the upward pump may outlive this frame
    auto& st = *shared;
    caller.set_manual_credit(true);
    provider.set_manual_credit(true);
    if (!co_await provider.write(header)) {
        co_await reply_error(caller, codec, provider_unavailable(), false);
        provider.close();
        co_return *shared;
    }
    caller.grant(static_cast<std::uint32_t>(header.size()));
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(ex, [shared, caller, provider]() -> Task<void> {
        co_await caller_to_provider(caller, provider, shared->to_provider);
    }, boost::asio::detached);
    co_await provider_to_caller(provider, caller, codec, st.to_caller);
    // The provider side is finished; closing both ends the upward pump too.
    caller.close();
    provider.close();
    co_return *shared;
}

}  // namespace qtalkd
