// Shared bench plumbing (see common.hpp): statistics, stream pairs, /proc readers.
#include "common.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>

namespace qbench {

std::string Config::listen_url(std::string_view kind) const {
    static std::atomic<int> n{0};
    if (kind == "unix") {  // appended piecewise: GCC 12 misreads `"s" + std::to_string(...)` here (-Wstringop-overflow)
        std::string name = std::to_string(n++);
        name.insert(0, 1, 's');
        name += ".sock";
        return "unix://" + (tmp / name).string();
    }
    return "tcp://127.0.0.1:0";
}

void post(Loop& l, std::function<void()> fn) { net::post(l.executor(), std::move(fn)); }

Task<void> sleep_for(Clock::duration d) {
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

double median(std::vector<double> v) { return percentile(std::move(v), 50); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
double us_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::micro>(b - a).count(); }

std::vector<StreamPair> connect_pairs(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int n) {
    auto l = qtalk::transport::listen(lb.executor(), cfg.listen_url(kind));
    if (!l) throw std::runtime_error("listen: " + l.error().message());
    std::shared_ptr<qtalk::transport::Listener> listener(std::move(*l));
    auto url = listener->url();
    return connect_via(la, lb, std::move(listener), std::move(url), n);
}

std::vector<StreamPair> connect_via(Loop& la, Loop& lb, std::shared_ptr<qtalk::transport::Listener> listener,
                                    std::string url, int n) {
    auto accepted = spawn(lb, [listener, n]() -> Task<std::vector<std::unique_ptr<Stream>>> {
        std::vector<std::unique_ptr<Stream>> out;
        for (int i = 0; i < n; ++i) {
            auto s = co_await listener->accept();
            if (!s) throw std::runtime_error("accept: " + s.error().message());
            out.emplace_back(std::move(*s));
        }
        listener->close();
        co_return out;
    });
    // Dials one at a time, so accept order matches dial order.
    auto dialed = spawn(la, [url, n]() -> Task<std::vector<std::unique_ptr<Stream>>> {
        std::vector<std::unique_ptr<Stream>> out;
        auto ex = co_await net::this_coro::executor;
        for (int i = 0; i < n; ++i) {
            auto s = co_await qtalk::transport::dial(ex, url);
            if (!s) throw std::runtime_error("dial " + url + ": " + s.error().message());
            out.emplace_back(std::move(*s));
        }
        co_return out;
    });
    auto abort = [&] { post(lb, [listener] { listener->close(); }); };
    auto as = wait_bounded(dialed, 20s, abort, "connect");
    auto bs = wait_bounded(accepted, 20s, abort, "accept");
    std::vector<StreamPair> pairs;
    for (int i = 0; i < n; ++i) pairs.push_back({std::move(as[i]), std::move(bs[i])});
    return pairs;
}

Task<void> WaitGroup::wait() {
    while (count_ > 0) {
        boost::system::error_code ec;
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

long rss_kib(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

}  // namespace qbench
