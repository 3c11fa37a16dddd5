// WebSocket listener and dialer (PROTOCOL §3, §5.8). The listener answers plain HTTP too:
// `GET /healthz` -> 200 "ok", any other non-upgrade request -> 404. Each connection's HTTP
// request and upgrade run in their own coroutine, so a slow or broken client never blocks
// accept(); finished streams wait in a bounded queue. Reads and writes are websocket_stream.cpp's.
#include "transport/websocket.hpp"

#include <algorithm>
#include <deque>
#include <list>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "qtalk/log.hpp"
#include "transport/peer_info.hpp"
#include "transport/socket_stream.hpp"
#include "transport/tcp_acceptor.hpp"
#include "transport/websocket_stream.hpp"

namespace qtalk::transport::detail {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Upgraded connections not yet taken by accept(); beyond this new upgrades get 503.
constexpr std::size_t max_pending = 128;
// An upgrade request is a handful of headers; browsers send about 1 KiB.
constexpr std::size_t max_request_header = 8 * 1024;
// Nothing we serve takes a body; a small one is read and ignored so the 404 still goes out.
constexpr std::size_t max_request_body = 1024;
// After a failed accept (EMFILE, ENFILE, ENOBUFS) retrying at once would spin.
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);
// No DialOptions field for it: with pings every 30 s an idle but live server is never dropped.
constexpr std::chrono::seconds client_idle_timeout{60};

using Request = http::request<http::string_body>;

Task<void> respond(beast::tcp_stream& s, unsigned version, http::status status, std::string_view body) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(false);
    res.body() = std::string(body);
    res.prepare_payload();
    co_await http::async_write(s, res, use_tuple);
    boost::system::error_code ignored;
    s.socket().shutdown(tcp::socket::shutdown_send, ignored);  // the socket closes when `s` goes
}

class WsListener final : public std::enable_shared_from_this<WsListener> {
public:
    WsListener(tcp::acceptor a, std::string path, ListenOptions opts)
        : a_(std::move(a)), path_(std::move(path)), opts_(std::move(opts)), wake_(a_.get_executor()),
          retry_(a_.get_executor()) {}

    void start() {
        net::co_spawn(a_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); }, net::detached);
    }

    Task<Result<std::unique_ptr<Stream>>> accept() {
        auto self = shared_from_this();
        for (;;) {
            if (closed_) co_return Errc::closed;
            if (!ready_.empty()) {
                auto s = std::move(ready_.front());
                ready_.pop_front();
                co_return std::move(s);
            }
            // Re-arming cancels a wait already queued; there is one accept() at a time in practice,
            // and a cancelled one just loops.
            wake_.expires_at(net::steady_timer::time_point::max());
            co_await wake_.async_wait(use_tuple);
        }
    }

    // Stops accepting, ends handshakes in flight and drops upgraded streams nobody took.
    void close() {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ignored;
        a_.close(ignored);
        retry_.cancel();
        for (auto* ws : handshaking_) beast::close_socket(beast::get_lowest_layer(*ws));
        ready_.clear();
        wake_.cancel();
    }

    std::string url() const {
        boost::system::error_code ec;
        return "ws://" + format_endpoint(a_.local_endpoint(ec)) + path_;
    }
    int native_handle() const { return const_cast<tcp::acceptor&>(a_).native_handle(); }

private:
    // Registry entry for one connection between TCP accept and hand-over, so close() can end it.
    class Handshaking {
    public:
        Handshaking(std::list<WsSocket*>& l, WsSocket& ws) : l_(l), it_(l.insert(l.end(), &ws)) {}
        ~Handshaking() { l_.erase(it_); }
        Handshaking(const Handshaking&) = delete;
        Handshaking& operator=(const Handshaking&) = delete;

    private:
        std::list<WsSocket*>& l_;
        std::list<WsSocket*>::iterator it_;
    };

    Task<void> accept_loop() {
        auto self = shared_from_this();
        auto log = log::get("transport");
        while (!closed_) {
            auto [ec, s] = co_await a_.async_accept(use_tuple);
            if (closed_) co_return;
            if (ec) {
                log->error("websocket accept failed url={} reason=\"{}\"", url(), ec.message());
                retry_.expires_after(accept_retry_delay);
                co_await retry_.async_wait(use_tuple);
                continue;
            }
            boost::system::error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);  // as the Go ref does (PROTOCOL §3)
            // The lambda (and `self` in it) lives until the handshake coroutine ends.
            net::co_spawn(
                a_.get_executor(), [self, s = std::move(s)]() mutable { return self->handshake(std::move(s)); },
                net::detached);
        }
    }

    // One connection: read the HTTP request, then upgrade, answer /healthz, or refuse.
    Task<void> handshake(tcp::socket sock) {
        auto log = log::get("transport");
        auto peer = tcp_peer(sock, "ws");
        WsSocket ws(std::move(sock));
        Handshaking entry(handshaking_, ws);
        auto& http_layer = ws.next_layer();

        beast::flat_buffer buf;
        http::request_parser<http::string_body> parser;
        parser.header_limit(max_request_header);
        parser.body_limit(max_request_body);
        http_layer.expires_after(ws_handshake_timeout);
        auto [rec, rn] = co_await http::async_read(http_layer, buf, parser, use_tuple);
        if (rec) {
            if (!closed_ && rec != http::error::end_of_stream)
                log->info("websocket request failed remote={} reason=\"{}\"", peer.remote, rec.message());
            co_return;
        }
        const Request& req = parser.get();
        auto target = std::string_view(req.target());
        target = target.substr(0, target.find('?'));

        if (!websocket::is_upgrade(req)) {
            bool health = req.method() == http::verb::get && target == "/healthz";
            log->debug("websocket http request remote={} target=\"{}\" status={}", peer.remote, target,
                       health ? 200 : 404);
            if (health)
                co_await respond(http_layer, req.version(), http::status::ok, "ok\n");
            else
                co_await respond(http_layer, req.version(), http::status::not_found, "not found\n");
            co_return;
        }
        if (target != path_) {
            log->info("websocket upgrade refused remote={} target=\"{}\" reason=\"unknown path\"", peer.remote,
                      target);
            co_await respond(http_layer, req.version(), http::status::not_found, "not found\n");
            co_return;
        }
        // The hub does not require Origin (PROTOCOL §3); with an allow-list, a missing one fails too.
        if (!opts_.allowed_origins.empty()) {
            auto origin = std::string_view(req[http::field::origin]);
            if (std::find(opts_.allowed_origins.begin(), opts_.allowed_origins.end(), origin) ==
                opts_.allowed_origins.end()) {
                log->warn("websocket upgrade refused remote={} reason=\"origin not allowed\" origin=\"{}\"",
                          peer.remote, origin);
                co_await respond(http_layer, req.version(), http::status::forbidden, "forbidden\n");
                co_return;
            }
        }
        if (closed_) co_return;
        if (ready_.size() >= max_pending) {
            log->warn("websocket upgrade refused remote={} reason=\"accept queue full\"", peer.remote);
            co_await respond(http_layer, req.version(), http::status::service_unavailable, "busy\n");
            co_return;
        }

        http_layer.expires_never();  // Beast's websocket timeouts take over from here
        configure(ws, opts_.max_message_size, opts_.ws_idle_timeout, true);
        auto [aec] = co_await ws.async_accept(req, use_tuple);  // no subprotocol offered back
        if (aec) {
            if (!closed_) log->info("websocket handshake failed remote={} reason=\"{}\"", peer.remote, aec.message());
            co_return;
        }
        if (closed_) co_return;
        log->debug("websocket accepted remote={}", peer.remote);
        ready_.push_back(std::make_unique<WsStream>(std::move(ws), std::move(peer)));
        wake_.cancel();
    }

    tcp::acceptor a_;
    std::string path_;
    ListenOptions opts_;
    net::steady_timer wake_;   // accept() waits on it; a finished handshake or close() cancels it
    net::steady_timer retry_;  // accept_loop's back-off after an accept error
    std::deque<std::unique_ptr<Stream>> ready_;
    std::list<WsSocket*> handshaking_;
    bool closed_ = false;
};

// The accept loop and handshakes keep the listener alive; this handle closes it when the owner
// lets go, which ends them.
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
    if (url.scheme != Scheme::ws) return Errc::unsupported_scheme;  // wss: a TLS layer, not yet
    auto a = bind_tcp(ex, url.host, url.port);
    if (!a) return a.error();
    return start(std::move(*a), url.path.empty() ? "/" : url.path, opts);
}

Result<std::unique_ptr<Listener>> adopt_ws(net::any_io_executor ex, int fd, const ListenOptions& opts) {
    struct sockaddr_storage ss {};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return std::error_code(errno, std::system_category());
    boost::system::error_code ec;
    tcp::acceptor a(ex);
    a.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return std::error_code(ec);
    return start(std::move(a), "/", opts);
}

Task<Result<std::unique_ptr<Stream>>> dial_ws(net::any_io_executor ex, const Url& url, const DialOptions& opts) {
    if (url.scheme != Scheme::ws) co_return Errc::unsupported_scheme;  // wss: a TLS layer, not yet
    tcp::resolver r(ex);
    auto [rec, results] = co_await r.async_resolve(url.host, std::to_string(url.port), use_tuple);
    if (rec) co_return std::error_code(rec);
    WsSocket ws(ex);
    auto& tcp_layer = ws.next_layer();
    tcp_layer.expires_after(ws_handshake_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(results, use_tuple);
    if (cec) co_return translate(cec);
    tcp_layer.expires_never();  // the websocket handshake timeout takes over
    boost::system::error_code ignored;
    tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
    auto peer = tcp_peer(tcp_layer.socket(), "ws");

    configure(ws, opts.max_message_size, client_idle_timeout, false);
    auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    host += ":" + std::to_string(url.port);
    // Go servers refuse a handshake without a parseable Origin (PROTOCOL §3). No subprotocol.
    ws.set_option(websocket::stream_base::decorator(
        [origin = "http://" + host + "/"](websocket::request_type& req) { req.set(http::field::origin, origin); }));
    websocket::response_type res;
    // Computed outside the co_await: GCC 12 destroys a conditional's temporary there unconditionally.
    const std::string target = url.path.empty() ? "/" : url.path;
    auto [hec] = co_await ws.async_handshake(res, host, target, use_tuple);
    if (hec) {
        log::get("transport")->info("websocket dial failed url={} status={} reason=\"{}\"", url.to_string(),
                                    res.result_int(), hec.message());
        co_return Errc::handshake_failed;
    }
    co_return std::unique_ptr<Stream>(std::make_unique<WsStream>(std::move(ws), std::move(peer)));
}

}  // namespace qtalk::transport::detail
