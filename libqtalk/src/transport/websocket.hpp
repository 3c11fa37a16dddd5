// WebSocket transport entry points (PROTOCOL §3), implemented with Boost.Beast in websocket*.cpp.
// Kept behind this private header so Beast never reaches public headers.
#pragma once
#include <memory>

#include "qtalk/transport/listener.hpp"

namespace qtalk::transport::detail {

Result<std::unique_ptr<Listener>> listen_ws(boost::asio::any_io_executor ex, const Url& url, const ListenOptions& opts);
Result<std::unique_ptr<Listener>> adopt_ws(boost::asio::any_io_executor ex, int fd, const ListenOptions& opts);
Task<Result<std::unique_ptr<Stream>>> dial_ws(boost::asio::any_io_executor ex, const Url& url, const DialOptions& opts);

}  // namespace qtalk::transport::detail
