// Running coroutine tests on a real io_context with a time bound.
#pragma once
#include <chrono>
#include <exception>
#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "qtalk/log.hpp"

namespace qtalk::test {

using namespace std::chrono_literals;

// Runs `body(io)` as a coroutine on a fresh io_context, at most `limit`; fails the test on
// timeout or exception. Everything else left running on the context is abandoned.
inline void run_async(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body,
                      std::chrono::milliseconds limit = 20s) {
    if (std::getenv("QTALK_TEST_LOG")) qtalk::log::to_stderr(spdlog::level::trace);
    boost::asio::io_context io;
    bool done = false;
    std::exception_ptr err;
    boost::asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
        done = true;
        err = e;
        io.stop();
    });
    io.run_for(limit);
    if (err) {
        try {
            std::rethrow_exception(err);
        } catch (const std::exception& e) {
            FAIL() << "exception: " << e.what();
        }
    }
    EXPECT_TRUE(done) << "test coroutine did not finish within " << limit.count() << " ms";
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// Polls `cond` every 5 ms until true or `limit` passes; returns the final value.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> cond, std::chrono::milliseconds limit = 5s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) co_return false;
        co_await sleep_for(5ms);
    }
    co_return true;
}

}  // namespace qtalk::test
