// WsStream: Beast websocket reads/writes mapped onto the byte-stream concept.
#include "transport/websocket_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/websocket.hpp>

#include "qtalk/log.hpp"
#include "transport/socket_stream.hpp"

namespace qtalk::transport::detail {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsStream::State {
    explicit State(WsSocket w) : ws(std::move(w)) {}
    WsSocket ws;
    bool closing = false;
};

namespace {
std::error_code translate_ws(const boost::system::error_code& ec) {
    if (ec == websocket::error::closed) return Errc::eof;
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow)
        return Errc::message_too_large;
    return translate(ec);
}
}  // namespace

void configure(WsSocket& ws, std::size_t max_message_size, std::chrono::seconds idle_timeout, bool server) {
    auto t = websocket::stream_base::timeout::suggested(server ? beast::role_type::server : beast::role_type::client);
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = idle_timeout;
    t.keep_alive_pings = true;  // a ping at half the idle timeout; no pong in time ends the session
    ws.set_option(t);
    ws.read_message_max(max_message_size);
    ws.auto_fragment(false);  // one write = one unfragmented message (PROTOCOL §3)
    ws.binary(true);
}

WsStream::WsStream(WsSocket ws, PeerInfo peer) : st_(std::make_shared<State>(std::move(ws))), peer_(std::move(peer)) {}

WsStream::~WsStream() { close(); }

boost::asio::any_io_executor WsStream::get_executor() { return st_->ws.get_executor(); }

Task<Result<std::size_t>> WsStream::read_some(std::span<std::byte> buf) {
    auto st = st_;
    auto [ec, n] = co_await st->ws.async_read_some(boost::asio::buffer(buf.data(), buf.size()), use_tuple);
    if (ec) {
        auto e = translate_ws(ec);
        if (e == Errc::message_too_large)
            log::get("transport")->warn("websocket message too large remote={} limit={}", peer_.remote,
                                        st->ws.read_message_max());
        co_return e;
    }
    co_return n;
}

Task<Result<void>> WsStream::write(std::span<const boost::asio::const_buffer> bufs) {
    auto st = st_;
    std::vector<boost::asio::const_buffer> seq(bufs.begin(), bufs.end());
    auto [ec, n] = co_await st->ws.async_write(seq, use_tuple);
    if (ec) co_return translate_ws(ec);
    co_return Result<void>{};
}

void WsStream::close() {
    auto st = st_;
    if (!st || st->closing) return;
    st->closing = true;
    if (!st->ws.is_open()) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(st->ws).socket().close(ignored);
        return;
    }
    // The close handshake is bounded by the handshake timeout set in configure().
    boost::asio::co_spawn(st->ws.get_executor(), [st]() -> Task<void> {
        co_await st->ws.async_close(websocket::close_code::normal, use_tuple);
        boost::system::error_code ignored;
        beast::get_lowest_layer(st->ws).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(st->ws).socket().close(ignored);
    }, boost::asio::detached);
}

}  // namespace qtalk::transport::detail
