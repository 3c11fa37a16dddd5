// WebSocket listener and dialer (PROTOCOL §3, §5.8). The listener answers plain HTTP too:
// `GET /healthz` -> 200 "ok", any other non-upgrade request -> 404; handshakes run in their own
// coroutines so a slow or broken client never blocks accept().
#include "transport/websocket.hpp"

#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "qtalk/log.hpp"
#include "transport/peer_info.hpp"
#include "transport/socket_stream.hpp"
#include "transport/websocket_stream.hpp"

namespace qtalk::transport::detail {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Upgraded connections not yet taken by accept(); beyond this new ones are refused.
constexpr std::size_t max_pending = 128;
constexpr std::size_t max_request_header = 8 * 1024;

class WsListener final : public Listener, public std::enable_shared_from_this<WsListener> {
public:
    WsListener(tcp::acceptor a, std::string path, ListenOptions opts)
        : a_(std::move(a)), path_(std::move(path)), opts_(std::move(opts)), wake_(a_.get_executor()) {}

    void start() {
        net::co_spawn(a_.get_executor(), [self = shared_from_this()]() { return self->accept_loop(); }, net::detached);
    }

    Task<Result<std::unique_ptr<Stream>>> accept() override {
        auto self = shared_from_this();
        for (;;) {
            if (!ready_.empty()) {
                auto s = std::move(ready_.front());
                ready_.pop_front();
                co_return std::move(s);
            }
            if (closed_) co_return Errc::closed;
            wake_.expires_at(net::steady_timer::time_point::max());
            co_await wake_.async_wait(use_tuple);
        }
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ignored;
        a_.close(ignored);
        ready_.clear();
        wake_.cancel();
    }

    std::string url() const override {
        boost::system::error_code ec;
        return "ws://" + format_endpoint(a_.local_endpoint(ec)) + path_;
    }
    int native_handle() const override { return const_cast<tcp::acceptor&>(a_).native_handle(); }

private:
    Task<void> accept_loop() {
        auto self = shared_from_this();
        while (!closed_) {
            auto [ec, s] = co_await a_.async_accept(use_tuple);
            if (ec) {
                if (closed_) co_return;
                log::get("transport")->error("websocket accept failed url={} reason=\"{}\"", url(), ec.message());
                continue;
            }
            boost::system::error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            net::co_spawn(a_.get_executor(), handshake(std::move(s)), net::detached);
        }
    }

    // One connection: read the HTTP request; upgrade, health check, or 404.
    Task<void> handshake(tcp::socket sock) {
        auto self = shared_from_this();
        auto peer = tcp_peer(sock, "ws");
        auto log = log::get("transport");
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buf;
        http::request_parser<http::empty_body> parser;
        parser.header_limit(max_request_header);
        parser.body_limit(0);
        stream.expires_after(std::chrono::seconds(10));
        auto [rec, rn] = co_await http::async_read(stream, buf, parser, use_tuple);
        if (rec) {
            log->info("websocket handshake failed remote={} reason=\"{}\"", peer.remote, rec.message());
            co_return;
        }
        auto req = parser.release();
        auto target = std::string_view(req.target());
        target = target.substr(0, target.find('?'));
        if (!websocket::is_upgrade(req)) {
            bool health = req.method() == http::verb::get && target == "/healthz";
            http::response<http::string_body> res{health ? http::status::ok : http::status::not_found, req.version()};
            res.set(http::field::content_type, "text/plain");
            res.body() = health ? "ok\n" : "not found\n";
            res.keep_alive(false);
            res.prepare_payload();
            co_await http::async_write(stream, res, use_tuple);
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            co_return;
        }
        if (target != path_) {
            co_await refuse(stream, req, http::status::not_found, "not found\n");
            co_return;
        }
        if (!opts_.allowed_origins.empty()) {
            auto origin = std::string(req[http::field::origin]);
            if (std::find(opts_.allowed_origins.begin(), opts_.allowed_origins.end(), origin) ==
                opts_.allowed_origins.end()) {
                log->warn("websocket origin refused remote={} origin=\"{}\"", peer.remote, origin);
                co_await refuse(stream, req, http::status::forbidden, "origin not allowed\n");
                co_return;
            }
        }
        if (closed_ || ready_.size() >= max_pending) {
            co_await refuse(stream, req, http::status::service_unavailable, "busy\n");
            co_return;
        }
        stream.expires_never();  // the websocket timeouts take over
        WsSocket ws(std::move(stream));
        configure(ws, opts_.max_message_size, opts_.ws_idle_timeout, true);
        auto [aec] = co_await ws.async_accept(req, use_tuple);
        if (aec) {
            log->info("websocket handshake failed remote={} reason=\"{}\"", peer.remote, aec.message());
            co_return;
        }
        if (closed_) co_return;
        ready_.push_back(std::make_unique<WsStream>(std::move(ws), std::move(peer)));
        wake_.cancel();
    }

    Task<void> refuse(beast::tcp_stream& stream, const http::request<http::empty_body>& req, http::status status,
                      std::string body) {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::content_type, "text/plain");
        res.body() = std::move(body);
        res.keep_alive(false);
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    tcp::acceptor a_;
    std::string path_;
    ListenOptions opts_;
    net::steady_timer wake_;
    std::deque<std::unique_ptr<Stream>> ready_;
    bool closed_ = false;
};

// The accept loop keeps the listener alive; this handle closes it when the owner lets go.
class WsListenerHandle final : public Listener {
public:
    explicit WsListenerHandle(std::shared_ptr<WsListener> l) : l_(std::move(l)) {}
    ~WsListenerHandle() override { l_->close(); }
    Task<Result<std::unique_ptr<Stream>>> accept() override { return l_->accept(); }
    void close() override { l_->close(); }
    std::string url() const override { return l_->url(); }
    int native_handle() const override { return l_->native_handle(); }

private:
    std::shared_ptr<WsListener> l_;
};

Result<std::unique_ptr<Listener>> start(tcp::acceptor a, std::string path, const ListenOptions& opts) {
    auto l = std::make_shared<WsListener>(std::move(a), std::move(path), opts);
    l->start();
    return std::unique_ptr<Listener>(std::make_unique<WsListenerHandle>(std::move(l)));
}

}  // namespace

Result<std::unique_ptr<Listener>> listen_ws(net::any_io_executor ex, const Url& url, const ListenOptions& opts) {
    if (url.scheme == Scheme::wss) return Errc::unsupported_scheme;  // TLS: a later layer over this one
    boost::system::error_code ec;
    tcp::resolver r(ex);
    auto results = r.resolve(url.host, std::to_string(url.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) return std::error_code(ec ? ec : net::error::host_not_found);
    tcp::endpoint ep = *results.begin();
    tcp::acceptor a(ex);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return std::error_code(ec);
    return start(std::move(a), url.path, opts);
}

Result<std::unique_ptr<Listener>> adopt_ws(net::any_io_executor ex, int fd, const ListenOptions& opts) {
    struct sockaddr_storage ss {};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    boost::system::error_code ec;
    tcp::acceptor a(ex);
    a.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return std::error_code(ec);
    return start(std::move(a), "/", opts);
}

Task<Result<std::unique_ptr<Stream>>> dial_ws(net::any_io_executor ex, const Url& url, const DialOptions& opts) {
    if (url.scheme == Scheme::wss) co_return Errc::unsupported_scheme;
    tcp::resolver r(ex);
    auto [rec, results] = co_await r.async_resolve(url.host, std::to_string(url.port), use_tuple);
    if (rec) co_return std::error_code(rec);
    beast::tcp_stream stream(ex);
    stream.expires_after(std::chrono::seconds(10));
    auto [cec, ep] = co_await stream.async_connect(results, use_tuple);
    if (cec) co_return std::error_code(cec);
    boost::system::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    stream.expires_never();
    auto peer = tcp_peer(stream.socket(), "ws");
    WsSocket ws(std::move(stream));
    configure(ws, opts.max_message_size, std::chrono::seconds(60), false);
    auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    host += ":" + std::to_string(url.port);
    // Go servers refuse a handshake without a parseable Origin (PROTOCOL §3).
    ws.set_option(websocket::stream_base::decorator(
        [origin = "http://" + host + "/"](websocket::request_type& req) { req.set(http::field::origin, origin); }));
    auto [hec] = co_await ws.async_handshake(host, url.path, use_tuple);
    if (hec) {
        log::get("transport")->info("websocket handshake failed url={} reason=\"{}\"", url.to_string(), hec.message());
        co_return Errc::handshake_failed;
    }
    co_return std::unique_ptr<Stream>(std::make_unique<WsStream>(std::move(ws), std::move(peer)));
}

}  // namespace qtalk::transport::detail
