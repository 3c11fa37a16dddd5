// Placeholder until the Beast-based WebSocket transport lands: ws:// is reported unsupported.
#include "transport/websocket.hpp"

namespace qtalk::transport::detail {

Result<std::unique_ptr<Listener>> listen_ws(boost::asio::any_io_executor, const Url&, const ListenOptions&) {
    return Errc::unsupported_scheme;
}
Result<std::unique_ptr<Listener>> adopt_ws(boost::asio::any_io_executor, int, const ListenOptions&) {
    return Errc::unsupported_scheme;
}
Task<Result<std::unique_ptr<Stream>>> dial_ws(boost::asio::any_io_executor, const Url&, const DialOptions&) {
    co_return Errc::unsupported_scheme;
}

}  // namespace qtalk::transport::detail
