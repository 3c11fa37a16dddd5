// mux::detail::Event and DeferredWakes: how waiting coroutines are resumed. Outside a read batch
// every wake is a post; inside one, wakes for the batch's executor are collected and resumed
// inline by run(), write-loop (flush) wakes last, and the collection is bounded.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "mux/event.hpp"

namespace net = boost::asio;
using qtalk::mux::detail::DeferredWakes;
using qtalk::mux::detail::Event;

namespace {
// A coroutine that waits for `ev` once, then records `name` (and optionally notifies `then`).
void spawn_waiter(net::io_context& io, Event& ev, std::vector<std::string>& log, std::string name,
                  Event* then = nullptr) {
    net::co_spawn(
        io,
        [&ev, &log, name, then]() -> net::awaitable<void> {
            co_await ev.wait();
            log.push_back(name);
            if (then) then->notify();
        },
        net::detached);
}
}  // namespace

TEST(MuxEvent, NotifyOutsideABatchPostsTheWake) {
    net::io_context io;
    Event ev(io.get_executor());
    std::vector<std::string> log;
    spawn_waiter(io, ev, log, "a");
    io.poll();  // the waiter parks
    ev.notify();
    EXPECT_TRUE(log.empty());  // never resumed inside notify()
    io.poll();
    EXPECT_EQ(log, std::vector<std::string>{"a"});
}

TEST(MuxEvent, BatchResumesWakesInlineInOrderWithFlushesLast) {
    net::io_context io;
    Event a(io.get_executor()), flush(io.get_executor()), b(io.get_executor()), c(io.get_executor());
    flush.set_flush(true);
    std::vector<std::string> log;
    spawn_waiter(io, flush, log, "flush");
    spawn_waiter(io, a, log, "a", &c);  // a wakes c: c joins the same run
    spawn_waiter(io, b, log, "b");
    spawn_waiter(io, c, log, "c");
    io.poll();
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto ex = co_await net::this_coro::executor;
            DeferredWakes wakes(ex);
            flush.notify();  // first notified, still resumed last
            a.notify();
            b.notify();
            EXPECT_TRUE(log.empty());  // collected, not run inside notify()
            wakes.run();
            EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c", "flush"}));  // before any post runs
        },
        net::detached);
    io.poll();
    EXPECT_EQ(log.size(), 4u);
}

TEST(MuxEvent, BatchLeftWithoutRunPostsWhatItCollected) {
    net::io_context io;
    Event ev(io.get_executor());
    std::vector<std::string> log;
    spawn_waiter(io, ev, log, "a");
    io.poll();
    net::any_io_executor ex = io.get_executor();
    {
        DeferredWakes wakes(ex);
        ev.notify();
    }
    EXPECT_TRUE(log.empty());
    io.poll();
    io.restart();  // the first waiter's end left the context without work
    EXPECT_EQ(log, std::vector<std::string>{"a"});
    // The collection is gone: the next notify posts as usual.
    spawn_waiter(io, ev, log, "b");
    io.poll();
    ev.notify();
    io.poll();
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
}

TEST(MuxEvent, WakesForAnotherExecutorArePosted) {
    net::io_context io, other;
    Event ev(other.get_executor());
    std::vector<std::string> log;
    spawn_waiter(other, ev, log, "other");
    other.poll();
    net::any_io_executor ex = io.get_executor();
    {
        DeferredWakes wakes(ex);
        ev.notify();
        wakes.run();
        EXPECT_TRUE(log.empty());  // not this batch's executor: left to its own context
    }
    other.poll();
    EXPECT_EQ(log, std::vector<std::string>{"other"});
}

TEST(MuxEvent, CoroutinesWakingEachOtherDoNotKeepTheBatchRunning) {
    net::io_context io;
    Event ping(io.get_executor()), pong(io.get_executor());
    int rounds = 0;
    bool stop = false;
    auto player = [&](Event& mine, Event& theirs) -> net::awaitable<void> {
        while (!stop) {
            co_await mine.wait();
            ++rounds;
            theirs.notify();
        }
    };
    net::co_spawn(io, player(ping, pong), net::detached);
    net::co_spawn(io, player(pong, ping), net::detached);
    io.poll();
    net::any_io_executor ex = io.get_executor();
    {
        DeferredWakes wakes(ex);
        ping.notify();
        wakes.run();  // returns: past its bound the rest is posted
        EXPECT_GE(rounds, 1000);
        EXPECT_LT(rounds, 100000);
    }
    int after_run = rounds;
    io.poll_one();  // the posted remainder goes on through the scheduler
    EXPECT_GT(rounds, after_run);
    stop = true;
    for (int i = 0; i < 10 && io.poll() > 0; ++i) {
    }
}

TEST(MuxEvent, CancelledWaitIsNotResumedTwice) {
    net::io_context io;
    Event ev(io.get_executor());
    int resumed = 0;
    net::cancellation_signal sig;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            co_await ev.wait();
            ++resumed;
        },
        net::bind_cancellation_slot(sig.slot(), net::detached));
    io.poll();
    net::any_io_executor ex = io.get_executor();
    {
        DeferredWakes wakes(ex);
        sig.emit(net::cancellation_type::terminal);  // completes the wait (collected)
        ev.notify();                                 // nothing left to wake
        wakes.run();
    }
    io.poll();
    EXPECT_EQ(resumed, 1);
}
