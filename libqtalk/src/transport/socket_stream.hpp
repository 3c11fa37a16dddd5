// Stream over any connected Asio stream socket (TCP, unix) or stream descriptor pair (stdio).
// Private to the transport layer; listen()/dial() hand these out as transport::Stream.
#pragma once
#include <array>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "qtalk/transport/stream.hpp"
#include "transport/asio_error.hpp"
#include "transport/direct_send.hpp"

namespace qtalk::transport::detail {

constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

template <class Socket>
class SocketStream final : public Stream, public DirectSend {
public:
    SocketStream(Socket s, PeerInfo peer) : s_(std::move(s)), peer_(std::move(peer)) {
        boost::system::error_code ignored;
        s_.non_blocking(true, ignored);  // reads and writes first try at once (Asio's async ops work either way)
    }
    ~SocketStream() override { close(); }

    boost::asio::any_io_executor get_executor() override { return s_.get_executor(); }

    // Reads take what has arrived at once, as writes send at once (see write()): bytes that came
    // in while the reader worked are handled without a scheduler round. When nothing is there,
    // the async read waits for it.
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override {
        return read_into(std::array{boost::asio::mutable_buffer(buf.data(), buf.size())});
    }

    Task<Result<std::size_t>> read_scatter(std::span<const boost::asio::mutable_buffer> bufs) override {
        return read_into(bufs);
    }

    // Sends what the socket takes at once, then waits for room for the rest. An async write that
    // completes at once still hands its completion to the scheduler, one more round (and reactor
    // poll) before the writer goes on; sending directly saves that on nearly every write, since
    // a socket's send buffer usually has room. What goes out directly between two trips through
    // the scheduler is bounded (direct_burst bytes), so a bulk writer still takes turns with the
    // other streams of its context as before; small messages nearly always go directly.
    Task<Result<void>> write(std::span<const boost::asio::const_buffer> bufs) override {
        std::size_t sent = 0;
        if (direct_written_ < direct_burst) {
            boost::system::error_code ec;
            bool done = send_now(bufs, sent, ec);
            direct_written_ += sent;
            if (ec) co_return translate(ec);
            if (done) co_return Result<void>{};
        }
        direct_written_ = 0;
        rest_.clear();
        for (auto& b : bufs) {
            if (sent >= b.size()) {
                sent -= b.size();
                continue;
            }
            rest_.push_back(b + sent);
            sent = 0;
        }
        auto [ec, n] = co_await boost::asio::async_write(s_, rest_, use_tuple);
        if (ec) co_return translate(ec);
        co_return Result<void>{};
    }

    std::size_t send_at_once(std::span<const boost::asio::const_buffer> bufs, boost::system::error_code& ec) override {
        std::size_t sent = 0;
        send_now(bufs, sent, ec);
        return sent;
    }

    void close() override {
        boost::system::error_code ignored;
        if (s_.is_open()) {
            s_.shutdown(Socket::shutdown_both, ignored);
            s_.close(ignored);
        }
    }

    const PeerInfo& peer() const override { return peer_; }
    Socket& socket() { return s_; }

private:
    static constexpr std::size_t direct_burst = 64 * 1024;

    // A direct read or send found no bytes or no room: wait through Asio instead.
    static bool would_block(const boost::system::error_code& ec) {
        return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
    }

    // By value: the awaitable starts after the caller's temporaries are gone.
    template <class Buffers>
    Task<Result<std::size_t>> read_into(Buffers bufs) {
        if (direct_read_ < direct_burst) {
            boost::system::error_code ec;
            auto n = s_.read_some(bufs, ec);
            if (!ec) {
                direct_read_ += n;
                co_return n;
            }
            if (!would_block(ec)) co_return translate(ec);
        }
        direct_read_ = 0;
        auto [ec, n] = co_await s_.async_read_some(bufs, use_tuple);
        if (ec) co_return translate(ec);
        co_return n;
    }

    static constexpr std::size_t max_iov = 64;

    // Non-blocking sends until everything is sent (true), the socket is full or an error.
    // `sent` counts the bytes the socket took.
    bool send_now(std::span<const boost::asio::const_buffer> bufs, std::size_t& sent, boost::system::error_code& ec) {
        std::size_t first = 0, skip = 0;  // the next unsent byte: buffer index, offset within it
        while (first < bufs.size()) {
            std::array<boost::asio::const_buffer, max_iov> window;
            std::size_t k = 0;
            for (auto i = first; i < bufs.size() && k < max_iov; ++i, ++k) window[k] = bufs[i] + (i == first ? skip : 0);
            auto n = s_.write_some(std::span(window.data(), k), ec);
            if (ec) {
                if (would_block(ec)) ec.clear();
                return false;
            }
            sent += n;
            n += skip;
            skip = 0;
            while (first < bufs.size() && n >= bufs[first].size()) n -= bufs[first++].size();
            skip = n;
        }
        return true;
    }

    Socket s_;
    std::size_t direct_written_ = 0;  // since the last trip through the scheduler
    std::size_t direct_read_ = 0;
    std::vector<boost::asio::const_buffer> rest_;  // what a partial direct send left, for the async write
    PeerInfo peer_;
};

}  // namespace qtalk::transport::detail
