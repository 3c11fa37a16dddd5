// The WebSocket transport over real loopback sockets: message boundaries as the references
// expect them, HTTP side doors, limits, Origin policy, failures, and mux/rpc running over it.
#include <gtest/gtest.h>

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
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

std::pair<std::string, std::uint16_t> host_port(const std::string& ws_url) {
    auto u = transport::parse_url(ws_url);
    return {u->host, u->port};
}

// A raw Beast client, to see exactly what the server sends and to send what we like.
awaitable<std::unique_ptr<websocket::stream<beast::tcp_stream>>> raw_client(const std::string& url,
                                                                           std::string origin = "") {
    auto [host, port] = host_port(url);
    auto ex = co_await boost::asio::this_coro::executor;
    auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ex);
    co_await beast::get_lowest_layer(*ws).async_connect(tcp::endpoint(boost::asio::ip::make_address(host), port),
                                                        boost::asio::use_awaitable);
    if (!origin.empty())
        ws->set_option(websocket::stream_base::decorator(
            [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
    auto [ec] = co_await ws->async_handshake(host + ":" + std::to_string(port), "/", tuple);
    if (ec) co_return nullptr;
    ws->binary(true);
    co_return std::move(ws);
}

// Plain HTTP request; returns the status code (0 on failure) and body.
awaitable<std::pair<int, std::string>> http_get(const std::string& url, std::string target) {
    auto [host, port] = host_port(url);
    beast::tcp_stream s(co_await boost::asio::this_coro::executor);
    co_await s.async_connect(tcp::endpoint(boost::asio::ip::make_address(host), port), boost::asio::use_awaitable);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    co_await http::async_write(s, req, boost::asio::use_awaitable);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    auto [ec, n] = co_await http::async_read(s, buf, res, tuple);
    if (ec) co_return std::pair<int, std::string>{0, ""};
    co_return std::pair<int, std::string>{res.result_int(), res.body()};
}

awaitable<std::unique_ptr<transport::Stream>> accept_one(transport::Listener& l) {
    auto s = co_await l.accept();
    EXPECT_TRUE(s) << s.error().message();
    co_return s ? std::move(*s) : nullptr;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = std::byte(rng());
    return v;
}

awaitable<std::vector<std::byte>> read_n(transport::Stream& s, std::size_t n) {
    std::vector<std::byte> out(n);
    std::size_t have = 0;
    while (have < n) {
        auto r = co_await s.read_some(std::span(out).subspan(have));
        EXPECT_TRUE(r) << r.error().message();
        if (!r) break;
        have += *r;
    }
    co_return out;
}
}  // namespace

TEST(TransportWebSocket, EachWriteIsOneBinaryMessage) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        auto client = co_await raw_client(l->url());
        EXPECT_TRUE(client);
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        auto a = bytes_of("first message"), b = bytes_of("second, in two buffers");
        std::array<boost::asio::const_buffer, 2> two{boost::asio::buffer(a.data(), 5), boost::asio::buffer(a.data() + 5, a.size() - 5)};
        EXPECT_TRUE(co_await server->write(two));
        std::array<boost::asio::const_buffer, 1> one{boost::asio::buffer(b.data(), b.size())};
        EXPECT_TRUE(co_await server->write(one));
        for (auto& want : {a, b}) {
            beast::flat_buffer msg;
            co_await client->async_read(msg, boost::asio::use_awaitable);
            EXPECT_TRUE(client->got_binary());
            EXPECT_EQ(beast::buffers_to_string(msg.data()), string_of(want));  // boundaries kept
        }
        // (The client is dropped here: nothing on the server side reads, so no close handshake.)
    });
}

TEST(TransportWebSocket, ReadsAnySplitAndTextFramesAsBytes) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        auto client = co_await raw_client(l->url());
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        co_await client->async_write(boost::asio::buffer(std::string("abc")), boost::asio::use_awaitable);
        client->text(true);
        co_await client->async_write(boost::asio::buffer(std::string("defg")), boost::asio::use_awaitable);
        client->binary(true);
        auto big = pattern(1 << 20, 5);
        co_await client->async_write(boost::asio::buffer(big.data(), big.size()), boost::asio::use_awaitable);
        EXPECT_EQ(string_of(co_await read_n(*server, 7)), "abcdefg");
        EXPECT_EQ(co_await read_n(*server, big.size()), big);  // a 1 MiB message
        // The close handshake completes while the server reads (Beast answers close frames then).
        boost::asio::co_spawn(io, client->async_close(websocket::close_code::normal, boost::asio::use_awaitable),
                              boost::asio::detached);
        std::array<std::byte, 1> one;
        EXPECT_EQ((co_await server->read_some(one)).error(), make_error_code(transport::Errc::eof));
    });
}

TEST(TransportWebSocket, HealthzAnd404OnPlainHttp) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        auto ok = co_await http_get(l->url(), "/healthz");
        EXPECT_EQ(ok, (std::pair<int, std::string>{200, "ok\n"}));
        auto missing = co_await http_get(l->url(), "/index.html");
        EXPECT_EQ(missing.first, 404);
        auto root = co_await http_get(l->url(), "/");  // no upgrade: still 404, no hang
        EXPECT_EQ(root.first, 404);
    });
}

TEST(TransportWebSocket, MalformedHandshakeDropsThatConnectionOnly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        auto [host, port] = host_port(l->url());
        tcp::socket junk(io);
        co_await junk.async_connect(tcp::endpoint(boost::asio::ip::make_address(host), port), boost::asio::use_awaitable);
        co_await boost::asio::async_write(junk, boost::asio::buffer(std::string("hello\r\n\r\n\x01\x02")),
                                          boost::asio::use_awaitable);
        std::array<char, 256> buf;
        auto [ec, n] = co_await junk.async_read_some(boost::asio::buffer(buf), tuple);
        (void)n;
        EXPECT_TRUE(ec);  // closed by the server
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        auto good = co_await raw_client(l->url());
        EXPECT_TRUE(good);
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
    });
}

TEST(TransportWebSocket, OversizedMessageEndsThatConnection) {
    run_async([](io_context& io) -> awaitable<void> {
        transport::ListenOptions lo;
        lo.max_message_size = 1024;
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/", lo);
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        auto client = co_await raw_client(l->url());
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        auto big = pattern(4096, 1);
        co_await client->async_write(boost::asio::buffer(big.data(), big.size()), boost::asio::use_awaitable);
        std::array<std::byte, 8192> buf;
        auto r = co_await server->read_some(buf);
        EXPECT_EQ(r.error(), make_error_code(transport::Errc::message_too_large));
        server.reset();
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        EXPECT_TRUE(co_await raw_client(l->url()));  // the listener keeps serving
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
    });
}

TEST(TransportWebSocket, OriginAllowList) {
    run_async([](io_context& io) -> awaitable<void> {
        auto open = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { (void)co_await open->accept(); }, boost::asio::detached);
        EXPECT_TRUE(co_await raw_client(open->url()));  // no list: no Origin needed (hub rule)
        transport::ListenOptions lo;
        lo.allowed_origins = {"http://app.example"};
        auto strict = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/", lo);
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { (void)co_await strict->accept(); }, boost::asio::detached);
        EXPECT_TRUE(co_await raw_client(strict->url(), "http://app.example"));
        EXPECT_FALSE(co_await raw_client(strict->url(), "http://evil.example"));
        EXPECT_FALSE(co_await raw_client(strict->url()));
    });
}

TEST(TransportWebSocket, DialSendsOriginLikeTheGoClient) {
    run_async([](io_context& io) -> awaitable<void> {
        tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        auto port = a.local_endpoint().port();
        std::string origin, protocol = "unset";
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            auto s = co_await a.async_accept(boost::asio::use_awaitable);
            beast::flat_buffer buf;
            http::request<http::empty_body> req;
            co_await http::async_read(s, buf, req, boost::asio::use_awaitable);
            origin = std::string(req[http::field::origin]);
            protocol = std::string(req[http::field::sec_websocket_protocol]);
            websocket::stream<tcp::socket> ws(std::move(s));
            co_await ws.async_accept(req, boost::asio::use_awaitable);
        }, boost::asio::detached);
        auto c = co_await transport::dial(io.get_executor(), "ws://127.0.0.1:" + std::to_string(port) + "/");
        EXPECT_TRUE(c) << c.error().message();
        EXPECT_EQ(origin, "http://127.0.0.1:" + std::to_string(port) + "/");
        EXPECT_EQ(protocol, "");  // no subprotocol
    });
}

TEST(TransportWebSocket, AbruptResetEndsTheServerStreamPromptly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = co_await accept_one(*l); }, boost::asio::detached);
        auto client = co_await raw_client(l->url());
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        auto& sock = beast::get_lowest_layer(*client).socket();
        sock.set_option(boost::asio::socket_base::linger(true, 0));  // RST on close
        sock.close();
        auto start = std::chrono::steady_clock::now();
        std::array<std::byte, 16> buf;
        EXPECT_FALSE(co_await server->read_some(buf));
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    });
}

TEST(TransportWebSocket, MuxOverWebSocketMoves64MiBAnd64Channels) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = *transport::listen(io.get_executor(), "ws://127.0.0.1:0/");
        std::shared_ptr<mux::Session> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            auto s = co_await accept_one(*l);
            server = mux::Session::start(std::move(s));
            server->set_acceptor([&io](mux::Channel ch) {  // echo every channel
                boost::asio::co_spawn(io, [ch]() mutable -> awaitable<void> {
                    std::vector<std::byte> buf(256 * 1024);
                    for (;;) {
                        auto n = co_await ch.read_some(buf);
                        if (!n || *n == 0) break;
                        if (!co_await ch.write(std::span(buf).first(*n))) break;
                    }
                    (void)co_await ch.close_write();
                }, boost::asio::detached);
            });
        }, boost::asio::detached);
        auto stream = co_await transport::dial(io.get_executor(), l->url());
        EXPECT_TRUE(stream);
        auto client = mux::Session::start(std::move(*stream));
        auto roundtrip = [&](std::size_t size, unsigned seed) -> awaitable<bool> {
            auto ch = co_await client->open();
            if (!ch) co_return false;
            auto data = pattern(size, seed);
            bool wrote = false;
            auto c = *ch;
            boost::asio::co_spawn(io, [c, &data, &wrote]() mutable -> awaitable<void> {
                wrote = bool(co_await c.write(data)) && bool(co_await c.close_write());
            }, boost::asio::detached);
            std::vector<std::byte> got, buf(1 << 20);
            for (;;) {
                auto n = co_await c.read_some(buf);
                if (!n || *n == 0) break;
                got.insert(got.end(), buf.begin(), buf.begin() + *n);
            }
            c.close();
            co_return wrote && got == data;
        };
        EXPECT_TRUE(co_await roundtrip(64u << 20, 1));
        int ok = 0, done = 0;
        for (int i = 0; i < 64; ++i)
            boost::asio::co_spawn(io, [&, i]() -> awaitable<void> {
                ok += co_await roundtrip(256 * 1024 + i, 100 + i);
                ++done;
            }, boost::asio::detached);
        EXPECT_TRUE(co_await eventually([&] { return done == 64; }, 20s));
        EXPECT_EQ(ok, 64);
        client->close();
    }, 60s);
}
