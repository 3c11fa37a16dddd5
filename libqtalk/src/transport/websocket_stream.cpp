// WsStream: Beast websocket reads and writes mapped onto the byte-stream concept, the bounded
// close handshake and the error mapping (close frame -> eof, oversized message -> message_too_large).
// Beast allows one read, one write and one close in flight at once; mux runs one read loop and
// one write loop per stream, and `closing` keeps close() to a single async_close.
#include "transport/websocket_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>

#include "qtalk/log.hpp"
#include "transport/socket_stream.hpp"

namespace qtalk::transport::detail {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

template <class NextLayer>
struct BasicWsStream<NextLayer>::State {
    State(BasicWsSocket<NextLayer> w, PeerInfo p)
        : ws(std::move(w)), peer(std::move(p)), close_timer(ws.get_executor()) {}

    // Drops the connection without a close handshake; pending operations fail.
    void drop() {
        close_timer.cancel();
        beast::close_socket(beast::get_lowest_layer(ws));
    }

    BasicWsSocket<NextLayer> ws;
    PeerInfo peer;
    net::steady_timer close_timer;
    bool closing = false;
};

namespace {

// Client writes are masked through Beast's write buffer; 4 KiB (the default) makes a 1 MiB
// message 256 socket writes.
constexpr std::size_t write_buffer_bytes = 64 * 1024;

std::error_code translate_ws(const boost::system::error_code& ec) {
    if (ec == websocket::error::closed) return Errc::eof;  // the peer's close frame, any code
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow)
        return Errc::message_too_large;
    return translate(ec);
}

}  // namespace

template <class NextLayer>
void configure(BasicWsSocket<NextLayer>& ws, std::size_t max_message_size, std::chrono::seconds idle_timeout,
               bool server) {
    auto t = websocket::stream_base::timeout::suggested(server ? beast::role_type::server : beast::role_type::client);
    t.handshake_timeout = ws_handshake_timeout;
    // 0 s would time out at once in Beast; treat it as "no idle limit" (and so no pings).
    if (idle_timeout.count() > 0)
        t.idle_timeout = idle_timeout;
    else
        t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = true;  // a ping at half the idle timeout; silence for the other half ends it
    ws.set_option(t);
    ws.read_message_max(max_message_size);
    ws.auto_fragment(false);  // one write = one unfragmented message (PROTOCOL §3)
    ws.write_buffer_bytes(write_buffer_bytes);
    ws.binary(true);
}

template <class NextLayer>
BasicWsStream<NextLayer>::BasicWsStream(BasicWsSocket<NextLayer> ws, PeerInfo peer)
    : st_(std::make_shared<State>(std::move(ws), std::move(peer))) {}

template <class NextLayer>
BasicWsStream<NextLayer>::~BasicWsStream() {
    close();
}

template <class NextLayer>
net::any_io_executor BasicWsStream<NextLayer>::get_executor() {
    return st_->ws.get_executor();
}

template <class NextLayer>
const PeerInfo& BasicWsStream<NextLayer>::peer() const {
    return st_->peer;
}

// Only `st` is used after a suspension: this object may be destroyed while a read is pending.
template <class NextLayer>
Task<Result<std::size_t>> BasicWsStream<NextLayer>::read_some(std::span<std::byte> buf) {
    auto st = st_;
    if (buf.empty()) co_return std::size_t{0};
    for (;;) {
        auto [ec, n] = co_await st->ws.async_read_some(net::buffer(buf.data(), buf.size()), use_tuple);
        if (ec) {
            auto e = translate_ws(ec);
            if (e == Errc::message_too_large)
                log::get("transport")->warn("websocket closed remote={} reason=\"message too large\" limit={}",
                                            st->peer.remote, st->ws.read_message_max());
            co_return e;
        }
        if (n > 0) co_return n;
    }
}

template <class NextLayer>
Task<Result<void>> BasicWsStream<NextLayer>::write(std::span<const net::const_buffer> bufs) {
    auto st = st_;
    if (st->closing) co_return Errc::closed;
    // Beast wants a buffer sequence it can copy; the span's storage belongs to the caller.
    std::vector<net::const_buffer> seq(bufs.begin(), bufs.end());
    auto [ec, n] = co_await st->ws.async_write(seq, use_tuple);
    if (ec) co_return translate_ws(ec);
    co_return Result<void>{};
}

template <class NextLayer>
void BasicWsStream<NextLayer>::close() {
    auto st = st_;
    if (st->closing) return;
    st->closing = true;
    if (!st->ws.is_open()) {  // failed or already closed: nothing to say to the peer
        st->drop();
        return;
    }
    // A peer that never answers the close frame must not hold the socket (or our pending
    // read, which Beast completes only on the peer's reply) for the 10 s handshake timeout.
    st->close_timer.expires_after(ws_close_grace);
    st->close_timer.async_wait([st](boost::system::error_code ec) {
        if (!ec) beast::close_socket(beast::get_lowest_layer(st->ws));
    });
    net::co_spawn(
        st->ws.get_executor(),
        [st]() -> Task<void> {
            co_await st->ws.async_close(websocket::close_code::normal, use_tuple);
            st->drop();
        },
        net::detached);
}

template class BasicWsStream<beast::tcp_stream>;
template void configure(WsSocket&, std::size_t, std::chrono::seconds, bool);

}  // namespace qtalk::transport::detail
