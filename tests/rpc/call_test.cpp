// rpc calls between two real peers over a socketpair, both codecs: unary, errors, continued
// streams of values and raw bytes, callbacks during a call, cancellation, concurrency.
#include <gtest/gtest.h>

#include <random>

#include "qtalk/rpc/selector.hpp"
#include "support/async.hpp"
#include "support/hex.hpp"
#include "support/rpc_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
using nlohmann::json;

namespace {

class RpcCall : public ::testing::TestWithParam<rpc::Codec> {};

std::shared_ptr<rpc::RespondMux> echo_mux() {
    auto m = std::make_shared<rpc::RespondMux>();
    m->handle("echo", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.reply(c.args); });
    m->handle("fail", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.error("it failed"); });
    m->handle("throw", [](rpc::Responder&, rpc::Call&) -> rpc::Task<void> {
        throw std::runtime_error("handler blew up");
        co_return;
    });
    m->handle("silent", [](rpc::Responder&, rpc::Call&) -> rpc::Task<void> { co_return; });
    m->handle("selector", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        const json reply = json{{"raw", c.raw_selector}, {"norm", c.selector}};
        (void)co_await r.reply(reply);
    });
    // Continue with the argument, then echo every value frame back until EOF.
    m->handle("stream", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        auto p = co_await r.continue_with(c.args);
        if (!p) co_return;
        for (;;) {
            auto v = co_await (*p)->receive();
            if (!v || !*v) break;
            const json echoed = json{{"echo", **v}};
            (void)co_await (*p)->send(echoed);
        }
    });
    // Continue, then copy raw bytes back (reversed per read) until EOF.
    m->handle("bytes", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        auto p = co_await r.continue_with(nullptr);
        if (!p) co_return;
        std::vector<std::byte> buf(16384);
        for (;;) {
            auto n = co_await (*p)->read_some(buf);
            if (!n || *n == 0) break;
            if (!co_await (*p)->write(std::span(buf).first(*n))) break;
        }
    });
    // Calls back into the caller's peer during the call.
    m->handle("callback", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        auto back = co_await c.caller.call("double", c.args);
        if (!back) {
            (void)co_await r.error(back.error().to_string());
        } else {
            const json reply = json{{"doubled", back->value}};
            (void)co_await r.reply(reply);
        }
    });
    return m;
}

std::shared_ptr<rpc::RespondMux> doubler_mux() {
    auto m = std::make_shared<rpc::RespondMux>();
    m->handle("double", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        (void)co_await r.reply(c.args.get<int>() * 2);
    });
    return m;
}

}  // namespace

TEST_P(RpcCall, UnaryEchoesValuesOfEveryKind) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        std::vector<json> values = {nullptr, true, 100, -7, 1.5, "hello", json::array({1, 2, 3}),
                                    json{{"nested", {{"a", json::array({json::object()})}}}}, std::string(1 << 20, 'x')};
        if (codec == rpc::Codec::cbor) values.push_back(json::binary({1, 2, 3, 0, 255}));
        for (auto& v : values) {
            auto r = co_await p.a->call("echo", v);
            EXPECT_TRUE(r) << r.error().to_string();
            if (r) {
                EXPECT_EQ(r->value, v);
            }
        }
        p.close();
    });
}

TEST_P(RpcCall, HandlerErrorSurfacesAsRemoteError) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        auto r = co_await p.a->call("fail", nullptr);
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code, make_error_code(rpc::Errc::remote_error));
        EXPECT_EQ(r.error().remote, "it failed");
        EXPECT_THROW(r.get(), rpc::RemoteError);
        auto nf = co_await p.a->call("no.such.thing", nullptr);
        EXPECT_EQ(nf.error().remote, "not found: /no/such/thing");
        EXPECT_TRUE(co_await p.a->call("echo", 1));  // the session is fine
        p.close();
    });
}

TEST_P(RpcCall, ThrowingHandlerRepliesErrorAndSessionSurvives) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        auto r = co_await p.a->call("throw", nullptr);
        EXPECT_EQ(r.error().remote, "handler blew up");
        auto s = co_await p.a->call("silent", nullptr);  // no response -> implicit null
        EXPECT_TRUE(s);
        EXPECT_TRUE(s->value.is_null());
        EXPECT_EQ((co_await p.a->call("echo", "still here"))->value, "still here");
        p.close();
    });
}

TEST_P(RpcCall, SelectorTravelsRawAndIsNormalisedByResponder) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto m = std::make_shared<rpc::RespondMux>();
        auto sub = echo_mux();
        m->handle("svc", sub);
        auto p = peer_pair(io.get_executor(), codec, nullptr, m);
        auto r = co_await p.a->call("svc.selector", nullptr);
        EXPECT_TRUE(r) << r.error().to_string();
        if (r) {
            EXPECT_EQ(r->value, (json{{"raw", "svc.selector"}, {"norm", "/svc/selector"}}));
        }
        p.close();
    });
}

TEST_P(RpcCall, ContinuedStreamOfValuesBothWays) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        auto r = co_await p.a->call("stream", "start");
        EXPECT_TRUE(r && r->continued);
        EXPECT_EQ(r->value, "start");
        for (int i = 0; i < 100; ++i) EXPECT_TRUE(co_await r->pipe.send(i));
        EXPECT_TRUE(co_await r->pipe.close_write());
        for (int i = 0; i < 100; ++i) {
            auto v = co_await r->pipe.receive();
            EXPECT_TRUE(v && *v);
            if (v && *v) {
                EXPECT_EQ(**v, (json{{"echo", i}}));
            }
        }
        auto end = co_await r->pipe.receive();
        EXPECT_TRUE(end && !*end);  // handler returned: EOF + CLOSE
        r->pipe.abort();
        p.close();
    });
}

TEST_P(RpcCall, ContinuedRawByteStream) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        auto r = co_await p.a->call("bytes", nullptr);
        EXPECT_TRUE(r && r->continued);
        std::vector<std::byte> data(3 << 20);
        std::mt19937 rng(7);
        for (auto& b : data) b = std::byte(rng());
        auto pipe = r->pipe;
        boost::asio::co_spawn(io, [pipe, &data]() mutable -> awaitable<void> {
            EXPECT_TRUE(co_await pipe.write(data));
            EXPECT_TRUE(co_await pipe.close_write());
        }, boost::asio::detached);
        std::vector<std::byte> got, buf(65536);
        for (;;) {
            auto n = co_await pipe.read_some(buf);
            EXPECT_TRUE(n);
            if (!n || *n == 0) break;
            got.insert(got.end(), buf.begin(), buf.begin() + *n);
        }
        EXPECT_EQ(got, data);
        pipe.abort();
        p.close();
    });
}

TEST_P(RpcCall, HandlerCallsBackIntoCallerDuringCall) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, doubler_mux(), echo_mux());
        auto r = co_await p.a->call("callback", 21);
        EXPECT_TRUE(r) << r.error().to_string();
        if (r) {
            EXPECT_EQ(r->value, (json{{"doubled", 42}}));
        }
        p.close();
    });
}

TEST_P(RpcCall, ThousandConcurrentCallsOnOneSession) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        int ok = 0, done = 0;
        for (int i = 0; i < 1000; ++i) {
            boost::asio::co_spawn(io, [&, i]() -> awaitable<void> {
                const json arg = json{{"i", i}};
                auto r = co_await p.a->call("echo", arg);
                if (r && r->value == json{{"i", i}}) ++ok;
                ++done;
            }, boost::asio::detached);
        }
        EXPECT_TRUE(co_await eventually([&] { return done == 1000; }, 20s));
        EXPECT_EQ(ok, 1000);
        EXPECT_TRUE(co_await eventually([&] { return p.a->session()->stats().channels == 0; }));
        p.close();
    }, 30s);
}

TEST_P(RpcCall, CallerCancellingClosesTheHandlersChannel) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        bool handler_saw_end = false;
        auto m = std::make_shared<rpc::RespondMux>();
        m->handle("wait", [&](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
            auto p = co_await r.continue_with(nullptr);
            if (!p) co_return;
            auto v = co_await (*p)->receive();  // blocks until the caller goes away
            handler_saw_end = !v || !*v;
        });
        auto p = peer_pair(io.get_executor(), codec, nullptr, m);
        auto r = co_await p.a->call("wait", nullptr);
        EXPECT_TRUE(r && r->continued);
        r->pipe.abort();
        EXPECT_TRUE(co_await eventually([&] { return handler_saw_end; }));
        EXPECT_TRUE(co_await eventually([&] { return p.b->session()->stats().channels == 0; }));
        p.close();
    });
}

TEST_P(RpcCall, StreamToSlowConsumerIsBoundedByWindow) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 64 * 1024;
        std::size_t sent = 0;
        auto m = std::make_shared<rpc::RespondMux>();
        m->handle("flood", [&](rpc::Responder& r, rpc::Call&) -> rpc::Task<void> {
            auto p = co_await r.continue_with(nullptr);
            if (!p) co_return;
            std::string chunk(1000, 'z');
            for (int i = 0; i < 5000; ++i) {
                if (!co_await (*p)->send(chunk)) co_return;
                ++sent;
            }
        });
        auto p = peer_pair(io.get_executor(), codec, nullptr, m, small);  // the caller advertises 64 KiB
        auto r = co_await p.a->call("flood", nullptr);
        EXPECT_TRUE(r && r->continued);
        co_await sleep_for(200ms);
        EXPECT_LE(r->pipe.channel().buffered(), small.window);  // never more than one window
        EXPECT_LT(sent, 100u);                                  // the producer is held back
        int n = 0;
        for (;;) {
            auto v = co_await r->pipe.receive();
            if (!v || !*v) break;
            ++n;
        }
        EXPECT_EQ(n, 5000);
        p.close();
    }, 30s);
}

TEST_P(RpcCall, GarbageCallHeaderFailsThatCallOnly) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        auto ch = *co_await p.a->session()->open();
        EXPECT_TRUE(co_await rpc::write_frame(ch, bytes_of("\xff\xfe not a header")));
        EXPECT_TRUE(co_await rpc::write_frame(ch, rpc::encode(codec, nullptr)));
        auto h = co_await rpc::read_frame(ch);
        EXPECT_TRUE(h && *h);
        auto header = rpc::decode_response_header(codec, **h);
        EXPECT_TRUE(header);
        if (header) {
            EXPECT_EQ(header->error, std::optional<std::string>("invalid call header"));
        }
        ch.close();
        EXPECT_EQ((co_await p.a->call("echo", 5))->value, 5);
        p.close();
    });
}

TEST_P(RpcCall, TypedConvenienceUsesToJsonFromJson) {
    auto codec = GetParam();
    run_async([codec](io_context& io) -> awaitable<void> {
        auto p = peer_pair(io.get_executor(), codec, nullptr, echo_mux());
        const std::map<std::string, int> arg{{"x", 1}};
        auto r = co_await p.a->client().call_as<std::map<std::string, int>>("echo", arg);
        EXPECT_TRUE(r);
        if (r) {
            EXPECT_EQ(r->at("x"), 1);
        }
        auto bad = co_await p.a->client().call_as<int>("echo", "not an int");
        EXPECT_EQ(bad.error().code, make_error_code(rpc::Errc::decode_failed));
        p.close();
    });
}

INSTANTIATE_TEST_SUITE_P(Codecs, RpcCall, ::testing::Values(rpc::Codec::json, rpc::Codec::cbor),
                         [](const auto& info) { return std::string(rpc::codec_name(info.param)); });

TEST(RpcSelector, NormalisesLikeTheGoReference) {
    EXPECT_EQ(rpc::normalize_selector(""), "/");
    EXPECT_EQ(rpc::normalize_selector("Unary"), "/Unary");
    EXPECT_EQ(rpc::normalize_selector("foo.bar.baz"), "/foo/bar/baz");
    EXPECT_EQ(rpc::normalize_selector("/a.b"), "/a/b");
    EXPECT_EQ(rpc::normalize_selector("foo."), "/foo/");
    EXPECT_EQ(rpc::normalize_selector(".x"), "//x");
    EXPECT_EQ(rpc::normalize_selector("a//b/"), "/a//b/");
}

TEST(RpcRespondMux, ExactThenLongestPrefixThenSubMux) {
    rpc::RespondMux m;
    rpc::Handler exact = [](rpc::Responder&, rpc::Call&) -> rpc::Task<void> { co_return; };
    rpc::Handler prefix = exact, longer = exact, inner = exact;
    EXPECT_TRUE(m.handle("a.b", exact));
    EXPECT_FALSE(m.handle("/a/b", exact));  // duplicate after normalisation
    EXPECT_TRUE(m.handle("a.", prefix));
    EXPECT_TRUE(m.handle("a.c.", longer));
    auto sub = std::make_shared<rpc::RespondMux>();
    EXPECT_TRUE(sub->handle("x", inner));
    EXPECT_TRUE(m.handle("s", sub));
    auto* h_exact = m.match("/a/b");
    auto* h_prefix = m.match("/a/zz");
    auto* h_longer = m.match("/a/c/d");
    auto* h_inner = m.match("/s/x");
    EXPECT_NE(h_exact, nullptr);
    EXPECT_NE(h_prefix, nullptr);
    EXPECT_NE(h_longer, nullptr);
    EXPECT_NE(h_inner, nullptr);
    EXPECT_NE(h_prefix, h_longer);
    EXPECT_EQ(m.match("/b"), nullptr);
    EXPECT_EQ(m.match("/s/y"), nullptr);
    EXPECT_EQ(m.match("/ab"), nullptr);
}
