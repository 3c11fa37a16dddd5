// The WebSocket transport (WsStream, the ws listener and dial) seen from the outside over
// loopback: byte exchange, message boundaries checked with a raw Beast peer, reads of any split,
// close behaviour (idempotent, bounded, safe with reads pending, abrupt resets), HTTP status of
// refused upgrades and the Origin policy, what dial sends (as the Go client does), listener
// shutdown, and qmux sessions over ws.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "qtalk/mux/session.hpp"
#include "qtalk/transport/listener.hpp"
#include "support/async.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {
constexpr auto tuple = net::as_tuple(net::use_awaitable);
using RawWs = websocket::stream<beast::tcp_stream>;

tcp::endpoint endpoint_of(const std::string& url) {
    auto u = transport::parse_url(url);
    return {net::ip::make_address(u->host), u->port};
}

struct RawClient {
    std::unique_ptr<RawWs> ws;  // null if the handshake failed
    int status = 0;             // HTTP status of the handshake response (101 on success)
};

// A Beast client that shows exactly what the server sends. `origin` empty: no Origin header.
// (No defaulted parameters on the coroutine itself: GCC 12 may destroy a default twice.)
awaitable<RawClient> raw_client_at(std::string url, std::string origin, std::string target) {
    auto ex = co_await net::this_coro::executor;
    auto ws = std::make_unique<RawWs>(ex);
    auto ep = endpoint_of(url);
    co_await beast::get_lowest_layer(*ws).async_connect(ep, net::use_awaitable);
    if (!origin.empty())
        ws->set_option(websocket::stream_base::decorator(
            [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
    websocket::response_type res;
    auto host = ep.address().to_string() + ":" + std::to_string(ep.port());
    auto [ec] = co_await ws->async_handshake(res, host, target, tuple);
    RawClient c;
    c.status = res.result_int();
    if (!ec) {
        ws->binary(true);
        c.ws = std::move(ws);
    }
    co_return c;
}
awaitable<RawClient> raw_client(std::string url, std::string origin) {
    return raw_client_at(std::move(url), std::move(origin), "/");
}
awaitable<RawClient> raw_client(std::string url) { return raw_client_at(std::move(url), "", "/"); }

// Accepts one stream in the background into `out`.
void accept_into(io_context& io, transport::Listener& l, std::unique_ptr<transport::Stream>& out) {
    net::co_spawn(io, [&l, &out]() -> awaitable<void> {
        auto s = co_await l.accept();
        if (s) out = std::move(*s);
    }, net::detached);
}

// A ws listener, the server stream it accepted and a raw Beast client connected to it; ok()
// is false (after a failed expectation) if either side did not connect. Heap-allocated: the
// background accept writes into it.
struct RawConnection {
    std::unique_ptr<transport::Listener> listener;
    std::unique_ptr<transport::Stream> server;
    RawClient raw;
    bool ok() const { return raw.ws && server; }
};
awaitable<std::unique_ptr<RawConnection>> raw_connection(io_context& io) {
    auto c = std::make_unique<RawConnection>();
    c->listener = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
    accept_into(io, *c->listener, c->server);
    c->raw = co_await raw_client(c->listener->url());
    EXPECT_TRUE(c->raw.ws);
    auto* conn = c.get();
    EXPECT_TRUE(co_await eventually([conn] { return conn->server != nullptr; }));
    co_return c;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = std::byte(rng());
    return v;
}

awaitable<bool> write_all(transport::Stream& s, std::span<const std::byte> data) {
    std::array<net::const_buffer, 1> bufs{net::buffer(data.data(), data.size())};
    co_return bool(co_await s.write(bufs));
}

// Reads n bytes with read sizes drawn from 1..max_chunk, so reads straddle message boundaries.
awaitable<std::vector<std::byte>> read_split(transport::Stream& s, std::size_t n, std::size_t max_chunk,
                                             unsigned seed) {
    std::vector<std::byte> out(n);
    std::mt19937 rng(seed);
    std::size_t have = 0;
    while (have < n) {
        auto want = std::min<std::size_t>(n - have, 1 + rng() % max_chunk);
        auto r = co_await s.read_some(std::span(out).subspan(have, want));
        EXPECT_TRUE(r) << r.error().message();
        if (!r) break;
        EXPECT_GT(*r, 0u);
        EXPECT_LE(*r, want);
        have += *r;
    }
    out.resize(have);
    co_return out;
}

struct MuxPair {
    std::shared_ptr<mux::Session> client, server;
    std::unique_ptr<transport::Listener> listener;
};

// A listener, a dialed client session and the accepted server session echoing every channel.
awaitable<MuxPair> mux_pair(io_context& io) {
    MuxPair p;
    p.listener = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
    std::unique_ptr<transport::Stream> accepted;
    accept_into(io, *p.listener, accepted);
    auto dialed = co_await transport::dial(io.get_executor(), p.listener->url());
    EXPECT_TRUE(dialed) << dialed.error().message();
    EXPECT_TRUE(co_await eventually([&] { return accepted != nullptr; }));
    if (!dialed || !accepted) co_return p;
    // Default mux options: 1 GiB window, 16 MiB packets. Each gathered mux write is one WS
    // message, so this also checks that batches stay under the 64 MiB message limit.
    p.client = mux::Session::start(std::move(*dialed));
    p.server = mux::Session::start(std::move(accepted));
    p.server->set_acceptor([&io](mux::Channel ch) {
        net::co_spawn(io, [ch]() mutable -> awaitable<void> {
            std::vector<std::byte> buf(256 * 1024);
            for (;;) {
                auto n = co_await ch.read_some(buf);
                if (!n || *n == 0) break;
                if (!co_await ch.write(std::span(buf).first(*n))) break;
            }
            (void)co_await ch.close_write();
        }, net::detached);
    });
    co_return p;
}

// Sends `size` pattern bytes through an echo channel and checks what comes back.
awaitable<bool> echo_roundtrip(io_context& io, mux::Session& client, std::size_t size, unsigned seed) {
    auto ch = co_await client.open();
    EXPECT_TRUE(ch) << ch.error().message();
    if (!ch) co_return false;
    auto data = std::make_shared<std::vector<std::byte>>(pattern(size, seed));
    auto wrote = std::make_shared<bool>(false);
    auto c = *ch;
    net::co_spawn(io, [c, data, wrote]() mutable -> awaitable<void> {
        *wrote = bool(co_await c.write(*data)) && bool(co_await c.close_write());
    }, net::detached);
    std::vector<std::byte> got, buf(1 << 20);
    got.reserve(size);
    for (;;) {
        auto n = co_await c.read_some(buf);
        if (!n || *n == 0) break;
        got.insert(got.end(), buf.begin(), buf.begin() + *n);
    }
    c.close();
    co_return *wrote && got == *data;
}
}  // namespace

TEST(TransportWebSocket, ListenDialExchangeBytesBothWays) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
        EXPECT_NE(endpoint_of(l->url()).port(), 0);
        EXPECT_TRUE(l->url().starts_with("ws://127.0.0.1:")) << l->url();
        EXPECT_TRUE(l->url().ends_with("/")) << l->url();
        std::unique_ptr<transport::Stream> server;
        accept_into(io, *l, server);
        auto client = std::move(*co_await transport::dial(io.get_executor(), l->url()));
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        EXPECT_EQ(server->peer().transport, "ws");
        EXPECT_EQ(client->peer().transport, "ws");
        EXPECT_EQ("ws://" + client->peer().remote + "/", l->url());
        EXPECT_TRUE(server->peer().remote.starts_with("127.0.0.1:")) << server->peer().remote;

        auto up = bytes_of("client to server"), down = bytes_of("server to client, a bit longer");
        EXPECT_TRUE(co_await write_all(*client, up));
        EXPECT_TRUE(co_await write_all(*server, down));
        EXPECT_EQ(co_await read_split(*server, up.size(), 64, 1), up);
        EXPECT_EQ(co_await read_split(*client, down.size(), 64, 2), down);

        client->close();  // a close frame is a clean end of stream
        std::array<std::byte, 4> b;
        EXPECT_EQ((co_await server->read_some(b)).error(), make_error_code(transport::Errc::eof));
    });
}

TEST(TransportWebSocket, EachWriteArrivesAsOneBinaryMessage) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& raw = conn->raw;

        auto head = bytes_of("qmux header|"), tail = bytes_of("payload");
        auto big = pattern(1 << 20, 3);
        std::array<net::const_buffer, 3> gathered{net::buffer(head.data(), head.size()),
                                                  net::buffer(tail.data(), tail.size()),
                                                  net::buffer(big.data(), big.size())};
        auto second = bytes_of("second");
        int written = 0;
        net::co_spawn(io, [&]() -> awaitable<void> {  // 1 MiB may not fit the socket buffers: read meanwhile
            written += bool(co_await server->write(gathered));
            written += co_await write_all(*server, second);
        }, net::detached);

        beast::flat_buffer msg;
        co_await raw.ws->async_read(msg, net::use_awaitable);
        EXPECT_TRUE(raw.ws->got_binary());
        auto want = head;
        want.insert(want.end(), tail.begin(), tail.end());
        want.insert(want.end(), big.begin(), big.end());
        EXPECT_EQ(msg.size(), want.size());  // three buffers, 1 MiB: still one message
        EXPECT_TRUE(msg.size() == want.size() && std::memcmp(msg.data().data(), want.data(), want.size()) == 0);
        msg.clear();
        co_await raw.ws->async_read(msg, net::use_awaitable);
        EXPECT_TRUE(raw.ws->got_binary());
        EXPECT_EQ(beast::buffers_to_string(msg.data()), "second");
        EXPECT_TRUE(co_await eventually([&] { return written == 2; }));
    });
}

TEST(TransportWebSocket, ReadsReturnAnySplitOfAllPayloadsTextIncluded) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& raw = conn->raw;

        struct Msg {
            std::vector<std::byte> payload;
            bool text;
        };
        std::vector<Msg> msgs;
        msgs.push_back({bytes_of("ab"), false});
        msgs.push_back({bytes_of("cdefg"), true});    // text frames are bytes too
        msgs.push_back({{}, false});                  // an empty message adds nothing, ends nothing
        msgs.push_back({pattern(1 << 20, 4), false});  // a 1 MiB message
        msgs.push_back({bytes_of("xyz"), false});
        std::vector<std::byte> want;
        for (auto& m : msgs) {
            raw.ws->text(m.text);
            co_await raw.ws->async_write(net::buffer(m.payload.data(), m.payload.size()), net::use_awaitable);
            want.insert(want.end(), m.payload.begin(), m.payload.end());
        }
        EXPECT_EQ(co_await read_split(*server, want.size(), 7, 5), want);
        auto more = pattern(100000, 6);  // and big reads across message ends
        for (std::size_t off = 0; off < more.size(); off += 10000)
            co_await raw.ws->async_write(net::buffer(more.data() + off, 10000), net::use_awaitable);
        EXPECT_EQ(co_await read_split(*server, more.size(), 30000, 7), more);
    });
}

TEST(TransportWebSocket, CloseTwiceWithReadPendingEndsTheReadWithNormalClose) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& raw = conn->raw;

        std::optional<std::error_code> read_end;
        net::co_spawn(io, [&]() -> awaitable<void> {
            std::array<std::byte, 16> b;
            auto r = co_await server->read_some(b);
            read_end = r ? std::error_code() : r.error();
        }, net::detached);
        co_await sleep_for(10ms);
        server->close();
        server->close();
        beast::flat_buffer msg;
        auto [ec, n] = co_await raw.ws->async_read(msg, tuple);  // answers the close frame
        EXPECT_EQ(ec, websocket::error::closed);
        EXPECT_EQ(raw.ws->reason().code, websocket::close_code::normal);
        EXPECT_TRUE(co_await eventually([&] { return read_end.has_value(); }, 2s));
        EXPECT_TRUE(read_end && *read_end);  // eof or closed, but an error
        server->close();
    });
}

TEST(TransportWebSocket, CloseDropsASilentPeerAfterTheGracePeriod) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& raw = conn->raw;  // never reads, so never answers the close

        bool read_done = false;
        net::co_spawn(io, [&]() -> awaitable<void> {
            std::array<std::byte, 16> b;
            (void)co_await server->read_some(b);
            read_done = true;
        }, net::detached);
        auto start = std::chrono::steady_clock::now();
        server->close();
        EXPECT_TRUE(co_await eventually([&] { return read_done; }, 5s));
        auto took = std::chrono::steady_clock::now() - start;
        EXPECT_GE(took, 800ms);
        EXPECT_LT(took, 3s);
        // The raw socket now sees the close frame and then the end of the TCP stream.
        beast::flat_buffer msg;
        auto [ec, n] = co_await raw.ws->async_read(msg, tuple);
        EXPECT_TRUE(ec);
    });
}

TEST(TransportWebSocket, DestroyingTheStreamWithAReadPendingIsSafe) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& raw = conn->raw;

        bool read_failed = false;
        auto* s = server.get();
        net::co_spawn(io, [&read_failed, s]() -> awaitable<void> {
            std::array<std::byte, 16> b;
            read_failed = !(co_await s->read_some(b));
        }, net::detached);
        co_await sleep_for(10ms);
        server.reset();  // the destructor closes; the pending read must finish without `this`
        beast::flat_buffer msg;
        (void)co_await raw.ws->async_read(msg, tuple);
        EXPECT_TRUE(co_await eventually([&] { return read_failed; }, 3s));
    });
}

TEST(TransportWebSocket, RefusedUpgradesCarryTheirHttpStatus) {
    run_async([](io_context& io) -> awaitable<void> {
        transport::ListenOptions lo;
        lo.allowed_origins = {"http://app.example"};
        auto strict = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/", lo));
        net::co_spawn(io, [&]() -> awaitable<void> {
            for (;;)
                if (!co_await strict->accept()) co_return;
        }, net::detached);
        auto ok = co_await raw_client(strict->url(), "http://app.example");
        EXPECT_EQ(ok.status, 101);
        EXPECT_TRUE(ok.ws);
        EXPECT_EQ((co_await raw_client(strict->url(), "http://evil.example")).status, 403);
        EXPECT_EQ((co_await raw_client(strict->url())).status, 403);  // a list makes Origin mandatory
        EXPECT_EQ((co_await raw_client_at(strict->url(), "http://app.example", "/other")).status, 404);

        auto open = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
        net::co_spawn(io, [&]() -> awaitable<void> {
            for (;;)
                if (!co_await open->accept()) co_return;
        }, net::detached);
        EXPECT_EQ((co_await raw_client(open->url())).status, 101);  // no list: no Origin needed
        EXPECT_EQ((co_await raw_client(open->url(), "http://anything.example")).status, 101);

        auto wrong_path = co_await transport::dial(io.get_executor(), open->url() + "elsewhere");
        EXPECT_EQ(wrong_path.error(), make_error_code(transport::Errc::handshake_failed));
        strict->close();
        open->close();
    });
}

TEST(TransportWebSocket, PlainHttpGetsHealthzOr404AndTheConnectionEnds) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
        auto request = [&](http::verb verb, std::string target,
                           std::string body) -> awaitable<http::response<http::string_body>> {
            beast::tcp_stream s(io);
            co_await s.async_connect(endpoint_of(l->url()), net::use_awaitable);
            http::request<http::string_body> req{verb, target, 11};
            req.set(http::field::host, "127.0.0.1");
            req.body() = body;
            req.prepare_payload();
            co_await http::async_write(s, req, net::use_awaitable);
            beast::flat_buffer buf;
            http::response<http::string_body> res;
            auto [ec, n] = co_await http::async_read(s, buf, res, tuple);
            EXPECT_FALSE(ec) << ec.message();
            char c;
            auto [eof, m] = co_await s.async_read_some(net::buffer(&c, 1), tuple);
            EXPECT_EQ(eof, net::error::eof);  // one response, then the server closes
            co_return res;
        };
        auto health = co_await request(http::verb::get, "/healthz", "");
        EXPECT_EQ(health.result_int(), 200);
        EXPECT_EQ(health.body(), "ok\n");
        EXPECT_EQ(health[http::field::content_type], "text/plain");
        auto other = co_await request(http::verb::get, "/other", "");
        EXPECT_EQ(other.result_int(), 404);
        EXPECT_EQ(other.body(), "not found\n");
        EXPECT_EQ(other[http::field::content_type], "text/plain");
        EXPECT_EQ((co_await request(http::verb::post, "/", "some body")).result_int(), 404);
    });
}

TEST(TransportWebSocket, StalledHandshakeDoesNotHoldUpOthersAndCloseEndsIt) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/"));
        tcp::socket silent(io);  // connects and never sends a request
        co_await silent.async_connect(endpoint_of(l->url()), net::use_awaitable);
        tcp::socket junk(io);    // garbage instead of HTTP
        co_await junk.async_connect(endpoint_of(l->url()), net::use_awaitable);
        co_await net::async_write(junk, net::buffer(std::string("hello\r\n\r\n")), net::use_awaitable);

        std::unique_ptr<transport::Stream> server;
        accept_into(io, *l, server);
        auto good = co_await raw_client(l->url());
        EXPECT_TRUE(good.ws);
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }, 2s));
        char c;
        auto [jec, jn] = co_await junk.async_read_some(net::buffer(&c, 1), tuple);
        EXPECT_TRUE(jec);  // the garbage connection is dropped

        bool accept_closed = false;
        net::co_spawn(io, [&]() -> awaitable<void> {
            auto r = co_await l->accept();
            accept_closed = !r && r.error() == transport::Errc::closed;
        }, net::detached);
        co_await sleep_for(10ms);
        auto start = std::chrono::steady_clock::now();
        l->close();
        EXPECT_TRUE(co_await eventually([&] { return accept_closed; }, 2s));
        auto [sec, sn] = co_await silent.async_read_some(net::buffer(&c, 1), tuple);
        EXPECT_TRUE(sec);  // the handshake in flight ended with the listener
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        EXPECT_FALSE(co_await l->accept());
        // An accepted stream lives on after its listener closed.
        EXPECT_TRUE(co_await write_all(*server, bytes_of("still here")));
        beast::flat_buffer msg;
        co_await good.ws->async_read(msg, net::use_awaitable);
        EXPECT_EQ(beast::buffers_to_string(msg.data()), "still here");
    });
}

TEST(TransportWebSocket, OversizedMessageEndsOnlyThatConnection) {
    run_async([](io_context& io) -> awaitable<void> {
        transport::ListenOptions lo;
        lo.max_message_size = 4096;
        auto l = std::move(*transport::listen(io.get_executor(), "ws://127.0.0.1:0/", lo));
        std::unique_ptr<transport::Stream> first, second;
        accept_into(io, *l, first);
        auto a = co_await raw_client(l->url());
        EXPECT_TRUE(co_await eventually([&] { return first != nullptr; }));
        accept_into(io, *l, second);
        auto b = co_await raw_client(l->url());
        EXPECT_TRUE(co_await eventually([&] { return second != nullptr; }));
        if (!a.ws || !b.ws || !first || !second) co_return;

        auto at_limit = pattern(4096, 6);
        co_await a.ws->async_write(net::buffer(at_limit.data(), at_limit.size()), net::use_awaitable);
        EXPECT_EQ(co_await read_split(*first, at_limit.size(), 4096, 7), at_limit);
        // Beast's client fragments at 4 KiB, so the first frame of this message is delivered
        // before the limit is known to be exceeded: read until the error.
        auto over = pattern(3 * 4096, 8);
        co_await a.ws->async_write(net::buffer(over.data(), over.size()), net::use_awaitable);
        std::array<std::byte, 8192> buf;
        std::size_t before_error = 0;
        auto r = co_await first->read_some(buf);
        for (; r; r = co_await first->read_some(buf)) before_error += *r;
        EXPECT_LE(before_error, 4096u);
        EXPECT_EQ(r.error(), make_error_code(transport::Errc::message_too_large));
        EXPECT_EQ(r.error().message(), "message too large");
        beast::flat_buffer msg;
        auto [ec, n] = co_await a.ws->async_read(msg, tuple);
        EXPECT_TRUE(ec);  // `closed`, or EPIPE when the reply to the close frame finds the socket gone
        EXPECT_EQ(a.ws->reason().code, websocket::close_code::too_big);

        co_await b.ws->async_write(net::buffer(std::string("other connection")), net::use_awaitable);
        EXPECT_EQ(string_of(co_await read_split(*second, 16, 16, 9)), "other connection");
    });
}

TEST(TransportWebSocket, MuxMoves64MiBThroughOneChannel) {
    run_async([](io_context& io) -> awaitable<void> {
        auto p = co_await mux_pair(io);
        if (!p.client) co_return;
        EXPECT_TRUE(co_await echo_roundtrip(io, *p.client, 64u << 20, 11));
        p.client->close();
    }, 30s);
}

TEST(TransportWebSocket, MuxRuns64ConcurrentChannels) {
    run_async([](io_context& io) -> awaitable<void> {
        auto p = co_await mux_pair(io);
        if (!p.client) co_return;
        int ok = 0, done = 0;
        for (int i = 0; i < 64; ++i)
            net::co_spawn(io, [&, i]() -> awaitable<void> {
                ok += co_await echo_roundtrip(io, *p.client, 128 * 1024 + 977 * i, 100 + i);
                ++done;
            }, net::detached);
        EXPECT_TRUE(co_await eventually([&] { return done == 64; }, 15s));
        EXPECT_EQ(ok, 64);
        EXPECT_TRUE(co_await eventually([&] { return p.server->stats().channels == 0; }));
        p.client->close();
    });
}

TEST(TransportWebSocket, DialSendsOriginLikeTheGoClientAndNoSubprotocol) {
    run_async([](io_context& io) -> awaitable<void> {
        tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        auto port = a.local_endpoint().port();
        std::string origin, protocol = "unset";
        net::co_spawn(io, [&]() -> awaitable<void> {
            auto s = co_await a.async_accept(net::use_awaitable);
            beast::flat_buffer buf;
            http::request<http::empty_body> req;
            co_await http::async_read(s, buf, req, net::use_awaitable);
            origin = std::string(req[http::field::origin]);
            protocol = std::string(req[http::field::sec_websocket_protocol]);
            websocket::stream<tcp::socket> ws(std::move(s));
            co_await ws.async_accept(req, net::use_awaitable);
        }, net::detached);
        auto c = co_await transport::dial(io.get_executor(), "ws://127.0.0.1:" + std::to_string(port) + "/");
        EXPECT_TRUE(c) << c.error().message();
        EXPECT_EQ(origin, "http://127.0.0.1:" + std::to_string(port) + "/");
        EXPECT_EQ(protocol, "");
    });
}

TEST(TransportWebSocket, AbruptResetEndsTheServerStreamPromptly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto conn = co_await raw_connection(io);
        if (!conn->ok()) co_return;
        auto& server = conn->server;
        auto& client = conn->raw;
        auto& sock = beast::get_lowest_layer(*client.ws).socket();
        sock.set_option(net::socket_base::linger(true, 0));  // RST on close
        sock.close();
        auto start = std::chrono::steady_clock::now();
        std::array<std::byte, 16> buf;
        EXPECT_FALSE(co_await server->read_some(buf));
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    });
}
