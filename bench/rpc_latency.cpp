// Figure 3, rpc unary echo of a 64-byte string (JSON and CBOR), 1 and 32 calls in flight:
// direct peer-to-peer vs a raw ping-pong of 64-byte messages on the same transport, and through
// a qtalkd process vs direct (goal: hub p50 RTT <= 1.6x direct). Caller and responder run on
// separate threads; each sample runs for a fixed window after a warm-up; unix and tcp.
// With 32 calls in flight everything is CPU-bound, and on a 2-core machine two endpoint threads
// plus qtalkd are three busy threads on two cores; so x32 is measured a second time with caller
// and responder sharing one thread (the same for raw, direct and hub), which leaves qtalkd a
// core of its own as on a real server.
// A byte relay process (relay.hpp) in qtalkd's place shows what the extra process and its socket
// crossings cost with no protocol work at all.
#include <algorithm>
#include <deque>
#include <map>

#include <boost/asio/detached.hpp>

#include "measurements.hpp"
#include "process.hpp"
#include "qtalk/rpc/responder.hpp"
#include "relay.hpp"

namespace qbench {
namespace {

using qtalk::mux::Session;
namespace rpc = qtalk::rpc;

constexpr std::size_t payload_size = 64;

struct Window {
    Clock::time_point from, until;
};

struct Sample {
    std::vector<double> lat_us;
    double seconds = 0;
    double p50() const { return percentile(lat_us, 50); }
    double p99() const { return percentile(lat_us, 99); }
    double rate() const { return double(lat_us.size()) / seconds; }
};

// Objects that live on one loop; main holds the pointer but touches the contents only through
// coroutines or posts on that loop.
struct Side {
    std::vector<std::shared_ptr<Stream>> streams;
    std::vector<std::shared_ptr<Session>> sessions;
    void close() {
        for (auto& s : sessions) s->close();
        for (auto& s : streams) s->close();
    }
    void release() {
        close();
        sessions.clear();
        streams.clear();
    }
};

Task<bool> read_exact(Stream& s, std::span<std::byte> buf) {
    for (std::size_t have = 0; have < buf.size();) {
        auto n = co_await s.read_some(buf.subspan(have));
        if (!n) co_return false;
        have += *n;
    }
    co_return true;
}

// The baseline: k messages in flight on one stream, each echoed by the peer.
Task<Sample> raw_sample(std::shared_ptr<Stream> s, int k, Window w) {
    std::vector<std::byte> out(payload_size, std::byte{'x'}), in(payload_size);
    net::const_buffer cb(out.data(), out.size());
    std::deque<Clock::time_point> sent;
    Sample smp;
    smp.seconds = std::chrono::duration<double>(w.until - w.from).count();
    auto send = [&]() -> Task<bool> {
        sent.push_back(Clock::now());
        co_return bool(co_await s->write(std::span(&cb, 1)));
    };
    for (int i = 0; i < k; ++i)
        if (!co_await send()) throw std::runtime_error("raw write failed");
    while (!sent.empty()) {
        if (!co_await read_exact(*s, in)) throw std::runtime_error("raw read failed");
        auto now = Clock::now();
        auto t = sent.front();
        sent.pop_front();
        if (t >= w.from && now <= w.until) smp.lat_us.push_back(us_between(t, now));
        if (now < w.until && !co_await send()) throw std::runtime_error("raw write failed");
    }
    co_return smp;
}

Task<void> raw_echo(std::shared_ptr<Stream> s) {
    std::vector<std::byte> buf(64 * 1024);
    for (;;) {
        auto n = co_await s->read_some(buf);
        if (!n) co_return;
        net::const_buffer cb(buf.data(), *n);
        if (!co_await s->write(std::span(&cb, 1))) co_return;
    }
}

// k workers calling `selector` back to back.
Task<Sample> rpc_sample(rpc::Client client, std::string selector, int k, Window w) {
    auto ex = co_await net::this_coro::executor;
    auto smp = std::make_shared<Sample>();
    smp->seconds = std::chrono::duration<double>(w.until - w.from).count();
    auto err = std::make_shared<std::string>();
    auto wg = std::make_shared<WaitGroup>(ex);
    const nlohmann::json payload = std::string(payload_size, 'x');
    for (int i = 0; i < k; ++i) {
        wg->add();
        net::co_spawn(ex, [=]() mutable -> Task<void> {
            while (Clock::now() < w.until && err->empty()) {
                auto t = Clock::now();
                auto r = co_await client.call(selector, payload);
                auto now = Clock::now();
                if (!r) *err = selector + ": " + r.error().to_string();
                else if (t >= w.from && now <= w.until) smp->lat_us.push_back(us_between(t, now));
            }
            wg->done();
        }, net::detached);
    }
    co_await wg->wait();
    if (!err->empty()) throw std::runtime_error(*err);
    co_return *smp;
}

rpc::Handler echo_handler() {
    return [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.reply(c.args); };
}

rpc::ServeOptions serve_options(rpc::Codec codec) {
    rpc::ServeOptions so;
    so.codec = codec;
    return so;
}

// One configuration's client: raw stream, or an rpc client with the selector it calls.
struct Target {
    std::string name;  // "raw", "direct", "relay", "hub"
    std::string kind;
    bool one_thread = false;  // caller and responder share the callers' loop
    rpc::Codec codec = rpc::Codec::cbor;
    std::shared_ptr<Stream> raw;
    rpc::Client client;
    std::string selector;
    std::map<int, std::vector<Sample>> samples;  // by calls in flight
};

struct Agg {
    double p50, p99, rate;
};
Agg aggregate(const std::vector<Sample>& v) {
    std::vector<double> a, b, c;
    for (auto& s : v) {
        a.push_back(s.p50());
        b.push_back(s.p99());
        c.push_back(s.rate());
    }
    return {median(a), median(b), median(c)};
}

}  // namespace

void run_rpc(const Config& cfg, Report& report) {
    const auto warm = cfg.quick ? 30ms : 100ms;
    const auto span = cfg.quick ? 120ms : 500ms;
    const int inflight[] = {1, 32};
    const rpc::Codec codecs[] = {rpc::Codec::json, rpc::Codec::cbor};

    std::string err;
    auto hub = HubProcess::start(cfg, &err);
    if (!hub) throw std::runtime_error(err);
    if (!hub->ready_by_notify) report.note("rpc: qtalkd sent no READY=1; readiness by first connect");

    Loop la, lb;  // la: callers, lb: responders / providers
    auto client_side = std::make_shared<Side>();
    auto server_side = std::make_shared<Side>();
    std::vector<std::shared_ptr<Target>> targets;
    // Targets compared with each other (raw, then direct and hub per codec), one group per
    // transport and thread layout: a group's samples of one repetition run back to back.
    std::vector<std::vector<std::shared_ptr<Target>>> groups;

    // The byte relay: a listener per transport, layout and codec on the responders' loop (in
    // add_targets' order below), each reached through a route of one relay process.
    struct Layout {
        std::string_view kind;
        Loop* rl;
        std::shared_ptr<Side> rside;
        bool one_thread;
    };
    std::vector<Layout> layouts;
    for (auto kind : kinds) {
        layouts.push_back({kind, &lb, server_side, false});
        layouts.push_back({kind, &la, client_side, true});
    }
    std::vector<std::shared_ptr<qtalk::transport::Listener>> relay_targets;
    std::vector<RelayProcess::Route> routes;
    for (auto& lay : layouts)
        for (std::size_t c = 0; c < std::size(codecs); ++c) {
            auto l = qtalk::transport::listen(lay.rl->executor(), cfg.listen_url(lay.kind));
            if (!l) throw std::runtime_error("listen: " + l.error().message());
            relay_targets.emplace_back(std::move(*l));
            routes.push_back({std::string(lay.kind), relay_targets.back()->url()});
        }
    auto relay = RelayProcess::start(cfg, routes, &err);
    if (!relay) throw std::runtime_error(err);

    // Targets for one transport; responders run on `rl` (la itself when one_thread).
    auto add_targets = [&](const Layout& lay, std::size_t first_route) {
        const auto kind = lay.kind;
        auto& rl = *lay.rl;
        const auto& rside = lay.rside;
        const bool one_thread = lay.one_thread;
        std::string k(kind);
        const auto first = targets.size();
        {   // raw ping-pong
            auto p = connect_pairs(cfg, kind, la, rl, 1);
            auto t = std::make_shared<Target>();
            t->name = "raw";
            t->kind = k;
            t->one_thread = one_thread;
            t->raw = std::move(p[0].a);
            spawn(la, [t, client_side]() -> Task<void> { client_side->streams.push_back(t->raw); co_return; }).get();
            spawn(rl, [s = std::shared_ptr<Stream>(std::move(p[0].b)), rside]() -> Task<void> {
                rside->streams.push_back(s);
                net::co_spawn(co_await net::this_coro::executor, raw_echo(s), net::detached);
            }).get();
            targets.push_back(t);
        }
        for (std::size_t c = 0; c < std::size(codecs); ++c) {
            const auto codec = codecs[c];
            // One provider per name: two providers of one name would share its calls round-robin.
            std::string sel = std::string("echo-") + rpc::codec_name(codec) + "-" + k + (one_thread ? "-1t" : "");
            // A session pair (through whatever joins the streams), the responder serving every call with echo.
            auto add_peers = [&](std::string name, StreamPair p) {
                auto t = std::make_shared<Target>();
                t->name = std::move(name);
                t->kind = k;
                t->one_thread = one_thread;
                t->codec = codec;
                t->selector = sel;
                spawn(rl, [s = std::move(p.b), rside, codec]() mutable -> Task<void> {
                    auto sess = Session::start(std::move(s));
                    rpc::serve(sess, echo_handler(), serve_options(codec));
                    rside->sessions.push_back(sess);
                    co_return;
                }).get();
                spawn(la, [s = std::move(p.a), client_side, t]() mutable -> Task<void> {
                    auto sess = Session::start(std::move(s));
                    client_side->sessions.push_back(sess);
                    t->client = rpc::Client(sess, t->codec);
                    co_return;
                }).get();
                targets.push_back(t);
            };
            add_peers("direct", std::move(connect_pairs(cfg, kind, la, rl, 1)[0]));
            add_peers("relay", std::move(connect_via(la, rl, relay_targets[first_route + c], relay->url(first_route + c), 1)[0]));
            {   // through the hub: a provider registers `sel`, a caller calls it
                auto url = hub->url(kind);
                auto reg = spawn(rl, [url, rside, codec, sel]() -> Task<void> {
                    auto ex = co_await net::this_coro::executor;
                    auto s = co_await qtalk::transport::dial(ex, url);
                    if (!s) throw std::runtime_error("dial hub: " + s.error().message());
                    auto sess = Session::start(std::move(*s));
                    rside->sessions.push_back(sess);
                    rpc::serve(sess, echo_handler(), serve_options(codec));
                    nlohmann::json args;
                    args["name"] = sel;
                    auto r = co_await rpc::Client(sess, codec).call("qtalk.register", args);
                    if (!r) throw std::runtime_error("register: " + r.error().to_string());
                });
                wait_bounded(reg, 10s, {}, "register provider");
                auto t = std::make_shared<Target>();
                t->name = "hub";
                t->kind = k;
                t->one_thread = one_thread;
                t->codec = codec;
                t->selector = sel;
                auto dial = spawn(la, [url, client_side, t]() -> Task<void> {
                    auto ex = co_await net::this_coro::executor;
                    auto s = co_await qtalk::transport::dial(ex, url);
                    if (!s) throw std::runtime_error("dial hub: " + s.error().message());
                    auto sess = Session::start(std::move(*s));
                    client_side->sessions.push_back(sess);
                    t->client = rpc::Client(sess, t->codec);
                });
                wait_bounded(dial, 10s, {}, "dial hub");
                targets.push_back(t);
            }
        }
        groups.emplace_back(targets.begin() + first, targets.end());
    };
    for (std::size_t i = 0; i < layouts.size(); ++i)
        add_targets(layouts[i], i * std::size(codecs));

    auto abort = [&] {
        post(la, [client_side] { client_side->close(); });
        post(lb, [server_side] { server_side->close(); });
    };
    // Each repetition samples a group's targets one after another (raw, then direct, relay and
    // hub per codec; reversed every other repetition), so a hub sample and its direct one are
    // close in time, and so are a direct sample and the raw one.
    for (int rep = 0; rep < cfg.reps; ++rep) {
        for (auto& group : groups) {
            for (int k : inflight) {
                if (group.front()->one_thread && k == 1) continue;  // one call in flight is not CPU-bound
                auto order = group;
                if (rep % 2) std::reverse(order.begin(), order.end());
                for (auto& t : order) {
                    auto now = Clock::now();
                    Window w{now + warm, now + warm + span};
                    auto f = t->raw ? spawn(la, raw_sample(t->raw, k, w))
                                    : spawn(la, rpc_sample(t->client, t->selector, k, w));
                    t->samples[k].push_back(wait_bounded(f, warm + span + 10s, abort, "rpc sample " + t->name));
                }
            }
        }
    }

    // Rows: per transport, codec and calls in flight.
    auto find = [&](const std::string& name, const std::string& kind, rpc::Codec codec, bool one_thread) -> Target& {
        for (auto& t : targets)
            if (t->name == name && t->kind == kind && t->one_thread == one_thread && (name == "raw" || t->codec == codec))
                return *t;
        throw std::logic_error("no target");
    };
    for (auto kind : kinds) {
        std::string k(kind);
        for (auto codec : codecs) {
            for (int n : {1, 32, 0}) {  // 0: 32 in flight, endpoints on one thread
                const bool one = n == 0;
                const int in_flight = one ? 32 : n;
                auto& raw_s = find("raw", k, codec, one).samples[in_flight];
                auto& direct_s = find("direct", k, codec, one).samples[in_flight];
                auto& relay_s = find("relay", k, codec, one).samples[in_flight];
                auto& hub_s = find("hub", k, codec, one).samples[in_flight];
                auto raw = aggregate(raw_s), direct = aggregate(direct_s), relayed = aggregate(relay_s),
                     viahub = aggregate(hub_s);
                // Per repetition: the figure's sample over its neighbour's.
                auto pairs = [](const std::vector<Sample>& v, const std::vector<Sample>& base, double (Sample::*f)() const) {
                    std::vector<double> a, b;
                    for (auto& s : v) a.push_back((s.*f)());
                    for (auto& s : base) b.push_back((s.*f)());
                    return pair_ratios(a, b);
                };
                std::string v = std::string(" [") + rpc::codec_name(codec) + " " + k + " x" + std::to_string(in_flight) +
                                (one ? ", endpoints on one thread]" : "]");
                auto row = [&](std::string metric, std::string unit, double value, double base, std::string label,
                               std::vector<Goal> goals, std::vector<double> pair) {
                    Row r;
                    r.group = "rpc";
                    r.metric = std::move(metric) + v;
                    r.unit = std::move(unit);
                    r.value = value;
                    r.baseline = base;
                    r.baseline_label = std::move(label);
                    r.goals = std::move(goals);
                    r.pairs = std::move(pair);
                    report.add(r);
                };
                const Goal hub_goal{Goal::ratio_le, 1.6};
                if (n == 1) {
                    row("direct p50 RTT", "us", direct.p50, raw.p50, "raw ping-pong", {}, pairs(direct_s, raw_s, &Sample::p50));
                    row("byte relay p50 RTT", "us", relayed.p50, direct.p50, "direct", {}, pairs(relay_s, direct_s, &Sample::p50));
                    row("hub p50 RTT", "us", viahub.p50, direct.p50, "direct", {hub_goal}, pairs(hub_s, direct_s, &Sample::p50));
                    row("hub p50 RTT", "us", viahub.p50, relayed.p50, "byte relay", {}, pairs(hub_s, relay_s, &Sample::p50));
                    row("hub p99 RTT", "us", viahub.p99, direct.p99, "direct", {}, pairs(hub_s, direct_s, &Sample::p99));
                } else {
                    row("direct calls/s", "/s", direct.rate, raw.rate, "raw ping-pong", {}, pairs(direct_s, raw_s, &Sample::rate));
                    row("hub calls/s", "/s", viahub.rate, direct.rate, "direct", {}, pairs(hub_s, direct_s, &Sample::rate));
                    row("byte relay p50 RTT", "us", relayed.p50, direct.p50, "direct", {}, pairs(relay_s, direct_s, &Sample::p50));
                    row("hub p50 RTT", "us", viahub.p50, direct.p50, "direct", {hub_goal}, pairs(hub_s, direct_s, &Sample::p50));
                    row("hub p50 RTT", "us", viahub.p50, relayed.p50, "byte relay", {}, pairs(hub_s, relay_s, &Sample::p50));
                }
                std::cout << "  " << v << " p50 raw/direct/relay/hub " << format_number(raw.p50) << "/"
                          << format_number(direct.p50) << "/" << format_number(relayed.p50) << "/"
                          << format_number(viahub.p50) << " us, calls/s " << format_number(raw.rate) << "/"
                          << format_number(direct.rate) << "/" << format_number(relayed.rate) << "/"
                          << format_number(viahub.rate) << std::endl;
            }
        }
    }
    // Close and release everything on its own loop before the loops go.
    spawn(la, [client_side, targets = std::move(targets)]() mutable -> Task<void> {
        client_side->release();
        targets.clear();
        co_return;
    }).wait_for(5s);
    spawn(lb, [server_side]() -> Task<void> {
        server_side->release();
        co_return;
    }).wait_for(5s);
}

}  // namespace qbench
