// Figure 5, slow consumer: a caller streams N bytes through a qtalkd process to a provider that
// reads at a fixed rate (slower than the path) with a 256 KiB window, so backpressure reaches
// the hub. Peak hub VmRSS growth (sampled every 5 ms) must stay bounded by the hub's windows
// (4 MiB per direction) and not grow with N: 1 GiB vs 256 MiB (quick: 256 vs 64 MiB).
#include <thread>

#include "measurements.hpp"
#include "process.hpp"
#include "qtalk/rpc/responder.hpp"

namespace qbench {
namespace {

using qtalk::mux::Session;
namespace rpc = qtalk::rpc;

constexpr double consumer_rate = 256 * MiB;  // bytes/s the provider reads at

// The provider's handler: continue, then read at `rate` until EOF.
Task<void> slow_sink(rpc::Responder& r, rpc::Call& c, double rate) {
    auto p = co_await r.continue_with(nullptr);
    if (!p) co_return;
    std::vector<std::byte> buf(64 * 1024);
    auto t0 = Clock::now();
    double total = 0;
    for (;;) {
        auto n = co_await (*p)->read_some(buf);
        if (!n || *n == 0) break;
        total += double(*n);
        auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(total / rate));
        if (due > Clock::now()) co_await sleep_for(due - Clock::now());
    }
}

Task<std::shared_ptr<Session>> start_provider(std::string url) {
    auto s = co_await qtalk::transport::dial(co_await net::this_coro::executor, url);
    if (!s) throw std::runtime_error("dial hub: " + s.error().message());
    qtalk::mux::Options mo;
    mo.window = 256 * 1024;  // small: the hub, not the provider, holds what is in flight
    auto sess = Session::start(std::move(*s), mo);
    rpc::ServeOptions so;
    so.codec = rpc::Codec::cbor;
    rpc::serve(sess, [](rpc::Responder& r, rpc::Call& c) { return slow_sink(r, c, consumer_rate); }, so);
    nlohmann::json args;
    args["name"] = "sink";
    auto r = co_await rpc::Client(sess, rpc::Codec::cbor).call("qtalk.register", args);
    if (!r) throw std::runtime_error("register: " + r.error().to_string());
    co_return sess;
}

Task<rpc::Client> start_caller(std::string url) {
    auto s = co_await qtalk::transport::dial(co_await net::this_coro::executor, url);
    if (!s) throw std::runtime_error("dial hub: " + s.error().message());
    co_return rpc::Client(Session::start(std::move(*s)), rpc::Codec::cbor);
}

// Streams `total` bytes in 1 MiB writes, half-closes, waits for the provider's end of stream.
Task<double> stream_through(rpc::Client c, std::size_t total) {
    auto r = co_await c.call("sink", nullptr);
    if (!r || !r->continued) throw std::runtime_error("sink call: " + (r ? std::string("not continued") : r.error().to_string()));
    auto pipe = r->pipe;
    std::vector<std::byte> buf(1u << 20, std::byte{0x5a});
    auto t0 = Clock::now();
    for (std::size_t sent = 0; sent < total;) {
        auto k = std::min(buf.size(), total - sent);
        if (!co_await pipe.write(std::span(buf).first(k))) throw std::runtime_error("stream write failed");
        sent += k;
    }
    (void)co_await pipe.close_write();
    std::byte b[256];
    for (;;) {
        auto n = co_await pipe.read_some(b);
        if (!n || *n == 0) break;
    }
    auto secs = std::chrono::duration<double>(Clock::now() - t0).count();
    pipe.abort();
    co_return secs;
}

struct Trial {
    double growth_mib, seconds;
};

Trial trial(const Config& cfg, std::string_view kind, std::size_t total) {
    std::string err;
    auto hub = HubProcess::start(cfg, &err);
    if (!hub) throw std::runtime_error(err);
    Loop lc, lp;
    auto fp = spawn(lp, start_provider(hub->url(kind)));
    auto provider = wait_bounded(fp, 10s, {}, "provider");
    auto fc = spawn(lc, start_caller(hub->url(kind)));
    auto caller = wait_bounded(fc, 10s, {}, "caller");
    std::this_thread::sleep_for(200ms);
    long before = hub->rss_kib(), peak = before;
    auto f = spawn(lc, stream_through(caller, total));
    auto limit = Clock::now() + 20s + std::chrono::seconds(long(double(total) / consumer_rate * 3));
    while (f.wait_for(5ms) != std::future_status::ready) {
        peak = std::max(peak, hub->rss_kib());
        if (Clock::now() > limit) {
            post(lc, [caller] { caller.session()->close(); });
            f.wait_for(5s);
            throw Timeout("slow consumer: time limit exceeded");
        }
    }
    peak = std::max(peak, hub->rss_kib());
    double secs = f.get();
    spawn(lc, [c = std::move(caller)]() mutable -> Task<void> {
        c.session()->close();
        c = rpc::Client();
        co_return;
    }).wait_for(5s);
    spawn(lp, [p = std::move(provider)]() mutable -> Task<void> {
        p->close();
        p.reset();
        co_return;
    }).wait_for(5s);
    return {double(peak - before) / 1024.0, secs};
}

}  // namespace

void run_slow_consumer(const Config& cfg, Report& report) {
    const std::size_t small = cfg.quick ? (64u << 20) : (256u << 20);
    const std::size_t large = cfg.quick ? (256u << 20) : (1u << 30);
    for (auto kind : kinds) {
        auto s = trial(cfg, kind, small);
        auto l = trial(cfg, kind, large);
        Row r;
        r.group = "slow_consumer";
        r.metric = "hub RSS growth, slow consumer " + std::to_string(large >> 20) + " MiB [" + std::string(kind) + "]";
        r.unit = "MiB";
        r.value = l.growth_mib;
        r.baseline = s.growth_mib;
        r.baseline_label = std::to_string(small >> 20) + " MiB stream";
        r.goals = {{Goal::value_le, 8.0}};
        double rate = double(large) / MiB / l.seconds;
        char note[160];
        std::snprintf(note, sizeof note, "stream ran at %.0f MiB/s (consumer reads at %.0f MiB/s); one run per size",
                      rate, consumer_rate / MiB);
        r.note = note;
        report.add(r);
        std::cout << "   " << r.metric << ": " << format_number(r.value) << " MiB (" << format_number(r.baseline)
                  << " MiB for " << (small >> 20) << " MiB), " << format_number(rate) << " MiB/s" << std::endl;
    }
}

}  // namespace qbench
