// The one byte-stream concept every transport reduces to (TCP, unix, stdio, WebSocket,
// socketpair). mux and rpc see only this. All calls run on the stream's executor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include "qtalk/result.hpp"
#include "qtalk/transport/errc.hpp"

namespace qtalk::transport {

template <class T>
using Task = boost::asio::awaitable<T>;

// Who is on the other end, for logs and the admin rpc (PROTOCOL §5.6).
struct PeerInfo {
    std::string transport;               // "tcp", "unix", "stdio", "ws", "socketpair"
    std::string remote;                  // "ip:port" / "[v6]:port" for tcp and ws, else ""
    std::optional<std::uint32_t> uid;    // unix: SO_PEERCRED
    std::optional<std::int32_t> pid;
};

class Stream {
public:
    virtual ~Stream() = default;
    virtual boost::asio::any_io_executor get_executor() = 0;

    // Reads at least one byte into `buf`. Clean end of stream -> Errc::eof.
    virtual Task<Result<std::size_t>> read_some(std::span<std::byte> buf) = 0;
    // Scatter read: at least one byte, filling `bufs` in order (one readv on sockets). The
    // default reads into the first non-empty buffer only.
    virtual Task<Result<std::size_t>> read_scatter(std::span<const boost::asio::mutable_buffer> bufs);
    // Writes all of `bufs`, in order. A message-based transport (WebSocket) sends the whole
    // call as one message, so callers pass whole protocol messages only (PROTOCOL §3).
    virtual Task<Result<void>> write(std::span<const boost::asio::const_buffer> bufs) = 0;
    // Closes both directions; pending operations complete with an error. Idempotent.
    virtual void close() = 0;
    virtual const PeerInfo& peer() const = 0;
};

}  // namespace qtalk::transport
