// Reacting to a channel without a coroutine: Channel::watch() (see session.hpp).
// For code that runs a great many short channel exchanges (the hub's routed calls), where a
// coroutine frame and a resumption per wait cost more than the work itself.
#pragma once

namespace qtalk::mux {

namespace detail {
class DeferredWakes;
}

class Watcher {
public:
    // Runs on the session's executor after something changed on a watched channel: data, EOF,
    // CLOSE, the outcome of an open, window, a write completed, the session's end. Several
    // changes in one batch of inbound messages give one call, after the batch is applied (never
    // in the middle of the session's own processing); changes made elsewhere give one call
    // through a post. The watcher re-checks the channel's state: a call may find nothing new.
    virtual void on_channel_event() = 0;

    Watcher() = default;
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

protected:
    ~Watcher() = default;

private:
    friend class detail::DeferredWakes;
    bool queued_ = false;  // a call is collected or posted and has not run yet
};

}  // namespace qtalk::mux
