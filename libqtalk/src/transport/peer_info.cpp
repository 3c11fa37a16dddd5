// PeerInfo for connected sockets (PROTOCOL §5.6 `remote`, `uid`, `pid`).
#include "transport/peer_info.hpp"

#include <sys/socket.h>

namespace qtalk::transport::detail {

std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
    auto host = addr.to_string();
    if (addr.is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(ep.port());
}

PeerInfo tcp_peer(boost::asio::ip::tcp::socket& s, const char* transport) {
    PeerInfo p;
    p.transport = transport;
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (!ec) p.remote = format_endpoint(ep);
    return p;
}

PeerInfo unix_peer(boost::asio::local::stream_protocol::socket& s, const char* transport) {
    PeerInfo p;
    p.transport = transport;
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        p.uid = cred.uid;
        p.pid = cred.pid;
    }
    return p;
}

}  // namespace qtalk::transport::detail
