// A wake-up signal for coroutines on one executor: wait() suspends until notify().
// Used in condition loops (`while (!cond) co_await ev.wait();`) on the session's executor, so
// a notify() with nobody waiting is never lost: the condition is re-checked before waiting.
//
// Waits are on every hot path of a session (a read waiting for data, a write waiting for
// credit, the writer waiting for frames), so an Event is a list of parked coroutine handlers,
// not a timer: no allocation and no lock per wait; notify() without waiters costs a branch,
// with waiters one post each. A pending wait honours per-operation cancellation (awaitable
// operators such as `||`).
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>

namespace qtalk::mux::detail {

class Event {
public:
    // Something other than a coroutine that reacts to this event (a splice): called inline,
    // after the parked waits are posted, on every notify(). One per event.
    struct Hook {
        virtual void on_event() = 0;

    protected:
        ~Hook() = default;
    };

    explicit Event(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
    // Pending waits complete, as after notify(): nothing stays suspended forever.
    ~Event() {
        hook_ = nullptr;
        notify();
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    // Completes after the next notify(), or early when the waiting operation is cancelled.
    auto wait() {
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(Initiate{this},
                                                                                          boost::asio::use_awaitable);
    }

    // Resumes every pending wait (each through a post, never inline), then runs the hook.
    void notify() {
        for (auto& w : waiters_) {  // complete() only posts: nothing re-enters this loop
            if (!w.handler) continue;  // cancelled
            w.slot.clear();
            complete(std::move(*w.handler));
        }
        waiters_.clear();
        if (hook_) hook_->on_event();
    }

    void set_hook(Hook* h) { hook_ = h; }

private:
    // What `co_await wait()` parks: the suspended coroutine (Asio's handler for use_awaitable).
    using Handler = boost::asio::detail::awaitable_handler<boost::asio::any_io_executor>;
    struct Waiter {
        std::uint64_t id;
        boost::asio::cancellation_slot slot;
        std::optional<Handler> handler;  // empty once cancelled (Asio's handler cannot be assigned)
    };

    struct Cancel {
        Event* ev;
        std::uint64_t id;
        void operator()(boost::asio::cancellation_type) const {
            for (auto& w : ev->waiters_) {
                if (w.id != id || !w.handler) continue;
                Handler h(std::move(*w.handler));
                w.handler.reset();
                ev->complete(std::move(h));
                return;
            }
        }
    };

    struct Initiate {
        Event* ev;
        void operator()(Handler h) const {
            auto slot = boost::asio::get_associated_cancellation_slot(h);
            auto id = ev->next_id_++;
            if (slot.is_connected()) slot.template emplace<Cancel>(Cancel{ev, id});
            auto& ws = ev->waiters_;
            while (!ws.empty() && !ws.back().handler) ws.pop_back();  // cancelled ones
            ws.push_back({id, slot, std::optional<Handler>(std::move(h))});
        }
    };

    void complete(Handler h) {
        // Runs on ex_, which is the waiting coroutine's executor.
        boost::asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(); });
    }

    boost::asio::any_io_executor ex_;
    boost::container::small_vector<Waiter, 1> waiters_;  // one waiter (the usual case) needs no allocation
    Hook* hook_ = nullptr;
    std::uint64_t next_id_ = 0;
};

}  // namespace qtalk::mux::detail
