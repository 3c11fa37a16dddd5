// libqtalk's hub::Client against an in-process hub: register/call/services/watch, and
// reconnect + re-registration after the hub restarts on the same socket.
#include <gtest/gtest.h>

#include "qtalk/hub/client.hpp"
#include "support/hub_fixture.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
using nlohmann::json;

namespace {
rpc::Handler echo(std::string tag) {
    return [tag](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        const json reply = json{{"tag", tag}, {"selector", c.selector}, {"args", c.args}};
        (void)co_await r.reply(reply);
    };
}
}  // namespace

TEST(HubClient, RegistersCallsListsAndWatches) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        hub::Options o;
        o.url = f.unix_url;
        auto provider = hub::Client::create(io.get_executor(), o);
        EXPECT_TRUE(co_await provider->connect());
        auto reg = co_await provider->register_service("echo", echo("p"));
        EXPECT_TRUE(reg);
        EXPECT_EQ(reg->name, "/echo");
        EXPECT_TRUE(reg->owner);
        o.url = f.tcp_url;
        auto caller = hub::Client::create(io.get_executor(), o);
        EXPECT_TRUE(co_await caller->connect());
        auto r = co_await caller->call("echo.deep.path", 7);
        EXPECT_TRUE(r) << r.error().to_string();
        const json expected = json{{"tag", "p"}, {"selector", "/echo/deep/path"}, {"args", 7}};
        if (r) {
            EXPECT_EQ(r->value, expected);
        }
        auto typed = co_await caller->call_as<json>("echo", "x");
        EXPECT_TRUE(typed);
        auto list = co_await caller->services();
        EXPECT_TRUE(list);
        if (list) {
            EXPECT_EQ((*list)[0]["name"], "/echo");
        }
        auto w = co_await caller->watch();
        EXPECT_TRUE(w && w->continued);
        EXPECT_TRUE(co_await provider->unregister_service("echo"));
        auto ev = co_await w->pipe.receive();
        EXPECT_TRUE(ev && *ev);
        const json down = json{{"event", "down"}, {"name", "/echo"}};
        if (ev && *ev) {
            EXPECT_EQ(**ev, down);
        }
        w->pipe.abort();
        provider->close();
        caller->close();
    });
}

TEST(HubClient, ReconnectsAndReregistersAfterHubRestart) {
    run_async([](io_context& io) -> awaitable<void> {
        auto hub1 = std::make_unique<HubFixture>(io);
        auto dir = hub1->dir;
        auto url = hub1->unix_url;
        hub::Options o;
        o.url = url;
        o.backoff_min = std::chrono::milliseconds(20);
        auto provider = hub::Client::create(io.get_executor(), o);
        int connects = 0;
        provider->on_connected([&] { ++connects; });
        EXPECT_TRUE(co_await provider->connect());
        EXPECT_TRUE(co_await provider->register_service("svc", echo("again")));
        EXPECT_EQ(connects, 1);
        // The hub goes away and a new one comes up on the same socket path.
        hub1->hub->stop_listening();
        hub1->hub->close_all();
        co_await sleep_for(100ms);
        auto hub2 = std::make_shared<qtalkd::Hub>(io.get_executor(), qtalkd::HubOptions{});
        auto l = transport::listen(io.get_executor(), url);
        EXPECT_TRUE(l) << l.error().message();
        hub2->serve(std::move(*l), false);
        EXPECT_TRUE(co_await eventually([&] { return connects == 2; }, 5s));
        auto caller = co_await connect(url, rpc::Codec::cbor);
        auto r = co_await caller->call("svc", 1);
        EXPECT_TRUE(r) << r.error().to_string();
        if (r) {
            EXPECT_EQ(r->value["tag"], "again");
        }
        caller->close();
        provider->close();
        hub2->stop_listening();
        hub2->close_all();
    });
}
