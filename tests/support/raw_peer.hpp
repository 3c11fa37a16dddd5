// A hand-driven qmux peer over a raw socket, for asserting exact frames on the wire and for
// sending what a well-behaved implementation never would.
#pragma once
#include <chrono>
#include <optional>
#include <vector>

#include <boost/asio.hpp>

#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"

namespace qtalk::test {

// A decoded message that owns its DATA payload.
struct OwnedMessage {
    frame::Message msg;
    std::vector<std::byte> payload;
};

class RawPeer {
public:
    using socket = boost::asio::local::stream_protocol::socket;
    explicit RawPeer(socket s) : s_(std::move(s)) {}

    boost::asio::awaitable<void> send(const frame::Message& m) {
        std::vector<std::byte> out;
        frame::encode(m, out);
        co_await send_bytes(out);
    }
    boost::asio::awaitable<void> send_bytes(std::span<const std::byte> b) {
        co_await boost::asio::async_write(s_, boost::asio::buffer(b.data(), b.size()), boost::asio::use_awaitable);
    }
    // Next message, or nullopt on timeout / end of stream / decode error.
    boost::asio::awaitable<std::optional<OwnedMessage>> next(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        using namespace boost::asio::experimental::awaitable_operators;
        auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            auto r = frame::decode(buf_, 1u << 31);
            if (!r) co_return std::nullopt;
            if (*r) {
                OwnedMessage om{(*r)->message, {}};
                if (auto* d = std::get_if<frame::Data>(&om.msg)) {
                    om.payload.assign(d->payload.begin(), d->payload.end());
                    d->payload = om.payload;
                }
                buf_.erase(buf_.begin(), buf_.begin() + (*r)->consumed);
                if (auto* d = std::get_if<frame::Data>(&om.msg)) d->payload = om.payload;
                co_return om;
            }
            auto left = deadline - std::chrono::steady_clock::now();
            if (left <= left.zero()) co_return std::nullopt;
            boost::asio::steady_timer t(s_.get_executor(), left);
            std::array<std::byte, 65536> tmp;
            auto res = co_await (s_.async_read_some(boost::asio::buffer(tmp), boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                                 t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
            if (res.index() == 1) co_return std::nullopt;
            auto [ec, n] = std::get<0>(res);
            if (ec) co_return std::nullopt;
            buf_.insert(buf_.end(), tmp.begin(), tmp.begin() + n);
        }
    }
    // True if the peer closed the transport within `limit` (after draining frames).
    boost::asio::awaitable<bool> wait_disconnect(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        using namespace boost::asio::experimental::awaitable_operators;
        auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            auto left = deadline - std::chrono::steady_clock::now();
            if (left <= left.zero()) co_return false;
            boost::asio::steady_timer t(s_.get_executor(), left);
            std::array<std::byte, 65536> tmp;
            auto res = co_await (s_.async_read_some(boost::asio::buffer(tmp), boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                                 t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
            if (res.index() == 1) co_return false;
            if (std::get<0>(std::get<0>(res))) co_return true;
        }
    }
    socket& sock() { return s_; }

private:
    socket s_;
    std::vector<std::byte> buf_;
};

}  // namespace qtalk::test
