// A wake-up signal for coroutines on one executor: wait() suspends until notify().
// Used in condition loops (`while (!cond) co_await ev.wait();`) on the session's executor, so
// a notify() with nobody waiting is never lost: the condition is re-checked before waiting.
#pragma once
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace qtalk::mux::detail {

class Event {
public:
    // The timer never expires; notify() cancels every pending wait. Several coroutines may
    // wait at once (the expiry is never reset, which would cancel the waits already queued).
    explicit Event(const boost::asio::any_io_executor& ex) : t_(ex, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::awaitable<void> wait() {
        co_await t_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    void notify() { t_.cancel(); }

private:
    boost::asio::steady_timer t_;
};

}  // namespace qtalk::mux::detail
