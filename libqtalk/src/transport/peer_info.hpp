// PeerInfo for connected sockets: remote address for TCP, SO_PEERCRED for unix.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "qtalk/transport/stream.hpp"

namespace qtalk::transport::detail {

std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);
PeerInfo tcp_peer(boost::asio::ip::tcp::socket& s, const char* transport = "tcp");
PeerInfo unix_peer(boost::asio::local::stream_protocol::socket& s, const char* transport = "unix");

}  // namespace qtalk::transport::detail
