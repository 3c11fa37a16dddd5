// One WebSocket connection as a transport::Stream (PROTOCOL §3): every write() is one binary
// message, reads see the concatenated payloads of all messages (any split, text accepted as
// bytes). Private to the transport layer; Beast stays out of public headers.
#pragma once
#include <memory>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "qtalk/transport/stream.hpp"

namespace qtalk::transport::detail {

using WsSocket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

class WsStream final : public Stream {
public:
    WsStream(WsSocket ws, PeerInfo peer);
    ~WsStream() override;
    boost::asio::any_io_executor get_executor() override;
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override;
    Task<Result<void>> write(std::span<const boost::asio::const_buffer> bufs) override;
    // Sends a normal close frame (bounded by the close timeout) then closes the socket.
    void close() override;
    const PeerInfo& peer() const override { return peer_; }

private:
    struct State;  // shared with a close in progress, which may outlive this object
    std::shared_ptr<State> st_;
    PeerInfo peer_;
};

// Options every qtalk WebSocket gets: binary, no compression, message limit, keepalive pings.
void configure(WsSocket& ws, std::size_t max_message_size, std::chrono::seconds idle_timeout, bool server);

}  // namespace qtalk::transport::detail
