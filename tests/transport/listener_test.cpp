// listen()/dial() over real sockets: tcp and unix byte exchange, peer credentials, stale and
// live unix socket files, refused connections, stdio-style fd streams.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "qtalk/transport/listener.hpp"
#include "support/async.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {
std::string temp_path(const std::string& name) {
    auto p = std::filesystem::temp_directory_path() / ("qtalk-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove(p);
    return p.string();
}

awaitable<void> exchange(io_context& io, transport::Listener& l) {
    std::unique_ptr<transport::Stream> server;
    boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = std::move(*co_await l.accept()); },
                          boost::asio::detached);
    auto client = co_await transport::dial(io.get_executor(), l.url());
    EXPECT_TRUE(client) << client.error().message();
    EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
    auto msg = bytes_of("hello over " + l.url());
    std::array<boost::asio::const_buffer, 1> bufs{boost::asio::buffer(msg.data(), msg.size())};
    EXPECT_TRUE(co_await (*client)->write(bufs));
    std::vector<std::byte> got(msg.size());
    std::size_t have = 0;
    while (have < got.size()) {
        auto n = co_await server->read_some(std::span(got).subspan(have));
        EXPECT_TRUE(n) << n.error().message();
        if (!n) break;
        have += *n;
    }
    EXPECT_EQ(got, msg);
    (*client)->close();
    std::array<std::byte, 4> b;
    EXPECT_EQ((co_await server->read_some(b)).error(), make_error_code(transport::Errc::eof));
}
}  // namespace

TEST(TransportListener, TcpRoundTripOnEphemeralPort) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = transport::listen(io.get_executor(), "tcp://127.0.0.1:0");
        EXPECT_TRUE(l);
        EXPECT_NE((*l)->url(), "tcp://127.0.0.1:0");
        co_await exchange(io, **l);
    });
}

TEST(TransportListener, UnixRoundTripWithPeerCredentials) {
    run_async([](io_context& io) -> awaitable<void> {
        auto path = temp_path("rt.sock");
        auto l = transport::listen(io.get_executor(), "unix://" + path);
        EXPECT_TRUE(l);
        std::unique_ptr<transport::Stream> server;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> { server = std::move(*co_await (*l)->accept()); },
                              boost::asio::detached);
        auto client = co_await transport::dial(io.get_executor(), "unix://" + path);
        EXPECT_TRUE(client);
        EXPECT_TRUE(co_await eventually([&] { return server != nullptr; }));
        EXPECT_EQ(server->peer().transport, "unix");
        EXPECT_EQ(server->peer().uid, ::getuid());
        EXPECT_EQ(server->peer().pid, ::getpid());
        (*l)->close();
        EXPECT_FALSE(std::filesystem::exists(path));  // the listener removes its socket file
    });
}

TEST(TransportListener, StaleUnixSocketIsReplacedLiveOneRefused) {
    run_async([](io_context& io) -> awaitable<void> {
        auto path = temp_path("stale.sock");
        {  // a socket file left behind by a dead process
            int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un sa{};
            sa.sun_family = AF_UNIX;
            std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
            EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
            ::close(fd);
        }
        EXPECT_TRUE(std::filesystem::exists(path));
        auto l = transport::listen(io.get_executor(), "unix://" + path);
        EXPECT_TRUE(l) << l.error().message();
        co_await exchange(io, **l);
        // (The liveness probe is a real connection: the live listener sees it come and go.)
        auto second = transport::listen(io.get_executor(), "unix://" + path);
        EXPECT_EQ(second.error(), make_error_code(transport::Errc::address_in_use));
        (*l)->close();
        std::ofstream(path) << "not a socket";
        auto third = transport::listen(io.get_executor(), "unix://" + path);
        EXPECT_EQ(third.error(), make_error_code(transport::Errc::not_a_socket));
        std::filesystem::remove(path);
    });
}

TEST(TransportListener, DialErrorsAreClear) {
    run_async([](io_context& io) -> awaitable<void> {
        auto l = transport::listen(io.get_executor(), "tcp://127.0.0.1:0");
        auto url = (*l)->url();
        (*l)->close();
        auto refused = co_await transport::dial(io.get_executor(), url);
        EXPECT_EQ(refused.error(), std::errc::connection_refused);
        auto missing = co_await transport::dial(io.get_executor(), "unix://" + temp_path("missing.sock"));
        EXPECT_FALSE(missing);
        auto bad = co_await transport::dial(io.get_executor(), "tcp:/oops");
        EXPECT_EQ(bad.error(), make_error_code(transport::Errc::bad_url));
        auto bad_listen = transport::listen(io.get_executor(), "tcp://256.1.1.1:1");
        EXPECT_FALSE(bad_listen);
    });
}

TEST(TransportListener, FdStreamCarriesBytesBetweenPipes) {
    run_async([](io_context& io) -> awaitable<void> {
        int a[2], b[2];
        EXPECT_EQ(::pipe(a), 0);
        EXPECT_EQ(::pipe(b), 0);
        // Stream 1 reads a[0], writes b[1]; stream 2 reads b[0], writes a[1].
        auto s1 = transport::fd_stream(io.get_executor(), a[0], b[1]);
        auto s2 = transport::fd_stream(io.get_executor(), b[0], a[1]);
        auto msg = bytes_of("through pipes");
        std::array<boost::asio::const_buffer, 1> bufs{boost::asio::buffer(msg.data(), msg.size())};
        EXPECT_TRUE(co_await (*s1)->write(bufs));
        std::vector<std::byte> got(msg.size());
        auto n = co_await (*s2)->read_some(got);
        EXPECT_EQ(*n, msg.size());
        (*s1)->close();  // closes b[1]: s2 sees end of stream
        EXPECT_EQ((co_await (*s2)->read_some(got)).error(), make_error_code(transport::Errc::eof));
    });
}

// A unix listener whose backlog is full refuses a non-blocking connect with EAGAIN; the socket is
// then not connected at all. dial() must never hand out such a socket as a stream: it waits a
// little for room, then fails with that error. Every stream it returns is connected.
TEST(TransportListener, UnixDialToAFullBacklogNeverReturnsAnUnconnectedStream) {
    run_async([](io_context& io) -> awaitable<void> {
        auto path = temp_path("full.sock");
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        EXPECT_EQ(::listen(fd, 1), 0);  // never accepted: the backlog fills after a connect or two
        int connected = 0, refused = 0;
        std::vector<std::unique_ptr<transport::Stream>> keep;
        for (int i = 0; i < 3; ++i) {
            auto s = co_await transport::dial(io.get_executor(), "unix://" + path);
            if (!s) {
                EXPECT_EQ(s.error(), std::errc::resource_unavailable_try_again) << s.error().message();
                ++refused;
                continue;
            }
            ++connected;
            keep.push_back(std::move(*s));
        }
        EXPECT_GE(connected, 1);
        EXPECT_GE(refused, 1);
        // Each returned stream is connected: bytes written to it are queued for the listener,
        // where an unconnected socket would fail the write with ENOTCONN/EPIPE.
        for (auto& s : keep) {
            auto msg = bytes_of("x");
            std::array<boost::asio::const_buffer, 1> bufs{boost::asio::buffer(msg.data(), msg.size())};
            auto w = co_await s->write(bufs);
            EXPECT_TRUE(w) << w.error().message();
        }
        ::close(fd);
        std::filesystem::remove(path);
    });
}

// Socket streams read and send directly when they can, skipping the scheduler, but only for a
// bounded number of bytes in a row: a reader whose socket always has data still lets another
// stream's reader in. A's socket holds a few hundred KiB before anyone reads, and A is read 4 KiB
// at a time; B's single byte must be read long before A's bytes are.
TEST(TransportListener, DirectReadsLetOtherStreamsTakeTurns) {
    run_async([](io_context& io) -> awaitable<void> {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        int big = 8 << 20;  // capped by the system (net.core.wmem_max): typically ~400 KiB result
        ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
        std::size_t queued = 0;
        std::vector<char> chunk(4096, 'a');
        while (queued < (1u << 20)) {
            auto n = ::write(fds[1], chunk.data(), chunk.size());
            if (n <= 0) break;
            queued += std::size_t(n);
        }
        ::close(fds[1]);
        auto a_in = transport::adopt_stream(io.get_executor(), fds[0]);
        EXPECT_TRUE(a_in);
        auto b = transport::socket_pair(io.get_executor());
        auto& [b_out, b_in] = *b;
        std::size_t a_read = 0, a_read_when_b_done = 0;
        bool b_done = false, a_done = false;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            std::array<std::byte, 4096> buf;
            for (;;) {
                auto n = co_await (*a_in)->read_some(buf);
                if (!n) break;
                a_read += *n;
            }
            a_done = true;
        }, boost::asio::detached);
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            std::array<std::byte, 16> buf;
            auto n = co_await b_in->read_some(buf);
            EXPECT_TRUE(n && *n == 1);
            a_read_when_b_done = a_read;
            b_done = true;
        }, boost::asio::detached);
        auto one = bytes_of("b");
        std::array<boost::asio::const_buffer, 1> bufs{boost::asio::buffer(one.data(), one.size())};
        EXPECT_TRUE(co_await b_out->write(bufs));
        EXPECT_TRUE(co_await eventually([&] { return b_done && a_done; }));
        EXPECT_EQ(a_read, queued);
        EXPECT_GE(queued, 256u * 1024) << "the system's socket buffers are too small for this test";
        EXPECT_LE(a_read_when_b_done, 160u * 1024) << "B waited for " << a_read_when_b_done << " of " << queued;
    });
}
