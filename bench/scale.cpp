// Figure 4, scale. (a) 10,000 idle sessions on a qtalkd process: VmRSS growth per session and
// the time until the hub has them all, vs a raw acceptor process (this binary, --serve-raw)
// that accepts the same connections and keeps one 512-byte read pending on each; unix and tcp.
// (b) Routing with 1,000 registered services vs 1 (two hubs, samples interleaved), over unix.
#include <fcntl.h>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "measurements.hpp"
#include "process.hpp"
#include "qtalk/rpc/responder.hpp"

namespace qbench {
namespace {

using qtalk::mux::Session;
namespace rpc = qtalk::rpc;

struct Clients {  // lives on the client loop
    std::vector<std::unique_ptr<Stream>> streams;
    std::string error;
};

// Dials `url` n times, `parallel` dials in flight, keeping every stream open (idle).
Task<void> connect_many(std::string url, int n, int parallel, std::shared_ptr<Clients> c, Clock::time_point deadline) {
    auto ex = co_await net::this_coro::executor;
    auto wg = std::make_shared<WaitGroup>(ex);
    auto next = std::make_shared<int>(0);
    for (int p = 0; p < parallel; ++p) {
        wg->add();
        net::co_spawn(ex, [=]() -> Task<void> {
            while (*next < n && c->error.empty()) {
                ++*next;
                for (int attempt = 0;; ++attempt) {
                    auto s = co_await qtalk::transport::dial(ex, url);
                    if (s) {
                        c->streams.push_back(std::move(*s));
                        break;
                    }
                    if (attempt > 100 || Clock::now() > deadline) {
                        c->error = "dial " + url + ": " + s.error().message();
                        break;
                    }
                    co_await sleep_for(2ms);  // e.g. a full unix backlog (EAGAIN)
                }
            }
            wg->done();
        }, net::detached);
    }
    co_await wg->wait();
}

void release(Loop& l, std::shared_ptr<Clients> c) {
    spawn(l, [c]() -> Task<void> {
        c->streams.clear();
        co_return;
    }).wait_for(10s);
}

// Reads one line from fd until `deadline` ("" on time-out or EOF).
std::string read_line(int fd, Clock::time_point deadline) {
    std::string line;
    char ch;
    while (Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        if (::read(fd, &ch, 1) != 1) break;
        if (ch == '\n') return line;
        line += ch;
    }
    return {};
}

struct IdleResult {
    double kib_per_session = 0, accept_ms = 0;
};

// Connects n idle clients to a process `pid` listening on `url`; `all_accepted()` blocks until
// the server has them all.
IdleResult idle_trial(Loop& lc, const std::string& url, int pid, int n, const std::function<bool()>& all_accepted) {
    std::this_thread::sleep_for(200ms);
    long before = rss_kib(pid);
    auto clients = std::make_shared<Clients>();
    auto t0 = Clock::now();
    auto f = spawn(lc, connect_many(url, n, 64, clients, t0 + 60s));
    wait_bounded(f, 70s, {}, "connect idle sessions");
    bool ok = all_accepted();
    auto t1 = Clock::now();
    std::this_thread::sleep_for(300ms);
    long after = rss_kib(pid);
    auto err = clients->error;  // written on lc, read after the future: ordered
    release(lc, clients);
    if (!err.empty()) throw std::runtime_error(err);
    if (!ok) throw std::runtime_error("server did not report every session accepted");
    return {double(after - before) / n, ms_between(t0, t1)};
}

Task<long> admin_session_count(rpc::Client admin) {
    auto r = co_await admin.call("qtalk.admin.stats", nullptr);
    if (!r) throw std::runtime_error("qtalk.admin.stats: " + r.error().to_string());
    co_return r->value.at("sessions").get<long>();
}

rpc::Handler echo_handler() {
    return [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.reply(c.args); };
}

void idle_sessions(const Config& cfg, Report& report, int n) {
    Loop lc, ladmin;
    for (auto kind : kinds) {
        std::vector<double> hub_kib, hub_ms, raw_kib, raw_ms;
        int reps = cfg.reps;
        for (int rep = 0; rep < reps; ++rep) {
            {   // qtalkd
                std::string err;
                auto hub = HubProcess::start(cfg, &err);
                if (!hub) throw std::runtime_error(err);
                auto admin_url = hub->admin_url;
                auto admin = spawn(ladmin, [admin_url]() -> Task<rpc::Client> {
                    auto s = co_await qtalk::transport::dial(co_await net::this_coro::executor, admin_url);
                    if (!s) throw std::runtime_error("dial admin: " + s.error().message());
                    co_return rpc::Client(Session::start(std::move(*s)), rpc::Codec::json);
                });
                auto client = wait_bounded(admin, 10s, {}, "admin connect");
                auto count = [&] {
                    auto f = spawn(ladmin, admin_session_count(client));
                    return wait_bounded(f, 10s, {}, "admin stats");
                };
                count();  // the admin session is up before `before` is sampled
                auto r = idle_trial(lc, hub->url(kind), hub->pid, n, [&] {
                    auto end = Clock::now() + 60s;
                    while (count() < n + 1) {
                        if (Clock::now() > end) return false;
                        std::this_thread::sleep_for(5ms);
                    }
                    return true;
                });
                hub_kib.push_back(r.kib_per_session);
                hub_ms.push_back(r.accept_ms);
                spawn(ladmin, [c = std::move(client)]() mutable -> Task<void> {
                    c.session()->close();
                    c = rpc::Client();  // released on its loop
                    co_return;
                }).wait_for(5s);
                hub->stop();
            }
            {   // raw acceptor process
                int fds[2];
                if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
                auto url = cfg.listen_url(kind);
                pid_t pid = spawn_process({(cfg.bin_dir / "qtalk-bench").string(), "--serve-raw", url, std::to_string(n)},
                                          {}, cfg.tmp / "serve-raw.log", fds[1]);
                ::close(fds[1]);
                auto ready = read_line(fds[0], Clock::now() + 10s);
                if (!ready.starts_with("ready ")) {
                    stop_process(pid);
                    ::close(fds[0]);
                    throw std::runtime_error("raw acceptor did not start");
                }
                auto r = idle_trial(lc, ready.substr(6), pid, n,
                                    [&] { return read_line(fds[0], Clock::now() + 60s) == "accepted"; });
                raw_kib.push_back(r.kib_per_session);
                raw_ms.push_back(r.accept_ms);
                stop_process(pid);
                ::close(fds[0]);
            }
        }
        std::string v = " " + std::to_string(n) + " idle sessions [" + std::string(kind) + "]";
        Row a;
        a.group = "scale";
        a.metric = "RSS per session," + v;
        a.unit = "KiB";
        a.value = median(hub_kib);
        a.baseline = median(raw_kib);
        a.pairs = pair_ratios(hub_kib, raw_kib);
        a.baseline_label = "raw acceptor";
        a.goals = {{Goal::value_le, 8.0}};
        a.note = "Go qmux server reference ~10 KiB/session; median of " + std::to_string(reps) + " runs";
        report.add(a);
        Row b;
        b.group = "scale";
        b.metric = "accept time," + v;
        b.unit = "ms";
        b.value = median(hub_ms);
        b.baseline = median(raw_ms);
        b.pairs = pair_ratios(hub_ms, raw_ms);
        b.baseline_label = "raw acceptor";
        report.add(b);
        std::cout << "  " << v << ": " << format_number(a.value) << " KiB/session (raw " << format_number(a.baseline)
                  << "), accept " << format_number(b.value) << " ms (raw " << format_number(b.baseline) << ")"
                  << std::endl;
    }
}

// Registers `names` from one provider session (serving echo) at the hub's unix socket.
Task<std::shared_ptr<Session>> provider(std::string url, std::vector<std::string> names) {
    auto s = co_await qtalk::transport::dial(co_await net::this_coro::executor, url);
    if (!s) throw std::runtime_error("dial hub: " + s.error().message());
    auto sess = Session::start(std::move(*s));
    rpc::ServeOptions so;
    so.codec = rpc::Codec::cbor;
    rpc::serve(sess, echo_handler(), so);
    rpc::Client c(sess, rpc::Codec::cbor);
    for (auto& n : names) {
        nlohmann::json args;
        args["name"] = n;
        auto r = co_await c.call("qtalk.register", args);
        if (!r) throw std::runtime_error("register " + n + ": " + r.error().to_string());
    }
    co_return sess;
}

Task<std::vector<double>> route_sample(rpc::Client c, std::vector<std::string> selectors, Clock::time_point from,
                                       Clock::time_point until) {
    std::vector<double> lat;
    const nlohmann::json payload = std::string(64, 'x');
    for (std::size_t i = 0; Clock::now() < until; ++i) {
        auto t = Clock::now();
        auto r = co_await c.call(selectors[(i * 7919) % selectors.size()], payload);
        auto now = Clock::now();
        if (!r) throw std::runtime_error("routed call: " + r.error().to_string());
        if (t >= from && now <= until) lat.push_back(us_between(t, now));
    }
    co_return lat;
}

void many_services(const Config& cfg, Report& report, int services) {
    Loop lcall, lprov;
    std::string err;
    auto one = HubProcess::start(cfg, &err);
    auto many = one ? HubProcess::start(cfg, &err) : nullptr;
    if (!one || !many) throw std::runtime_error(err);
    std::vector<std::string> names;
    for (int i = 0; i < services; ++i) {
        char b[16];
        std::snprintf(b, sizeof b, "svc%04d", i);
        names.push_back(b);
    }
    auto p1 = spawn(lprov, provider(one->unix_url, {names[0]}));
    auto pn = spawn(lprov, provider(many->unix_url, names));
    auto s1 = wait_bounded(p1, 60s, {}, "register 1 service");
    auto sn = wait_bounded(pn, 60s, {}, "register services");
    auto dial = [&](std::string url) {
        auto f = spawn(lcall, [url]() -> Task<rpc::Client> {
            auto s = co_await qtalk::transport::dial(co_await net::this_coro::executor, url);
            if (!s) throw std::runtime_error("dial hub: " + s.error().message());
            co_return rpc::Client(Session::start(std::move(*s)), rpc::Codec::cbor);
        });
        return wait_bounded(f, 10s, {}, "dial hub");
    };
    auto c1 = dial(one->unix_url), cn = dial(many->unix_url);
    std::vector<std::string> sel1{names[0] + ".echo"}, seln;
    for (auto& n : names) seln.push_back(n + ".echo");
    const auto warm = cfg.quick ? 30ms : 100ms, span = cfg.quick ? 150ms : 500ms;
    std::vector<double> p50_1, p50_n;
    auto abort = [&] { post(lcall, [c1, cn] { c1.session()->close(); cn.session()->close(); }); };
    for (int rep = 0; rep < cfg.reps; ++rep) {
        for (int which = 0; which < 2; ++which) {
            bool first_many = rep % 2;
            bool use_many = which == 0 ? first_many : !first_many;
            auto now = Clock::now();
            auto f = spawn(lcall, route_sample(use_many ? cn : c1, use_many ? seln : sel1, now + warm, now + warm + span));
            auto lat = wait_bounded(f, warm + span + 10s, abort, "routing sample");
            (use_many ? p50_n : p50_1).push_back(percentile(lat, 50));
        }
    }
    Row r;
    r.group = "scale";
    r.metric = "routed p50 RTT, " + std::to_string(services) + " services [unix]";
    r.unit = "us";
    r.value = median(p50_n);
    r.baseline = median(p50_1);
    r.pairs = pair_ratios(p50_n, p50_1);
    r.baseline_label = "1 service";
    r.goals = {{Goal::ratio_le, 1.10}};
    report.add(r);
    std::cout << "   routing: " << format_number(r.value) << " us with " << services << " services, "
              << format_number(r.baseline) << " us with 1" << std::endl;
    spawn(lcall, [c1 = std::move(c1), cn = std::move(cn)]() mutable -> Task<void> {
        c1.session()->close();
        cn.session()->close();
        c1 = cn = rpc::Client();
        co_return;
    }).wait_for(5s);
    spawn(lprov, [s1 = std::move(s1), sn = std::move(sn)]() mutable -> Task<void> {
        s1->close();
        sn->close();
        s1.reset();
        sn.reset();
        co_return;
    }).wait_for(5s);
}

}  // namespace

void run_scale(const Config& cfg, Report& report) {
    long limit = raise_nofile();
    int n = cfg.quick ? 1000 : 10000;
    if (n + 200 > limit) {
        int allowed = static_cast<int>(limit) - 200;
        report.note("scale: RLIMIT_NOFILE hard limit " + std::to_string(limit) + " allows only " +
                    std::to_string(allowed) + " of " + std::to_string(n) + " idle sessions");
        n = allowed;
    }
    idle_sessions(cfg, report, n);
    many_services(cfg, report, cfg.quick ? 100 : 1000);
}

// The raw acceptor: accepts on URL, keeps a 512-byte read pending on every connection (what an
// idle qmux session does), prints "ready URL" once listening and "accepted" at the N-th one.
int serve_raw_main(int argc, char** argv) {
    if (argc < 4) return 2;
    std::string url = argv[2];
    long n = std::atol(argv[3]);
    raise_nofile();
    net::io_context io(1);
    auto l = qtalk::transport::listen(io.get_executor(), url);
    if (!l) {
        std::fprintf(stderr, "serve-raw: listen %s: %s\n", url.c_str(), l.error().message().c_str());
        return 1;
    }
    std::shared_ptr<qtalk::transport::Listener> listener(std::move(*l));
    std::printf("ready %s\n", listener->url().c_str());
    std::fflush(stdout);
    net::co_spawn(io, [listener, n]() -> Task<void> {
        auto ex = co_await net::this_coro::executor;
        for (long count = 0;;) {
            auto s = co_await listener->accept();
            if (!s) co_return;
            net::co_spawn(ex, [s = std::shared_ptr<Stream>(std::move(*s))]() -> Task<void> {
                std::vector<std::byte> buf(512);
                while (co_await s->read_some(buf)) {
                }
            }, net::detached);
            if (++count == n) {
                std::printf("accepted\n");
                std::fflush(stdout);
            }
        }
    }, net::detached);
    io.run();
    return 0;
}

}  // namespace qbench
