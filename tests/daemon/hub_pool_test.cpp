// The hub's spare channels to providers (PROTOCOL §5.4), in-process over real sockets: a routed
// call goes out on a channel opened before it and the spare is replaced; spares go when the last
// service does and with the session; failover; a provider that closes its spare or refuses
// opens still gets its calls through fresh opens, without the hub retrying in a loop.
#include <gtest/gtest.h>

#include "support/hub_fixture.hpp"
#include "qtalk/rpc/responder.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
using nlohmann::json;

namespace {

// A provider session without rpc::serve: the test accepts its channels itself, in order.
awaitable<std::shared_ptr<mux::Session>> raw_provider(std::string url, std::string name, mux::Options mopts) {
    auto ex = co_await boost::asio::this_coro::executor;
    auto s = co_await transport::dial(ex, url);
    EXPECT_TRUE(s) << url;
    if (!s) co_return nullptr;
    auto session = mux::Session::start(std::move(*s), mopts);
    const json args = json{{"name", name}};
    auto r = co_await rpc::Client(session, rpc::Codec::cbor).call("qtalk.register", args);
    EXPECT_TRUE(r) << "register " << name << ": " << (r ? "" : r.error().to_string());
    co_return session;
}
awaitable<std::shared_ptr<mux::Session>> raw_provider(std::string url, std::string name) {
    return raw_provider(std::move(url), std::move(name), mux::Options{});
}

// Answers the one call that arrives on `ch` with {"selector", "args"}; returns the selector.
awaitable<std::string> answer(mux::Channel ch) {
    auto header = co_await rpc::read_frame(ch);
    EXPECT_TRUE(header && *header);
    if (!header || !*header) co_return "";
    auto sel = rpc::decode_call_header(rpc::Codec::cbor, **header);
    EXPECT_TRUE(sel);
    auto args = co_await rpc::read_frame(ch);
    EXPECT_TRUE(args && *args);
    json value = args && *args ? *rpc::decode(rpc::Codec::cbor, **args) : json();
    rpc::Pipe pipe(ch, rpc::Codec::cbor);
    rpc::Responder r(pipe);
    const json reply = json{{"selector", sel ? *sel : ""}, {"args", value}};
    EXPECT_TRUE(co_await r.reply(reply));
    co_return sel ? *sel : "";
}

// Calls `sel` from `caller` in the background; `out` receives the result.
void call_in_background(io_context& io, rpc::Peer& caller, std::string sel, json args,
                        std::shared_ptr<std::optional<rpc::CallResult<rpc::Response>>> out) {
    boost::asio::co_spawn(io, [&caller, sel, args, out]() -> awaitable<void> {
        *out = co_await caller.call(sel, args);
    }, boost::asio::detached);
}

qtalkd::SessionId owner_of(const qtalkd::Hub& hub, std::string_view name) {
    for (auto& d : hub.registry().details())
        if (d.name == name && d.owner) return *d.owner;
    return 0;
}

std::shared_ptr<rpc::RespondMux> tagged(std::string tag) {
    auto m = std::make_shared<rpc::RespondMux>();
    for (auto sel : {"kv.get", "a.get"})
        m->handle(sel, [tag](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
            const json j = json{{"key", c.args}, {"from", tag}};
            (void)co_await r.reply(j);
        });
    return m;
}

using Pending = std::shared_ptr<std::optional<rpc::CallResult<rpc::Response>>>;
Pending pending() { return std::make_shared<std::optional<rpc::CallResult<rpc::Response>>>(); }

}  // namespace

TEST(HubSpares, RoutedCallGoesOutOnTheChannelOpenedBeforeItAndTheSpareIsReplaced) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto prov = co_await raw_provider(f.unix_url, "raw");
        auto pid = owner_of(*f.hub, "/raw");
        auto& pool = f.hub->pool();
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1; }));
        // Before any call, the hub has opened a channel and sent nothing on it.
        auto spare = co_await prov->accept();
        EXPECT_TRUE(spare);
        if (!spare) co_return;
        EXPECT_EQ(spare->buffered(), 0u);
        EXPECT_FALSE(spare->eof_received());

        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto first = pending();
        call_in_background(io, *caller, "raw.echo", "one", first);
        EXPECT_EQ(co_await answer(*spare), "raw.echo");  // the call's header arrives on the spare
        EXPECT_TRUE(co_await eventually([&] { return first->has_value(); }));
        EXPECT_TRUE(**first);
        if (**first) {
            EXPECT_EQ((**first)->value, (json{{"selector", "raw.echo"}, {"args", "one"}}));
        }
        // Taking the spare opened its replacement; the next call goes out on that one.
        auto next = co_await prov->accept();
        EXPECT_TRUE(next);
        if (!next) co_return;
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1; }));
        auto second = pending();
        call_in_background(io, *caller, "raw.again", 2, second);
        EXPECT_EQ(co_await answer(*next), "raw.again");
        EXPECT_TRUE(co_await eventually([&] { return second->has_value(); }));
        EXPECT_TRUE(**second);
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1 && pool.opening(pid) == 0; }));
        EXPECT_EQ(f.hub->stats().calls_routed, 2u);
        caller->close();
        prov->close();
    });
}

TEST(HubSpares, ClosedWithTheLastServiceAndWithTheSession) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto& pool = f.hub->pool();
        auto provider = co_await connect(f.unix_url, rpc::Codec::cbor, tagged("p"));
        auto session = provider->session();
        const json a = json{{"name", "a"}}, b = json{{"name", "b"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", a));
        EXPECT_TRUE(co_await provider->call("qtalk.register", b));
        auto pid = owner_of(*f.hub, "/a");
        // One spare per session, not per service; the provider holds it as an accepted channel.
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1 && session->stats().channels == 1; }));
        EXPECT_TRUE(co_await provider->call("qtalk.unregister", a));
        EXPECT_EQ(pool.spares(pid), 1u);
        EXPECT_TRUE(co_await provider->call("qtalk.unregister", b));
        EXPECT_EQ(pool.spares(pid), 0u);
        EXPECT_TRUE(co_await eventually([&] { return session->stats().channels == 0; }));  // CLOSE exchanged
        // Providing again brings a spare back; the session ending takes it away.
        EXPECT_TRUE(co_await provider->call("qtalk.register", a));
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1; }));
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        EXPECT_TRUE(co_await caller->call("a.get", 1));
        provider->close();
        EXPECT_TRUE(co_await eventually([&] { return f.hub->session_count() == 1; }));
        EXPECT_EQ(pool.spares(pid), 0u);
        EXPECT_EQ(pool.opening(pid), 0u);
        EXPECT_EQ(pool.spares(), 0u);
        caller->close();
    });
}

TEST(HubSpares, FailoverGoesToTheQueuedProvidersSpare) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto& pool = f.hub->pool();
        auto a = co_await connect(f.unix_url, rpc::Codec::cbor, tagged("a"));
        auto b = co_await connect(f.tcp_url, rpc::Codec::cbor, tagged("b"));
        const json kv = json{{"name", "kv"}};
        EXPECT_TRUE(co_await a->call("qtalk.register", kv));
        EXPECT_TRUE(co_await b->call("qtalk.register", kv));  // queued
        auto aid = owner_of(*f.hub, "/kv");
        auto details = f.hub->registry().details();
        auto bid = details.at(0).sessions.at(1);
        // A queued registrant is a provider too: it has its spare before it takes over.
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(aid) == 1 && pool.spares(bid) == 1; }));
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto r = co_await caller->call("kv.get", 1);
        EXPECT_TRUE(r && r->value["from"] == "a");
        a->close();
        EXPECT_TRUE(co_await eventually([&] { return f.hub->session_count() == 2; }));
        EXPECT_EQ(pool.spares(aid), 0u);
        r = co_await caller->call("kv.get", 2);
        EXPECT_TRUE(r && r->value["from"] == "b");
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(bid) == 1; }));
        b->close();
        EXPECT_TRUE(co_await eventually([&] { return f.hub->session_count() == 1; }));
        auto e = co_await caller->call("kv.get", 3);
        EXPECT_FALSE(e);
        EXPECT_EQ(e.error().remote, "service not found: /kv/get");
        EXPECT_EQ(pool.spares(), 0u);
        caller->close();
    });
}

TEST(HubSpares, ProviderClosingItsSpareGetsTheNextCallOnAFreshChannel) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto& pool = f.hub->pool();
        auto prov = co_await raw_provider(f.unix_url, "raw");
        auto pid = owner_of(*f.hub, "/raw");
        auto spare = co_await prov->accept();
        EXPECT_TRUE(spare);
        if (!spare) co_return;
        spare->close();
        // The hub drops the closed spare at once and answers the CLOSE; it does not reopen.
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 0 && prov->stats().channels == 0; }));
        co_await sleep_for(50ms);
        EXPECT_EQ(pool.spares(pid) + pool.opening(pid), 0u);
        EXPECT_EQ(prov->stats().channels, 0u);

        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto r = pending();
        call_in_background(io, *caller, "raw.x", 1, r);
        auto fresh = co_await prov->accept();  // opened for this call
        EXPECT_TRUE(fresh);
        if (!fresh) co_return;
        EXPECT_EQ(co_await answer(*fresh), "raw.x");
        EXPECT_TRUE(co_await eventually([&] { return r->has_value(); }));
        EXPECT_TRUE(**r);
        // The successful call refilled the pool.
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1; }));
        caller->close();
        prov->close();
    });
}

TEST(HubSpares, RefusedSpareOpensAreNotRetriedAndCallsStillGetThrough) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto& pool = f.hub->pool();
        // One live channel at most: the first spare is accepted; every refill the hub sends
        // behind a call arrives while that call holds the one channel, and is refused.
        mux::Options one;
        one.max_channels = 1;
        auto prov = co_await raw_provider(f.unix_url, "raw", one);
        auto pid = owner_of(*f.hub, "/raw");
        EXPECT_TRUE(co_await eventually([&] { return pool.spares(pid) == 1; }));
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        for (unsigned i = 1; i <= 3; ++i) {
            auto r = pending();
            call_in_background(io, *caller, "raw.n", i, r);
            auto ch = co_await prov->accept();  // the spare, then a fresh open per call
            EXPECT_TRUE(ch);
            if (!ch) co_return;
            EXPECT_EQ(co_await answer(*ch), "raw.n");
            EXPECT_TRUE(co_await eventually([&] { return r->has_value(); }));
            EXPECT_TRUE(**r);
            // The call asked for one refill, and it failed.
            EXPECT_TRUE(co_await eventually([&] { return pool.failures() == i && pool.opening(pid) == 0; }));
            EXPECT_TRUE(co_await eventually([&] { return prov->stats().channels == 0; }));
            EXPECT_EQ(pool.spares(pid), 0u);
        }
        co_await sleep_for(50ms);
        EXPECT_EQ(pool.failures(), 3u);  // nothing retries on its own
        EXPECT_EQ(pool.spares(pid) + pool.opening(pid), 0u);
        EXPECT_EQ(prov->stats().channels, 0u);
        caller->close();
        prov->close();
    });
}

TEST(HubSpares, ZeroDisablesThem) {
    run_async([](io_context& io) -> awaitable<void> {
        qtalkd::HubOptions ho;
        ho.provider_spare_channels = 0;
        HubFixture f(io, ho);
        auto prov = co_await raw_provider(f.unix_url, "raw");
        auto pid = owner_of(*f.hub, "/raw");
        co_await sleep_for(50ms);
        EXPECT_EQ(f.hub->pool().spares(pid) + f.hub->pool().opening(pid), 0u);
        EXPECT_EQ(prov->stats().channels, 0u);
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto r = pending();
        call_in_background(io, *caller, "raw.z", 0, r);
        auto ch = co_await prov->accept();
        EXPECT_TRUE(ch);
        if (!ch) co_return;
        EXPECT_EQ(co_await answer(*ch), "raw.z");
        EXPECT_TRUE(co_await eventually([&] { return r->has_value(); }));
        EXPECT_TRUE(**r);
        EXPECT_TRUE(co_await eventually([&] { return prov->stats().channels == 0; }));
        EXPECT_EQ(f.hub->pool().spares(pid), 0u);
        caller->close();
        prov->close();
    });
}

// Calls arriving faster than spares are replaced grow the provider's spares, within the maximum
// and with every spare a live channel of the provider; without such calls the surplus halves.
TEST(HubSpares, ConcurrentCallsGrowThePoolWithinItsMaximumAndTheSurplusHalves) {
    run_async([](io_context& io) -> awaitable<void> {
        qtalkd::HubOptions ho;
        ho.provider_spare_hold = 300ms;
        HubFixture f(io, ho);
        auto& pool = f.hub->pool();
        auto provider = co_await connect(f.unix_url, rpc::Codec::cbor, tagged("p"));
        const json kv = json{{"name", "kv"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", kv));
        auto pid = owner_of(*f.hub, "/kv");
        EXPECT_EQ(pool.target(pid, 1), 1u);
        auto caller = co_await connect(f.tcp_url, rpc::Codec::cbor);
        auto burst = [&](int n) -> awaitable<std::size_t> {
            std::vector<Pending> results;
            for (int i = 0; i < n; ++i) {
                results.push_back(pending());
                call_in_background(io, *caller, "kv.get", i, results.back());
            }
            auto all_done = [&] { return std::all_of(results.begin(), results.end(), [](auto& r) { return r->has_value(); }); };
            std::size_t most = 0;
            auto limit = std::chrono::steady_clock::now() + 5s;
            while (!all_done() && std::chrono::steady_clock::now() < limit) {
                most = std::max(most, pool.spares(pid) + pool.opening(pid));
                co_await sleep_for(1ms);
            }
            EXPECT_TRUE(all_done());
            for (auto& r : results) EXPECT_TRUE(r->has_value() && **r);
            co_return most;
        };
        auto most = co_await burst(100);
        EXPECT_LE(most, qtalkd::limits::provider_spare_channels_max);
        const auto grown = pool.target(pid, 1);
        EXPECT_GT(grown, 1u) << "100 calls at once found the one spare taken";
        EXPECT_LE(grown, qtalkd::limits::provider_spare_channels_max);
        // Settled: the spares are exactly the provider's open channels.
        EXPECT_TRUE(co_await eventually([&] {
            return pool.opening(pid) == 0 && pool.spares(pid) == provider->session()->stats().channels;
        }));
        EXPECT_GE(pool.spares(pid), 1u);
        // After the hold without a call finding none, the next refill halves the surplus.
        co_await sleep_for(400ms);
        auto one = pending();
        call_in_background(io, *caller, "kv.get", 0, one);
        EXPECT_TRUE(co_await eventually([&] { return one->has_value(); }));
        EXPECT_TRUE(**one);
        const auto halved = pool.target(pid, 1);
        EXPECT_LT(halved, grown);
        EXPECT_GE(halved, 1 + (grown - 1) / 2);
        EXPECT_LE(halved, 1 + (grown + 1) / 2);
        caller->close();
        provider->close();
    });
}
