// qmux Session and Channel (PROTOCOL §2): channels multiplexed over one transport::Stream,
// exact per-channel flow control, half-close, close handshake.
// Threading: a session and its channels are used only from the session's executor (the
// stream's; use a strand or a single-threaded io_context). Application coroutines that use
// them are co_spawned there.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "qtalk/mux/chunk.hpp"
#include "qtalk/mux/errc.hpp"
#include "qtalk/mux/watcher.hpp"
#include "qtalk/result.hpp"
#include "qtalk/transport/stream.hpp"

namespace qtalk::mux {

template <class T>
using Task = boost::asio::awaitable<T>;

struct Options {
    // What we advertise (PROTOCOL §2.9: the references use 2^30 / 2^24). The window is also the
    // most we ever buffer per channel.
    std::uint32_t window = 1u << 30;
    std::uint32_t max_packet = 1u << 24;
    std::uint32_t max_channels = 65536;    // live channels per session; beyond: OPEN_FAILURE
    std::uint32_t accept_backlog = 1024;   // opened by the peer, not yet accept()ed
    std::string name;                      // for log lines, e.g. "session=7"
};

struct Stats {
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::uint32_t channels = 0;
};

class Session;
namespace detail {
struct ChannelState;
struct ChannelAccess;
}  // namespace detail

// A handle to one channel. Copyable; when the last handle goes, the channel is closed.
class Channel {
public:
    Channel() = default;
    explicit operator bool() const noexcept { return ref_ != nullptr; }

    // Reads up to buf.size() bytes; 0 = end of stream (EOF or CLOSE from the peer, after all
    // buffered data). Errors: session_closed, channel_closed. While it waits on an empty
    // channel, `buf` is lent to the session, which places the next payload straight into it.
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf);
    // Reads exactly buf.size() bytes; end of stream first -> transport::Errc::eof.
    Task<Result<void>> read_exact(std::span<std::byte> buf);
    // Copies up to buf.size() bytes that have already arrived, without waiting (0 if none, or
    // while another read is pending); credit as read_some.
    std::size_t read_buffered(std::span<std::byte> buf);
    // Writes all bytes, split by the peer's maximum packet and window; suspends while the window
    // is exhausted. Completes once the bytes are handed to the transport, or, for writes up to
    // 64 KiB that fit the window, once copied into the session's bounded send queue (so the
    // writer runs ahead and the session gathers several frames per transport write).
    // One write at a time.
    Task<Result<void>> write(std::span<const std::byte> data);
    // The same for a buffer the caller hands over (a spliced payload): when it fits the window
    // and the session's send budget it is queued without a copy and the call completes at once.
    Task<Result<void>> write(Chunk data);
    // Half-close: EOF. Idempotent.
    Task<Result<void>> close_write();
    // Sends CLOSE (once); pending reads/writes fail with channel_closed. Idempotent, never fails.
    void close();

    // Splicing (the hub): the next received DATA payload whole, as it arrived (the rest of it
    // after a partial read_some); empty = end of stream.
    Task<Result<Chunk>> read_chunk();
    // With manual credit, reads return no window to the peer; grant(n) does, once the bytes have
    // been forwarded (PROTOCOL §5.4 end-to-end flow control).
    void set_manual_credit(bool on);
    void grant(std::uint32_t n);
    // Completes once the channel is finished: CLOSE received, closed locally, or session ended.
    Task<void> wait_closed();

    // Without coroutines (qtalk/mux/watcher.hpp): `w` hears of every change of this channel
    // until unwatch(), close(), the channel's end (both CLOSEs, or the session's end: `w` still
    // hears of it) or a splice joining it; the channel keeps `w` alive until then. A channel
    // that has already ended, or is closed, is not watched. One watcher per channel; coroutine
    // operations may run alongside.
    void watch(std::shared_ptr<Watcher> w);
    void unwatch();
    // Queues a copy of `data` as one DATA message and returns true when that is possible at once:
    // no write pending, the channel open and not half-closed, `data` within the window, the
    // peer's maximum packet, 64 KiB and the session's send budget. Otherwise queues nothing.
    bool try_write(std::span<const std::byte> data);
    // A channel from Session::open_watched(): still waiting for the peer's CONFIRM or FAILURE.
    bool opening() const;
    // Why such an open failed (open_refused, open_timeout, session_closed), or none.
    std::error_code open_error() const;

    std::uint32_t local_id() const;
    std::uint32_t remote_id() const;
    bool eof_received() const;      // the peer will send no more data
    bool closed() const;            // CLOSE sent or received
    std::size_t buffered() const;   // received bytes not yet read
    std::uint32_t send_window() const;  // our remaining credit towards the peer
    Session& session() const;

private:
    friend class Session;
    friend struct detail::ChannelAccess;
    struct Ref;
    explicit Channel(std::shared_ptr<Ref> r) : ref_(std::move(r)) {}
    std::shared_ptr<Ref> ref_;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    // Creates and starts a session over `stream` (its read and write loops run on the
    // stream's executor until the transport ends or close() is called).
    static std::shared_ptr<Session> start(std::unique_ptr<transport::Stream> stream, Options opts = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    boost::asio::any_io_executor get_executor() const;

    Task<Result<Channel>> open();
    // As open(), but gives up with Errc::open_timeout when no CONFIRM/FAILURE arrives within
    // `timeout`; a CONFIRM arriving later is answered with CLOSE. One timer per session serves
    // every timed open.
    Task<Result<Channel>> open(std::chrono::milliseconds timeout);
    // Sends OPEN and returns the channel at once, opening() until the peer answers; `w` watches
    // it (Channel::watch) and hears of the answer, of the timeout (open_error() open_timeout)
    // or of the session's end. Closing or releasing the channel before the answer abandons it: a
    // CONFIRM arriving later is answered with CLOSE. A closed session gives a channel whose
    // open_error() is session_closed (too_many_channels past Options::max_channels), unwatched.
    Channel open_watched(std::chrono::milliseconds timeout, std::shared_ptr<Watcher> w);
    // Waits for the next channel the peer opens. Not usable together with set_acceptor().
    Task<Result<Channel>> accept();
    // Delivers every channel the peer opens to `fn` immediately, instead of accept().
    void set_acceptor(std::function<void(Channel)> fn);

    // Closes the transport; every pending operation fails with session_closed. Idempotent.
    void close(std::error_code reason = Errc::session_closed);
    bool is_closed() const;
    // Why the session ended (transport::Errc::eof for a clean end).
    std::error_code close_reason() const;
    Task<void> wait_closed();
    // Called once (on the session executor) when the session has ended.
    void on_closed(std::function<void(std::error_code)> fn);

    const transport::PeerInfo& peer() const;
    Stats stats() const;
    const Options& options() const;

    struct Impl;

private:
    explicit Session(std::unique_ptr<transport::Stream> stream, Options opts);
    static Task<Result<Channel>> open_until(std::shared_ptr<Session> self,
                                            std::chrono::steady_clock::time_point deadline);
    friend class Channel;
    friend struct detail::ChannelAccess;
    std::unique_ptr<Impl> impl_;
};

}  // namespace qtalk::mux
