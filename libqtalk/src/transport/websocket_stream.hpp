// One WebSocket connection as a transport::Stream (PROTOCOL §3): every write() is one binary
// message, reads see the concatenated payloads of all messages (any split, text accepted as
// bytes). Private to the transport layer; Beast stays out of public headers. The HTTP side
// (upgrade, dial) is websocket.cpp's.
#pragma once
#include <chrono>
#include <memory>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "qtalk/transport/stream.hpp"

namespace qtalk::transport::detail {

// The layer under the WebSocket. wss:// would add an instantiation over
// beast::ssl_stream<beast::tcp_stream> and a TLS handshake step in websocket.cpp; nothing here
// depends on the layer being plain TCP except through beast::get_lowest_layer.
template <class NextLayer>
using BasicWsSocket = boost::beast::websocket::stream<NextLayer>;
using WsSocket = BasicWsSocket<boost::beast::tcp_stream>;

template <class NextLayer>
class BasicWsStream final : public Stream {
public:
    BasicWsStream(BasicWsSocket<NextLayer> ws, PeerInfo peer);
    ~BasicWsStream() override;
    boost::asio::any_io_executor get_executor() override;
    // An empty WS message carries no bytes: reading continues, so a result is never 0.
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override;
    // All of `bufs` as one unfragmented binary message (qmux messages are never split).
    Task<Result<void>> write(std::span<const boost::asio::const_buffer> bufs) override;
    // Sends a normal close frame and waits up to close_grace for the peer's reply, then closes
    // the socket. Pending reads and writes complete with an error. Idempotent.
    void close() override;
    const PeerInfo& peer() const override;

private:
    struct State;  // shared with operations and a close in progress, which may outlive this object
    std::shared_ptr<State> st_;
};

using WsStream = BasicWsStream<boost::beast::tcp_stream>;
extern template class BasicWsStream<boost::beast::tcp_stream>;

// How long close() waits for the peer to answer the close frame before dropping the socket.
constexpr std::chrono::seconds ws_close_grace{1};
// Upgrade request, accept and dial handshakes (HTTP read included) must finish within this.
constexpr std::chrono::seconds ws_handshake_timeout{10};

// Options every qtalk WebSocket gets: binary, no compression, one frame per message, the
// message limit (0 = none) and keepalive pings at half the idle timeout (0 s = no idle limit).
template <class NextLayer>
void configure(BasicWsSocket<NextLayer>& ws, std::size_t max_message_size, std::chrono::seconds idle_timeout,
               bool server);
extern template void configure(WsSocket&, std::size_t, std::chrono::seconds, bool);

}  // namespace qtalk::transport::detail
