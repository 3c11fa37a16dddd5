// Two mux sessions connected by a socketpair, or one session facing a RawPeer.
#pragma once
#include <sys/socket.h>

#include <memory>
#include <utility>

#include "qtalk/mux/session.hpp"
#include "qtalk/transport/listener.hpp"
#include "support/raw_peer.hpp"

namespace qtalk::test {

inline std::pair<std::shared_ptr<mux::Session>, std::shared_ptr<mux::Session>> session_pair(
    boost::asio::any_io_executor ex, mux::Options a = {}, mux::Options b = {}) {
    auto pair = transport::socket_pair(ex);
    if (a.name.empty()) a.name = "a";
    if (b.name.empty()) b.name = "b";
    return {mux::Session::start(std::move(pair->first), a), mux::Session::start(std::move(pair->second), b)};
}

inline std::pair<std::shared_ptr<mux::Session>, std::unique_ptr<RawPeer>> session_with_raw_peer(
    boost::asio::any_io_executor ex, mux::Options opts = {}) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    auto stream = transport::adopt_stream(ex, fds[0]);
    boost::asio::local::stream_protocol::socket raw(ex);
    raw.assign(boost::asio::local::stream_protocol(), fds[1]);
    if (opts.name.empty()) opts.name = "under-test";
    return {mux::Session::start(std::move(*stream), opts), std::make_unique<RawPeer>(std::move(raw))};
}

}  // namespace qtalk::test
