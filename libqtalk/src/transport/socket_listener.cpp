// TCP and unix listeners, dial() and socket_pair(): the socket transports of PROTOCOL §3.
// Stale unix socket files (no live listener behind them) are replaced; live ones are refused.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "qtalk/log.hpp"
#include "qtalk/transport/listener.hpp"
#include "transport/peer_info.hpp"
#include "transport/socket_stream.hpp"
#include "transport/tcp_acceptor.hpp"
#include "transport/websocket.hpp"

namespace qtalk::transport {
namespace net = boost::asio;
using tcp = net::ip::tcp;
using unix_proto = net::local::stream_protocol;

namespace detail {
namespace {

class TcpListener final : public Listener {
public:
    explicit TcpListener(tcp::acceptor a) : a_(std::move(a)) {}
    ~TcpListener() override { close(); }

    Task<Result<std::unique_ptr<Stream>>> accept() override {
        auto [ec, s] = co_await a_.async_accept(use_tuple);
        if (ec) co_return translate(ec);
        boost::system::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);  // as the Go ref does by default
        auto peer = tcp_peer(s);
        co_return std::unique_ptr<Stream>(std::make_unique<SocketStream<tcp::socket>>(std::move(s), std::move(peer)));
    }
    void close() override {
        boost::system::error_code ignored;
        a_.close(ignored);
    }
    std::string url() const override {
        boost::system::error_code ec;
        auto ep = a_.local_endpoint(ec);
        return "tcp://" + format_endpoint(ep);
    }
    int native_handle() const override { return const_cast<tcp::acceptor&>(a_).native_handle(); }

private:
    tcp::acceptor a_;
};

class UnixListener final : public Listener {
public:
    UnixListener(unix_proto::acceptor a, std::string path, bool owns_path)
        : a_(std::move(a)), path_(std::move(path)), owns_path_(owns_path) {
        struct stat st {};
        if (owns_path_ && ::stat(path_.c_str(), &st) == 0) ino_ = st.st_ino;
    }
    ~UnixListener() override { close(); }

    Task<Result<std::unique_ptr<Stream>>> accept() override {
        auto [ec, s] = co_await a_.async_accept(use_tuple);
        if (ec) co_return translate(ec);
        auto peer = unix_peer(s);
        co_return std::unique_ptr<Stream>(std::make_unique<SocketStream<unix_proto::socket>>(std::move(s), std::move(peer)));
    }
    void close() override {
        if (!a_.is_open()) return;
        boost::system::error_code ignored;
        a_.close(ignored);
        // Remove the file only if it is still the one we bound (a successor may own it now).
        struct stat st {};
        if (owns_path_ && ::stat(path_.c_str(), &st) == 0 && st.st_ino == ino_) ::unlink(path_.c_str());
    }
    std::string url() const override { return "unix://" + path_; }
    int native_handle() const override { return const_cast<unix_proto::acceptor&>(a_).native_handle(); }

private:
    unix_proto::acceptor a_;
    std::string path_;
    bool owns_path_;
    ino_t ino_ = 0;
};

Result<std::unique_ptr<Listener>> listen_tcp(net::any_io_executor ex, const Url& u) {
    auto a = bind_tcp(ex, u.host, u.port);
    if (!a) return a.error();
    return std::unique_ptr<Listener>(std::make_unique<TcpListener>(std::move(*a)));
}

// A socket file with nobody accepting behind it is stale: remove it. A live one is refused.
Result<void> clear_stale_socket(net::any_io_executor ex, const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return Errc::not_a_socket;
    unix_proto::socket probe(ex);
    boost::system::error_code ec;
    probe.connect(unix_proto::endpoint(path), ec);
    if (!ec) return Errc::address_in_use;
    if (ec == net::error::connection_refused || ec == net::error::not_found) {
        ::unlink(path.c_str());
        log::get("transport")->info("removed stale unix socket path={}", path);
        return {};
    }
    return std::error_code(ec);
}

Result<std::unique_ptr<Listener>> listen_unix(net::any_io_executor ex, const Url& u, const ListenOptions& opts) {
    if (auto r = clear_stale_socket(ex, u.path); !r) return r.error();
    boost::system::error_code ec;
    unix_proto::acceptor a(ex);
    a.open(unix_proto(), ec);
    if (!ec) a.bind(unix_proto::endpoint(u.path), ec);
    if (!ec && opts.unix_mode != 0 && ::chmod(u.path.c_str(), opts.unix_mode) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return std::error_code(ec);
    return std::unique_ptr<Listener>(std::make_unique<UnixListener>(std::move(a), u.path, true));
}

class StdioStream final : public Stream {
public:
    StdioStream(net::posix::stream_descriptor in, net::posix::stream_descriptor out, std::string transport)
        : in_(std::move(in)), out_(std::move(out)) {
        peer_.transport = std::move(transport);
    }
    ~StdioStream() override { close(); }
    net::any_io_executor get_executor() override { return in_.get_executor(); }
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override {
        auto [ec, n] = co_await in_.async_read_some(net::buffer(buf.data(), buf.size()), use_tuple);
        if (ec) co_return translate(ec);
        co_return n;
    }
    Task<Result<std::size_t>> read_scatter(std::span<const net::mutable_buffer> bufs) override {
        auto [ec, n] = co_await in_.async_read_some(bufs, use_tuple);
        if (ec) co_return translate(ec);
        co_return n;
    }
    Task<Result<void>> write(std::span<const net::const_buffer> bufs) override {
        auto [ec, n] = co_await net::async_write(out_, bufs, use_tuple);
        if (ec) co_return translate(ec);
        co_return Result<void>{};
    }
    void close() override {  // PROTOCOL §3: closing closes stdout then stdin
        boost::system::error_code ignored;
        out_.close(ignored);
        in_.close(ignored);
    }
    const PeerInfo& peer() const override { return peer_; }

private:
    net::posix::stream_descriptor in_, out_;
    PeerInfo peer_;
};

}  // namespace
}  // namespace detail

Result<std::unique_ptr<Listener>> listen(net::any_io_executor ex, std::string_view text, const ListenOptions& opts) {
    auto u = parse_url(text);
    if (!u) return u.error();
    switch (u->scheme) {
    case Scheme::tcp: return detail::listen_tcp(ex, *u);
    case Scheme::unix_socket: return detail::listen_unix(ex, *u, opts);
    case Scheme::ws: return detail::listen_ws(ex, *u, opts);
    default: return Errc::unsupported_scheme;
    }
}

Result<std::unique_ptr<Listener>> adopt_listener(net::any_io_executor ex, int fd, std::string_view kind,
                                                 const ListenOptions& opts) {
    boost::system::error_code ec;
    if (kind == "tcp") {
        struct sockaddr_storage ss {};
        socklen_t len = sizeof ss;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        tcp::acceptor a(ex);
        a.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
        if (ec) return std::error_code(ec);
        return std::unique_ptr<Listener>(std::make_unique<detail::TcpListener>(std::move(a)));
    }
    if (kind == "unix") {
        unix_proto::acceptor a(ex);
        a.assign(unix_proto(), fd, ec);
        if (ec) return std::error_code(ec);
        auto path = a.local_endpoint(ec).path();
        // The socket unit owns the file: never unlink it on close.
        return std::unique_ptr<Listener>(std::make_unique<detail::UnixListener>(std::move(a), path, false));
    }
    if (kind == "ws") return detail::adopt_ws(ex, fd, opts);
    return Errc::unsupported_scheme;
}

namespace {
// A unix stream connect completes at once: connected, or EAGAIN when the listener's backlog is
// full, and then the socket is not connected at all (Asio's async_connect would wait for
// writability and report such a socket as connected). A full backlog means a busy server, so
// the connect is retried for a while before that error is returned.
Task<Result<unix_proto::socket>> connect_unix(net::any_io_executor ex, std::string path) {
    constexpr auto give_up_after = std::chrono::seconds(2);
    const auto deadline = std::chrono::steady_clock::now() + give_up_after;
    auto pause = std::chrono::microseconds(500);
    net::steady_timer timer(ex);
    for (;;) {
        unix_proto::socket s(ex);
        boost::system::error_code ec;
        s.open(unix_proto(), ec);
        if (!ec) s.non_blocking(true, ec);
        if (ec) co_return std::error_code(ec);
        // The system call itself: Asio's connect() would also wait on EAGAIN, then see no error.
        const unix_proto::endpoint ep(path);
        if (::connect(s.native_handle(), ep.data(), static_cast<socklen_t>(ep.size())) == 0) co_return s;
        const std::error_code failed(errno, std::system_category());
        if (failed != std::errc::resource_unavailable_try_again || std::chrono::steady_clock::now() + pause > deadline)
            co_return failed;
        timer.expires_after(pause);
        co_await timer.async_wait(detail::use_tuple);
        pause = std::min(pause * 2, std::chrono::microseconds(50'000));
    }
}
}  // namespace

Task<Result<std::unique_ptr<Stream>>> dial(net::any_io_executor ex, std::string text, DialOptions opts) {
    auto u = parse_url(text);
    if (!u) co_return u.error();
    switch (u->scheme) {
    case Scheme::tcp: {
        tcp::resolver r(ex);
        auto [rec, results] = co_await r.async_resolve(u->host, std::to_string(u->port), detail::use_tuple);
        if (rec) co_return std::error_code(rec);
        tcp::socket s(ex);
        auto [cec, ep] = co_await net::async_connect(s, results, detail::use_tuple);
        if (cec) co_return std::error_code(cec);
        boost::system::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        auto peer = detail::tcp_peer(s);
        co_return std::unique_ptr<Stream>(
            std::make_unique<detail::SocketStream<tcp::socket>>(std::move(s), std::move(peer)));
    }
    case Scheme::unix_socket: {
        auto connected = co_await connect_unix(ex, u->path);
        if (!connected) co_return connected.error();
        auto& s = *connected;
        auto peer = detail::unix_peer(s);
        co_return std::unique_ptr<Stream>(
            std::make_unique<detail::SocketStream<unix_proto::socket>>(std::move(s), std::move(peer)));
    }
    case Scheme::ws: co_return co_await detail::dial_ws(ex, *u, opts);
    case Scheme::stdio: co_return stdio_stream(ex);
    default: co_return Errc::unsupported_scheme;
    }
}

Result<std::unique_ptr<Stream>> adopt_stream(net::any_io_executor ex, int fd) {
    struct sockaddr_storage ss {};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::error_code(errno, std::system_category());
    boost::system::error_code ec;
    if (ss.ss_family == AF_UNIX) {
        unix_proto::socket s(ex);
        s.assign(unix_proto(), fd, ec);
        if (ec) return std::error_code(ec);
        auto peer = detail::unix_peer(s);
        return std::unique_ptr<Stream>(std::make_unique<detail::SocketStream<unix_proto::socket>>(std::move(s), std::move(peer)));
    }
    tcp::socket s(ex);
    s.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return std::error_code(ec);
    s.set_option(tcp::no_delay(true), ec);
    auto peer = detail::tcp_peer(s);
    return std::unique_ptr<Stream>(std::make_unique<detail::SocketStream<tcp::socket>>(std::move(s), std::move(peer)));
}

Result<std::unique_ptr<Stream>> fd_stream(net::any_io_executor ex, int read_fd, int write_fd, std::string transport) {
    boost::system::error_code ec;
    net::posix::stream_descriptor din(ex), dout(ex);
    din.assign(read_fd, ec);
    if (!ec) dout.assign(write_fd, ec);
    if (ec) return std::error_code(ec);
    return std::unique_ptr<Stream>(
        std::make_unique<detail::StdioStream>(std::move(din), std::move(dout), std::move(transport)));
}

Result<std::unique_ptr<Stream>> stdio_stream(net::any_io_executor ex) {
    int in = ::dup(0), out = ::dup(1);
    if (in < 0 || out < 0) return std::error_code(errno, std::system_category());
    return fd_stream(ex, in, out, "stdio");
}

Result<std::pair<std::unique_ptr<Stream>, std::unique_ptr<Stream>>> socket_pair(net::any_io_executor ex) {
    unix_proto::socket a(ex), b(ex);
    boost::system::error_code ec;
    net::local::connect_pair(a, b, ec);
    if (ec) return std::error_code(ec);
    PeerInfo pa{"socketpair", "", {}, {}}, pb = pa;
    return std::pair<std::unique_ptr<Stream>, std::unique_ptr<Stream>>(
        std::make_unique<detail::SocketStream<unix_proto::socket>>(std::move(a), pa),
        std::make_unique<detail::SocketStream<unix_proto::socket>>(std::move(b), pb));
}

}  // namespace qtalk::transport
