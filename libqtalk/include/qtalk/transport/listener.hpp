// listen(url) / dial(url): turn a URL into byte streams.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qtalk/transport/stream.hpp"
#include "qtalk/transport/url.hpp"

namespace qtalk::transport {

struct ListenOptions {
    // ws: allowed Origin header values; empty = any (or none).
    std::vector<std::string> allowed_origins;
    // ws: limits and keepalive.
    std::size_t max_message_size = 64u << 20;
    std::chrono::seconds ws_idle_timeout{60};
    // unix: permissions of the socket file (0 = leave umask default).
    unsigned unix_mode = 0;
};

struct DialOptions {
    std::size_t max_message_size = 64u << 20;
};

class Listener {
public:
    virtual ~Listener() = default;
    virtual Task<Result<std::unique_ptr<Stream>>> accept() = 0;
    // Stops accepting; a pending accept() completes with Errc::closed. Unix listeners remove
    // their socket file. Idempotent.
    virtual void close() = 0;
    // The bound address as a URL (tcp port 0 resolved to the real port).
    virtual std::string url() const = 0;
    virtual int native_handle() const = 0;
};

Result<std::unique_ptr<Listener>> listen(boost::asio::any_io_executor ex, std::string_view url,
                                         const ListenOptions& opts = {});
// Adopts an already bound and listening socket (systemd socket activation). `kind` is
// "tcp" or "unix" (ws: pass the matching ListenOptions and kind "ws").
Result<std::unique_ptr<Listener>> adopt_listener(boost::asio::any_io_executor ex, int fd, std::string_view kind,
                                                 const ListenOptions& opts = {});

// (A coroutine: parameters by value, no defaulted class-type parameters; see rpc/client.hpp.)
Task<Result<std::unique_ptr<Stream>>> dial(boost::asio::any_io_executor ex, std::string url, DialOptions opts);
inline Task<Result<std::unique_ptr<Stream>>> dial(boost::asio::any_io_executor ex, std::string url) {
    return dial(std::move(ex), std::move(url), DialOptions{});
}

// Adopts a connected stream socket fd (unix or tcp), e.g. from socketpair() or a parent process.
Result<std::unique_ptr<Stream>> adopt_stream(boost::asio::any_io_executor ex, int fd);

// Two pipe/descriptor fds (read end, write end) as one stream; takes ownership of both.
Result<std::unique_ptr<Stream>> fd_stream(boost::asio::any_io_executor ex, int read_fd, int write_fd,
                                          std::string transport = "stdio");
// stdin/stdout of this process as one stream (PROTOCOL §3 stdio).
Result<std::unique_ptr<Stream>> stdio_stream(boost::asio::any_io_executor ex);
// A connected pair of unix sockets, for tests and in-process peers.
Result<std::pair<std::unique_ptr<Stream>, std::unique_ptr<Stream>>> socket_pair(boost::asio::any_io_executor ex);

}  // namespace qtalk::transport
