// Shared bench plumbing: the run configuration, event-loop threads, statistics, bounded waits
// for work running on those threads, and connected stream pairs over unix sockets (in the
// run's temp dir) or tcp on 127.0.0.1.
#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "qtalk/event_loop.hpp"
#include "qtalk/transport/listener.hpp"

namespace qbench {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using qtalk::transport::Stream;
template <class T>
using Task = net::awaitable<T>;
using namespace std::chrono_literals;

struct Config {
    bool quick = false;
    int reps = 5;
    std::set<std::string> only;  // empty: everything
    std::string json_path;
    std::filesystem::path bin_dir;  // where qtalk-bench (and qtalkd) live
    std::filesystem::path tmp;      // this run's private temp dir
    bool wants(const std::string& name) const { return only.empty() || only.count(name); }
    // A fresh unix socket path (unix://...) in tmp, or tcp://127.0.0.1:0.
    std::string listen_url(std::string_view kind) const;
};

inline constexpr std::string_view kinds[] = {"unix", "tcp"};

// A thread running one io_context.
using Loop = qtalk::EventLoopThread;

template <class F>
auto spawn(Loop& l, F&& f) {
    return net::co_spawn(l.executor(), std::forward<F>(f), net::use_future);
}
// Runs fn on the loop's thread (fire and forget).
void post(Loop& l, std::function<void()> fn);

struct Timeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Waits for `f` up to `limit`. On timeout runs `abort` (which must make the work finish, e.g.
// by closing the streams it waits on), waits 5 s more, then throws Timeout naming `what`.
// Exceptions from the work propagate.
template <class T>
T wait_bounded(std::future<T>& f, Clock::duration limit, const std::function<void()>& abort, const std::string& what) {
    if (f.wait_for(limit) != std::future_status::ready) {
        if (abort) abort();
        if (f.wait_for(5s) != std::future_status::ready) throw Timeout(what + ": stuck after abort");
        try {
            (void)f.get();
        } catch (...) {
        }
        throw Timeout(what + ": time limit exceeded");
    }
    return f.get();
}

Task<void> sleep_for(Clock::duration d);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double p);  // p in [0, 100], nearest rank
double ms_between(Clock::time_point a, Clock::time_point b);
double us_between(Clock::time_point a, Clock::time_point b);
constexpr double MiB = 1024.0 * 1024.0;

// n connected streams: `a` ends on la (the dialing side), `b` ends on lb (the accepting side).
// Hand each stream to a coroutine on its own loop: a stream is used (and destroyed) only there.
struct StreamPair {
    std::unique_ptr<Stream> a, b;
};
std::vector<StreamPair> connect_pairs(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int n);
// The same with a listener already open on lb, dialing `url` (which may lead there through a relay).
std::vector<StreamPair> connect_via(Loop& la, Loop& lb, std::shared_ptr<qtalk::transport::Listener> listener,
                                    std::string url, int n);

// Counts sub-coroutines on one executor; wait() completes when all called done().
class WaitGroup {
public:
    explicit WaitGroup(net::any_io_executor ex) : timer_(ex, Clock::time_point::max()) {}
    void add(int n = 1) { count_ += n; }
    void done() {
        if (--count_ == 0) timer_.cancel();
    }
    Task<void> wait();

private:
    net::steady_timer timer_;
    int count_ = 0;
};

// Resident set size of a process in KiB (/proc/PID/status VmRSS), -1 if unreadable.
long rss_kib(int pid);

}  // namespace qbench
