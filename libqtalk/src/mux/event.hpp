// A wake-up signal for coroutines on one executor: wait() suspends until notify().
// Used in condition loops (`while (!cond) co_await ev.wait();`) on the session's executor, so
// a notify() with nobody waiting is never lost: the condition is re-checked before waiting.
//
// Waits are on every hot path of a session (a read waiting for data, a write waiting for
// credit, the writer waiting for frames), so an Event is a list of parked coroutine handlers,
// not a timer: no allocation and no lock per wait; notify() without waiters costs a branch,
// with waiters one post each (none while a read loop collects wakes: DeferredWakes below).
// A pending wait honours per-operation cancellation (awaitable operators such as `||`).
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
#include <memory>

#include "qtalk/mux/recycled.hpp"
#include "qtalk/mux/watcher.hpp"

namespace qtalk::mux::detail {

class Event;

// Wake-ups collected while a read loop applies a batch of inbound messages, resumed inline when
// the batch is done instead of through one post each. A message read from one session typically
// wakes a coroutine (a call's intake, a reader) that queues frames and wakes a write loop; run
// through posts that is one scheduler round (and one reactor poll) per hop between receiving a
// message and sending what it caused. Resumed here, the bytes leave before the read loop reads
// again, and everything one batch caused on a session still leaves in one write (a long batch
// runs its wakes once early, so in two: see read_loop.cpp): wakes run in
// order, except that write loops (flush events) run after every other wake collected: what the
// woken coroutines queue leaves in the same write as the frames the batch itself queued.
//
// Only wakes for the batch's own executor are collected (the read loop runs on it, so resuming
// them here is as if posted to it); others are posted as usual. A collection is bounded: past
// max_inline wake-ups in one run the rest are posted, so coroutines waking each other cannot
// keep the read loop from its socket.
//
// Channel watchers (qtalk/mux/watcher.hpp) are deferred the same way: collected once per batch
// and called with the other wakes, or posted when no batch collects for their executor.
class DeferredWakes {
public:
    using Handler = boost::asio::detail::awaitable_handler<boost::asio::any_io_executor>;

    explicit DeferredWakes(const boost::asio::any_io_executor& ex) : ex_(ex), prev_(current_) { current_ = this; }
    explicit DeferredWakes(boost::asio::any_io_executor&&) = delete;  // kept by reference: pass a long-lived one
    // Anything still collected (the loop is leaving) goes through posts.
    ~DeferredWakes() {
        current_ = prev_;
        post_rest();
    }
    DeferredWakes(const DeferredWakes&) = delete;
    DeferredWakes& operator=(const DeferredWakes&) = delete;

    // Resumes what was collected, and what those wake in turn, until nothing is left. Call it
    // where the read loop would suspend: nothing it resumes runs in the middle of a message.
    void run() {
        for (std::size_t ran = 0;; ++ran) {
            const bool watcher = next_ == handlers_.size() && next_watcher_ < watchers_.size();
            auto& list = next_ < handlers_.size() ? handlers_ : flushes_;
            auto& next = &list == &handlers_ ? next_ : next_flush_;
            if (!watcher && next == list.size()) break;
            if (ran == max_inline) {
                current_ = prev_;  // collect no more: post what is left (and what it wakes)
                post_rest();
                current_ = this;
                break;
            }
            if (watcher) {
                auto w = std::move(watchers_[next_watcher_++]);
                call(*w);
                continue;
            }
            Handler h(std::move(list[next]));
            ++next;
            std::move(h)();
        }
        handlers_.clear();
        watchers_.clear();
        flushes_.clear();
        next_ = next_watcher_ = next_flush_ = 0;
    }

    // The collection a wake for `ex` joins, if any.
    static DeferredWakes* collecting(const boost::asio::any_io_executor& ex) {
        return current_ && current_->ex_ == ex ? current_ : nullptr;
    }
    void add(Handler h, bool flush) { (flush ? flushes_ : handlers_).push_back(std::move(h)); }

    static void post(const boost::asio::any_io_executor& ex, Handler h) {
        boost::asio::post(ex, [h = std::move(h)]() mutable { std::move(h)(); });
    }

    // One call of `w` on `ex`, after the batch collecting for `ex` or through a post; nothing if
    // a call is already on its way.
    static void defer(const boost::asio::any_io_executor& ex, std::shared_ptr<Watcher> w) {
        if (w->queued_) return;
        w->queued_ = true;
        if (auto* batch = collecting(ex)) batch->watchers_.push_back(std::move(w));
        else post(ex, std::move(w));
    }

private:
    static constexpr std::size_t max_inline = 4096;

    static void call(Watcher& w) {
        w.queued_ = false;  // what happens while it runs calls it again
        w.on_channel_event();
    }
    static void post(const boost::asio::any_io_executor& ex, std::shared_ptr<Watcher> w) {
        boost::asio::post(ex, [w = std::move(w)] { call(*w); });
    }

    void post_rest() {
        for (; next_ < handlers_.size(); ++next_) post(ex_, std::move(handlers_[next_]));
        for (; next_watcher_ < watchers_.size(); ++next_watcher_) post(ex_, std::move(watchers_[next_watcher_]));
        for (; next_flush_ < flushes_.size(); ++next_flush_) post(ex_, std::move(flushes_[next_flush_]));
    }

    static inline thread_local DeferredWakes* current_ = nullptr;
    const boost::asio::any_io_executor& ex_;
    DeferredWakes* prev_;
    // Inline room for a few (the collection is part of every idle session's read loop frame);
    // past that the storage comes from the per-thread block cache: a busy batch wakes dozens,
    // and the collection lives only as long as its batch. A handler is one pointer.
    template <class T, std::size_t N>
    using Vec = boost::container::small_vector<T, N, RecycledAllocator<T>>;
    using List = Vec<Handler, 4>;
    List handlers_;
    Vec<std::shared_ptr<Watcher>, 1> watchers_;
    List flushes_;
    std::size_t next_ = 0, next_watcher_ = 0, next_flush_ = 0;
};

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
    // Marks the event a write loop waits on: in a DeferredWakes collection it is resumed after
    // the other wakes, so it sends what they queued too.
    void set_flush(bool f) { flush_ = f; }

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

    void complete(Handler h);

    boost::asio::any_io_executor ex_;
    boost::container::small_vector<Waiter, 1> waiters_;  // one waiter (the usual case) needs no allocation
    Hook* hook_ = nullptr;
    std::uint64_t next_id_ = 0;
    bool flush_ = false;
};

// Runs on ex_, which is the waiting coroutine's executor: inline at the end of the read batch
// collecting wakes for it, otherwise through a post.
inline void Event::complete(Handler h) {
    if (auto* batch = DeferredWakes::collecting(ex_)) batch->add(std::move(h), flush_);
    else DeferredWakes::post(ex_, std::move(h));
}

}  // namespace qtalk::mux::detail
