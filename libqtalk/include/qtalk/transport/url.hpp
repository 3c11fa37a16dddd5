// Transport URLs (PROTOCOL §3): tcp://HOST:PORT, unix:///abs/path, stdio:, ws://HOST:PORT/PATH.
// Pure parsing; no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "qtalk/result.hpp"
#include "qtalk/transport/errc.hpp"

namespace qtalk::transport {

enum class Scheme { tcp, unix_socket, stdio, ws, wss };

struct Url {
    Scheme scheme = Scheme::tcp;
    std::string host;       // tcp/ws: host name or address, IPv6 without brackets
    std::uint16_t port = 0;
    std::string path;       // unix: filesystem path; ws: request target (default "/")
    std::string to_string() const;
};

Result<Url> parse_url(std::string_view text);
const char* scheme_name(Scheme s) noexcept;   // "tcp", "unix", "stdio", "ws", "wss"

}  // namespace qtalk::transport
