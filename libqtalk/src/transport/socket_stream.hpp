// Stream over any connected Asio stream socket (TCP, unix) or stream descriptor pair (stdio).
// Private to the transport layer; listen()/dial() hand these out as transport::Stream.
#pragma once
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "qtalk/transport/stream.hpp"
#include "transport/asio_error.hpp"

namespace qtalk::transport::detail {

constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

template <class Socket>
class SocketStream final : public Stream {
public:
    SocketStream(Socket s, PeerInfo peer) : s_(std::move(s)), peer_(std::move(peer)) {}
    ~SocketStream() override { close(); }

    boost::asio::any_io_executor get_executor() override { return s_.get_executor(); }

    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override {
        auto [ec, n] = co_await s_.async_read_some(boost::asio::buffer(buf.data(), buf.size()), use_tuple);
        if (ec) co_return translate(ec);
        co_return n;
    }

    Task<Result<std::size_t>> read_scatter(std::span<const boost::asio::mutable_buffer> bufs) override {
        auto [ec, n] = co_await s_.async_read_some(bufs, use_tuple);
        if (ec) co_return translate(ec);
        co_return n;
    }

    Task<Result<void>> write(std::span<const boost::asio::const_buffer> bufs) override {
        auto [ec, n] = co_await boost::asio::async_write(s_, bufs, use_tuple);
        if (ec) co_return translate(ec);
        co_return Result<void>{};
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
    Socket s_;
    PeerInfo peer_;
};

}  // namespace qtalk::transport::detail
