// Joining two channels byte for byte (what qtalkd does with a routed call, PROTOCOL §5.4).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "qtalk/mux/session.hpp"

namespace qtalk::mux {

struct SpliceResult {
    std::uint64_t forwarded[2] = {0, 0};  // bytes a -> b, b -> a
    // lost_silent[i]: channel i's session ended before a byte came from it through the splice.
    // The other channel is then left open (nothing reached it), for the caller to answer on
    // and close.
    bool lost_silent[2] = {false, false};
};

// Joins `a` and `b`, two open channels of sessions on one executor (one single-threaded
// io_context, or one strand). The forwarding runs inside the sessions' read and write loops: a
// DATA payload received on one channel is queued on the other as it arrives, whole unless the
// destination's window or maximum packet splits it; no coroutine runs per message. Credit goes
// back to a sender only for bytes handed to the other session, and a direction waits while the
// destination session's send budget is used up, so a direction never holds more than its
// source's receive window: a stalled reader stalls its writer (end-to-end flow control).
// EOF is forwarded as EOF; a CLOSE, a local close or the end of a session as CLOSE, once the
// bytes received before it are forwarded. Completes when both directions are done; both
// channels are closed by then, except as SpliceResult::lost_silent says. Nothing may read from
// or write to either channel meanwhile.
Task<SpliceResult> splice(Channel a, Channel b);
// The same; `started` runs once what both channels already hold is queued for the other side
// (before the first suspension), e.g. to queue something on a session behind those bytes.
Task<SpliceResult> splice(Channel a, Channel b, std::function<void()> started);
// What a splice without a coroutine reports to; the splice holds it until done() has run.
class SpliceObserver {
public:
    // Once what both channels already hold is queued for the other side (inside splice()).
    virtual void started() {}
    // On the sessions' executor when the splice completes (never inside splice()); the splice's
    // state is freed right after.
    virtual void done(const SpliceResult& r) = 0;

protected:
    ~SpliceObserver() = default;
};
// The same without a coroutine: returns once `obs->started()` has run.
void splice(Channel a, Channel b, std::shared_ptr<SpliceObserver> obs);
// The same with callbacks for started() and done().
void splice(Channel a, Channel b, std::function<void()> started, std::function<void(SpliceResult)> done);

}  // namespace qtalk::mux
