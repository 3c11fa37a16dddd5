// What a stream that can send without waiting offers the mux (sockets): a bulk DATA frame can
// then leave straight from the writer's buffer when nothing is queued ahead of it, instead of
// being copied into the send queue first. Private to the library.
#pragma once
#include <cstddef>
#include <span>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace qtalk::transport::detail {

class DirectSend {
public:
    // Sends what the transport takes at once, without waiting; returns the bytes taken (0 when
    // it has no room). An error other than "no room" is set in `ec`.
    virtual std::size_t send_at_once(std::span<const boost::asio::const_buffer> bufs, boost::system::error_code& ec) = 0;

protected:
    ~DirectSend() = default;
};

}  // namespace qtalk::transport::detail
