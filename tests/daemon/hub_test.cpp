// The hub in-process over real sockets (tcp, unix, the admin socket): registration, routing by
// splice, failover, round-robin, watch, errors in both codecs, flow control, failures.
#include <gtest/gtest.h>

#include <random>

#include "support/hex.hpp"
#include "support/hub_fixture.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
using nlohmann::json;

namespace {

// A provider service "/kv": get (unary), count (continues with N values), echo (raw bytes).
std::shared_ptr<rpc::RespondMux> kv_service(std::string tag = "") {
    auto m = std::make_shared<rpc::RespondMux>();
    m->handle("kv.get", [tag](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        const json j1 = json{{"key", c.args}, {"from", tag}, {"selector", c.raw_selector}};
        (void)co_await r.reply(j1);
    });
    m->handle("kv.count", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        auto p = co_await r.continue_with("counting");
        if (!p) co_return;
        for (int i = 0; i < c.args.get<int>(); ++i)
            if (!co_await (*p)->send(i)) co_return;
    });
    m->handle("kv.echo", [](rpc::Responder& r, rpc::Call&) -> rpc::Task<void> {
        auto p = co_await r.continue_with(nullptr);
        if (!p) co_return;
        std::vector<std::byte> buf(256 * 1024);
        for (;;) {
            auto n = co_await (*p)->read_some(buf);
            if (!n || *n == 0) break;
            if (!co_await (*p)->write(std::span(buf).first(*n))) break;
        }
    });
    return m;
}

awaitable<json> must_call(rpc::Peer& p, std::string sel, json args) {
    auto r = co_await p.call(sel, args);
    EXPECT_TRUE(r) << sel << ": " << r.error().to_string();
    co_return r ? r->value : json();
}

awaitable<std::string> error_of(rpc::Peer& p, std::string sel, json args) {
    auto r = co_await p.call(sel, args);
    EXPECT_FALSE(r) << sel << " unexpectedly succeeded";
    co_return r ? std::string() : r.error().remote;
}

// Short forms as plain functions (no defaulted parameters on coroutines, see rpc/client.hpp).
awaitable<json> must_call(rpc::Peer& p, std::string sel) { return must_call(p, std::move(sel), nullptr); }
awaitable<std::string> error_of(rpc::Peer& p, std::string sel) { return error_of(p, std::move(sel), nullptr); }

class HubRouting : public ::testing::TestWithParam<rpc::Codec> {};

}  // namespace

TEST_P(HubRouting, UnaryStreamAndBytesFromTcpCallerToUnixProvider) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto provider = co_await connect(f.unix_url, codec, kv_service("p1"));
        auto caller = co_await connect(f.tcp_url, codec);
        const json j2 = json{{"name", "kv"}};
        const json j3 = json{{"name", "/kv"}, {"owner", true}};
        EXPECT_EQ(co_await must_call(*provider, "qtalk.register", j2),
                  (j3));
        // Unary: the provider sees the selector exactly as the caller wrote it.
        const json j4 = json{{"key", "k1"}, {"from", "p1"}, {"selector", "kv.get"}};
        EXPECT_EQ(co_await must_call(*caller, "kv.get", "k1"),
                  (j4));
        // A continued stream of values.
        auto r = co_await caller->call("kv.count", 50);
        EXPECT_TRUE(r && r->continued);
        int n = 0;
        for (;;) {
            auto v = co_await r->pipe.receive();
            EXPECT_TRUE(v);
            if (!v || !*v) break;
            EXPECT_EQ(**v, n);
            ++n;
        }
        EXPECT_EQ(n, 50);
        r->pipe.abort();
        // 64 MiB of raw bytes each way with a content check.
        auto e = co_await caller->call("kv.echo", nullptr);
        EXPECT_TRUE(e && e->continued);
        std::vector<std::byte> data(64u << 20);
        std::mt19937_64 rng(11);
        for (std::size_t i = 0; i < data.size(); i += 8) {
            auto x = rng();
            std::memcpy(&data[i], &x, 8);
        }
        auto pipe = e->pipe;
        boost::asio::co_spawn(io, [pipe, &data]() mutable -> awaitable<void> {
            EXPECT_TRUE(co_await pipe.write(data));
            EXPECT_TRUE(co_await pipe.close_write());
        }, boost::asio::detached);
        std::vector<std::byte> got;
        got.reserve(data.size());
        std::vector<std::byte> buf(1 << 20);
        for (;;) {
            auto k = co_await pipe.read_some(buf);
            EXPECT_TRUE(k);
            if (!k || *k == 0) break;
            got.insert(got.end(), buf.begin(), buf.begin() + *k);
        }
        EXPECT_EQ(got.size(), data.size());
        EXPECT_TRUE(got == data);
        pipe.abort();
        EXPECT_TRUE(co_await eventually([&] { return f.hub->stats().calls_active == 0; }));
        caller->close();
        provider->close();
    }, 60s);
}

TEST_P(HubRouting, UnknownServiceAndHubErrorsInCallersCodec) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto p = co_await connect(f.tcp_url, codec);
        EXPECT_EQ(co_await error_of(*p, "nobody.home"), "service not found: /nobody/home");
        EXPECT_EQ(co_await error_of(*p, "qtalk.nope"), "not found: /qtalk/nope");
        EXPECT_EQ(co_await error_of(*p, "qtalk.register", 5), "invalid arguments");
        const json j5 = json{{"name", "a b"}};
        EXPECT_EQ(co_await error_of(*p, "qtalk.register", j5), "invalid service name: a b");
        const json j6 = json{{"name", "qtalk.x"}};
        EXPECT_EQ(co_await error_of(*p, "qtalk.register", j6), "reserved service name: /qtalk/x");
        const json j7 = json{{"name", "x.y"}};
        EXPECT_EQ(co_await error_of(*p, "qtalk.unregister", j7), "not registered: /x/y");
        EXPECT_EQ(co_await error_of(*p, "qtalk.admin.stats"), "permission denied");
        const json j8 = json{{"name", "svc"}, {"shared", true}};
        const json j9 = json{{"name", "/svc"}, {"owner", true}};
        EXPECT_EQ(co_await must_call(*p, "qtalk.register", j8),
                  (j9));
        auto q = co_await connect(f.unix_url, codec);
        const json j10 = json{{"name", "svc"}};
        EXPECT_EQ(co_await error_of(*q, "qtalk.register", j10), "service mode conflict: /svc");
        const json j11 = json{{"name", "svc"}};
        const json j12 = json{{"name", "/svc"}, {"removed", true}};
        EXPECT_EQ(co_await must_call(*p, "qtalk.unregister", j11),
                  (j12));
        const json j13 = json::array();
        EXPECT_EQ(co_await must_call(*p, "qtalk.services"), j13);
        p->close();
        q->close();
    });
}

TEST_P(HubRouting, PingEchoesTheArgumentFrameByteForByte) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto p = co_await connect(f.tcp_url, codec);
        json arg = {{"b", 1.5}, {"a", json::array({1, "two", nullptr})}};
        auto encoded = rpc::encode(codec, arg);
        auto r = co_await p->client().call_encoded("qtalk.ping", encoded);
        EXPECT_TRUE(r);
        if (r) {
            EXPECT_EQ(to_hex(r->encoded), to_hex(encoded));
        }
        p->close();
    });
}

INSTANTIATE_TEST_SUITE_P(Codecs, HubRouting, ::testing::Values(rpc::Codec::json, rpc::Codec::cbor),
                         [](const auto& info) { return std::string(rpc::codec_name(info.param)); });

TEST(HubFailover, ExclusiveOwnerLeavesQueuedTakesOverWatchersSeeDownUp) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto a = co_await connect(f.unix_url, rpc::Codec::cbor, kv_service("a"));
        // Providers speak the callers' codec: the hub forwards bytes, it never re-encodes.
        auto b = co_await connect(f.tcp_url, rpc::Codec::cbor, kv_service("b"));
        auto watcher = co_await connect(f.tcp_url, rpc::Codec::json);
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto w = co_await watcher->call("qtalk.watch", nullptr);
        EXPECT_TRUE(w && w->continued);
        EXPECT_EQ(w->value, json::array());
        const json j14 = json{{"name", "kv"}};
        EXPECT_EQ((co_await must_call(*a, "qtalk.register", j14))["owner"], true);
        const json j15 = json{{"name", "kv"}};
        EXPECT_EQ((co_await must_call(*b, "qtalk.register", j15))["owner"], false);
        const json j16 = json{{"event", "up"}, {"name", "/kv"}};
        EXPECT_EQ(**co_await w->pipe.receive(), (j16));
        const json j17 = json::array({json{{"name", "/kv"}, {"providers", 2}, {"shared", false}}});
        EXPECT_EQ(co_await must_call(*caller, "qtalk.services"),
                  j17);
        EXPECT_EQ((co_await must_call(*caller, "kv.get", 1))["from"], "a");
        a->close();  // the owner goes away: the queued registrant takes over, no event
        EXPECT_TRUE(co_await eventually([&] { return f.hub->session_count() == 3; }));
        EXPECT_EQ((co_await must_call(*caller, "kv.get", 2))["from"], "b");
        b->close();
        const json j18 = json{{"event", "down"}, {"name", "/kv"}};
        EXPECT_EQ(**co_await w->pipe.receive(), (j18));
        EXPECT_EQ(co_await error_of(*caller, "kv.get", 3), "service not found: /kv/get");
        w->pipe.abort();
        watcher->close();
        caller->close();
    });
}

TEST(HubShared, CallsAreSpreadRoundRobin) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        std::vector<std::unique_ptr<rpc::Peer>> providers;
        for (auto tag : {"x", "y", "z"}) {
            providers.push_back(co_await connect(f.unix_url, rpc::Codec::cbor, kv_service(tag)));
            const json j19 = json{{"name", "kv"}, {"shared", true}};
            EXPECT_EQ((co_await must_call(*providers.back(), "qtalk.register", j19))["owner"],
                      true);
        }
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        std::map<std::string, int> hits;
        std::vector<std::string> order;
        for (int i = 0; i < 30; ++i) {
            auto from = (co_await must_call(*caller, "kv.get", i))["from"].get<std::string>();
            ++hits[from];
            if (i < 3) order.push_back(from);
        }
        EXPECT_EQ(order, (std::vector<std::string>{"x", "y", "z"}));  // registration order
        EXPECT_EQ(hits, (std::map<std::string, int>{{"x", 10}, {"y", 10}, {"z", 10}}));
        for (auto& p : providers) p->close();
        caller->close();
    });
}

TEST(HubSelfCall, PeerProvidesAndCallsItselfThroughTheHub) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto p = co_await connect(f.tcp_url, rpc::Codec::json, kv_service("self"));
        const json j20 = json{{"name", "kv"}};
        EXPECT_TRUE(co_await p->call("qtalk.register", j20));
        EXPECT_EQ((co_await must_call(*p, "kv.get", "me"))["from"], "self");
        p->close();
    });
}

TEST(HubFlowControl, StalledConsumerKeepsHubBufferingBounded) {
    run_async([](io_context& io) -> awaitable<void> {
        qtalkd::HubOptions ho;
        ho.mux.window = 256 * 1024;
        ho.mux.max_packet = 64 * 1024;
        HubFixture f(io, ho);
        std::size_t produced = 0;
        auto m = std::make_shared<rpc::RespondMux>();
        m->handle("flood", [&](rpc::Responder& r, rpc::Call&) -> rpc::Task<void> {
            auto p = co_await r.continue_with(nullptr);
            if (!p) co_return;
            std::vector<std::byte> chunk(16 * 1024, std::byte{7});
            for (int i = 0; i < 4096; ++i) {  // 64 MiB if nobody stalls
                if (!co_await (*p)->write(chunk)) co_return;
                produced += chunk.size();
            }
        });
        auto provider = co_await connect(f.unix_url, rpc::Codec::cbor, m);
        const json j21 = json{{"name", "flood"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", j21));
        mux::Options small;
        small.window = 64 * 1024;
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor, nullptr, small);
        auto r = co_await caller->call("flood", nullptr);
        EXPECT_TRUE(r && r->continued);
        co_await sleep_for(300ms);  // the caller reads nothing
        // Everything produced sits in: caller window + hub (one window per direction) + the
        // provider's own unsent write. Nothing grows beyond that.
        auto bound = small.window + ho.mux.window + 16 * 1024 + 1024;
        EXPECT_LE(produced, bound);
        EXPECT_GT(produced, 0u);
        auto before = produced;
        co_await sleep_for(200ms);
        EXPECT_EQ(produced, before);  // stalled, not trickling
        std::size_t got = 0;
        std::vector<std::byte> buf(1 << 20);
        for (;;) {
            auto n = co_await r->pipe.read_some(buf);
            if (!n || *n == 0) break;
            got += *n;
        }
        EXPECT_EQ(got, 4096u * 16 * 1024);
        caller->close();
        provider->close();
    }, 60s);
}

TEST(HubFailure, ProviderGoneBeforeReplyGivesProviderUnavailable) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        std::shared_ptr<mux::Session> provider_session;
        auto m = std::make_shared<rpc::RespondMux>();
        m->handle("die", [&](rpc::Responder&, rpc::Call&) -> rpc::Task<void> {
            provider_session->close();  // the provider process "crashes" mid-call
            co_return;
        });
        auto provider = co_await connect(f.unix_url, rpc::Codec::json, m);
        provider_session = provider->session();
        const json j22 = json{{"name", "die"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", j22));
        auto caller = co_await connect(f.tcp_url, rpc::Codec::json);
        EXPECT_EQ(co_await error_of(*caller, "die"), "provider unavailable");
        const json j23 = json::array();
        EXPECT_EQ(co_await must_call(*caller, "qtalk.services"), j23);
        caller->close();
    });
}

TEST(HubFailure, ProviderKilledMidStreamEndsCallPromptlyOthersUnaffected) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto provider = co_await connect(f.unix_url, rpc::Codec::cbor, kv_service("p"));
        auto other = co_await connect(f.unix_url, rpc::Codec::cbor, kv_service("o"));
        const json j24 = json{{"name", "kv"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", j24));
        const json j25 = json{{"name", "kv"}};
        EXPECT_TRUE(co_await other->call("qtalk.register", j25));
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto e = co_await caller->call("kv.echo", nullptr);
        EXPECT_TRUE(e && e->continued);
        EXPECT_TRUE(co_await e->pipe.write(bytes_of("partial")));
        std::array<std::byte, 7> back;
        EXPECT_TRUE(co_await e->pipe.channel().read_exact(back));
        provider->close();
        auto start = std::chrono::steady_clock::now();
        std::array<std::byte, 16> buf;
        auto n = co_await e->pipe.read_some(buf);
        EXPECT_TRUE(!n || *n == 0);  // end of stream, no injected reply after provider bytes
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        EXPECT_EQ((co_await must_call(*caller, "kv.get", 1))["from"], "o");  // the queued provider took over
        caller->close();
        other->close();
    });
}

TEST(HubAdmin, AdminMethodsOnlyOnTheAdminSocket) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto provider = co_await connect(f.unix_url, rpc::Codec::cbor, kv_service());
        const json j26 = json{{"name", "kv"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", j26));
        auto admin = co_await connect(f.admin_url, rpc::Codec::json);
        auto sessions = co_await must_call(*admin, "qtalk.admin.sessions");
        EXPECT_EQ(sessions.size(), 2u);
        json prov;
        for (auto& s : sessions)
            if (s["services"] == json::array({"/kv"})) prov = s;
        EXPECT_EQ(prov["transport"], "unix");
        EXPECT_EQ(prov["uid"], ::getuid());
        EXPECT_EQ(prov["pid"], ::getpid());
        EXPECT_EQ(prov["privileged"], false);
        auto services = co_await must_call(*admin, "qtalk.admin.services");
        EXPECT_EQ(services[0]["name"], "/kv");
        EXPECT_EQ(services[0]["owner"], prov["id"]);
        auto stats = co_await must_call(*admin, "qtalk.admin.stats");
        EXPECT_EQ(stats["sessions"], 2);
        EXPECT_EQ(stats["services"], 1);
        EXPECT_GT(stats["memory_rss_bytes"].get<std::uint64_t>(), 0u);
        const json j27 = json{{"session", 999}};
        EXPECT_EQ(co_await error_of(*admin, "qtalk.admin.kick", j27), "session not found: 999");
        const json j28 = json{{"session", prov["id"]}};
        const json j29 = json{{"session", prov["id"]}, {"kicked", true}};
        EXPECT_EQ(co_await must_call(*admin, "qtalk.admin.kick", j28),
                  (j29));
        EXPECT_TRUE(co_await eventually([&] { return provider->session()->is_closed(); }));
        const json j30 = json::array();
        EXPECT_EQ(co_await must_call(*admin, "qtalk.services"), j30);
        admin->close();
    });
}
