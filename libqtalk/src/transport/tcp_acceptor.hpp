// A listening TCP acceptor for HOST:PORT (numeric address or resolved name), shared by the tcp
// and ws listeners.
#pragma once
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "qtalk/result.hpp"

namespace qtalk::transport::detail {

inline Result<boost::asio::ip::tcp::acceptor> bind_tcp(const boost::asio::any_io_executor& ex, const std::string& host,
                                                       std::uint16_t port) {
    namespace net = boost::asio;
    using tcp = net::ip::tcp;
    boost::system::error_code ec;
    auto addr = net::ip::make_address(host, ec);
    tcp::endpoint ep;
    if (ec) {
        tcp::resolver r(ex);
        auto results = r.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
        if (ec || results.empty()) return std::error_code(ec ? ec : net::error::host_not_found);
        ep = *results.begin();
    } else {
        ep = tcp::endpoint(addr, port);
    }
    tcp::acceptor a(ex);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return std::error_code(ec);
    return a;
}

}  // namespace qtalk::transport::detail
