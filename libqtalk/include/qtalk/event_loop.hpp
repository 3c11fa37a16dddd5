// EventLoopThread: an io_context running on a background thread, for programs that don't run
// an event loop themselves. run() executes a coroutine there and blocks for its result.
#pragma once
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace qtalk {

class EventLoopThread {
public:
    EventLoopThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
    ~EventLoopThread() {
        work_.reset();
        io_.stop();
        if (thread_.joinable()) thread_.join();
    }
    EventLoopThread(const EventLoopThread&) = delete;
    EventLoopThread& operator=(const EventLoopThread&) = delete;

    boost::asio::any_io_executor executor() { return io_.get_executor(); }

    // Runs `make()` (returning an awaitable<T>) on the loop and waits; exceptions propagate.
    template <class F>
    auto run(F&& make) {
        return boost::asio::co_spawn(io_, std::forward<F>(make), boost::asio::use_future).get();
    }

private:
    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace qtalk
