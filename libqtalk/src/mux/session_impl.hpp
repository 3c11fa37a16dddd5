// Session::Impl: the state shared by the read loop, the write loop and the channel operations
// of one session. Everything here runs on the session's executor.
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "mux/channel_state.hpp"
#include "mux/id_table.hpp"
#include "qtalk/mux/recycled.hpp"
#include "qtalk/frame/message.hpp"
#include "qtalk/mux/session.hpp"
#include "transport/direct_send.hpp"

namespace qtalk::mux {

struct Channel::Ref {
    std::shared_ptr<Session> session;
    std::shared_ptr<detail::ChannelState> st;
    ~Ref();
};

namespace detail {
// What mux internals (the splice) need of a Channel handle.
struct ChannelAccess {
    static const std::shared_ptr<ChannelState>& state(const Channel& c) { return c.ref_->st; }
    static Session::Impl& session(const Channel& c) { return *c.ref_->session->impl_; }
};
}  // namespace detail

inline constexpr std::uint32_t no_channel = UINT32_MAX;

// One queued outbound message. DATA payloads point into the writer's buffer, which stays
// valid until the writer sees its sequence number completed.
struct OutFrame {
    std::array<std::byte, frame::max_header_size> hdr{};
    std::uint8_t hdr_len = 0;
    std::span<const std::byte> payload;
    std::shared_ptr<detail::ChannelState> ch;  // set for DATA: completion is reported to it
    std::uint64_t seq = 0;
    Chunk owned;  // DATA payloads the queue owns (copied or handed over): the writer need not wait
    // A WINDOW_ADJUST for this local channel id, encoded (with all credit granted by then) when
    // the write loop takes it.
    std::uint32_t grant_for = no_channel;
    bool grant_encoded = false;
};

class SessionRegistry;

struct Session::Impl {
    Impl(Session& s, std::unique_ptr<transport::Stream> st, Options o);

    Session& self;
    std::unique_ptr<transport::Stream> stream;
    transport::detail::DirectSend* direct = nullptr;  // the stream, when it can send at once (sockets)
    boost::asio::any_io_executor ex;
    Options opts;
    std::shared_ptr<spdlog::logger> log;

    detail::IdTable channels;

    // Its blocks (a few frames each) come from the per-thread chunk cache: a busy session
    // allocates and frees one every few frames.
    std::deque<OutFrame, detail::RecycledAllocator<OutFrame>> outq;
    std::size_t control_bytes = 0;  // queued non-DATA bytes, bounded (peer must read them)
    std::size_t owned_bytes = 0;    // copied DATA payloads queued, bounded by max_owned_bytes
    std::size_t sending_channels = 0;  // channels with DATA queued (ChannelState::data_queued() > 0)
    detail::Event out_ready;
    // Splice directions waiting for send budget: run once the write loop has freed some.
    std::vector<detail::Event::Hook*> budget_waiters;
    std::vector<std::shared_ptr<detail::ChannelState>> completed;  // write loop scratch: writers to wake

    // One timer for every timed open: armed for the earliest deadline of a channel being opened.
    boost::asio::steady_timer open_timer;
    std::chrono::steady_clock::time_point open_timer_at = std::chrono::steady_clock::time_point::max();

    std::deque<std::shared_ptr<detail::ChannelState>> backlog;
    detail::Event accept_ready;
    std::function<void(Channel)> acceptor;

    bool closed = false;
    std::error_code reason;
    detail::Event closed_ev;
    std::vector<std::function<void(std::error_code)>> on_closed;

    Stats stats;
    std::vector<std::byte> rbuf;

    SessionRegistry* registry = nullptr;  // ends this session if its context goes away first
    std::list<std::weak_ptr<Session>>::iterator registered;

    // session.cpp
    void send(const frame::Message& m);
    void send_data(const std::shared_ptr<detail::ChannelState>& ch, std::span<const std::byte> payload);
    // Queues a copy of a payload up to 64 KiB; false if the budget is used up.
    bool send_data_copy(const std::shared_ptr<detail::ChannelState>& ch, std::span<const std::byte> payload);
    bool send_data_direct(const std::shared_ptr<detail::ChannelState>& ch, std::span<const std::byte> payload);
    // Queues `payload` itself (moved from only when accepted); false if the budget is used up.
    bool send_data_owned(const std::shared_ptr<detail::ChannelState>& ch, Chunk& payload);
    bool may_own(const detail::ChannelState& ch, std::size_t n) const;
    // The send budget alone (a splice's test: it queues payloads that already exist).
    bool budget_allows(std::size_t n) const;
    void queue_owned(const std::shared_ptr<detail::ChannelState>& ch, Chunk payload);
    void push_owned(const std::shared_ptr<detail::ChannelState>& ch, OutFrame f);
    void teardown(std::error_code why, std::uint32_t channel = UINT32_MAX);
    Task<void> write_loop();
    Channel make_handle(std::shared_ptr<detail::ChannelState> st);
    void local_close(detail::ChannelState& ch);
    void grant_credit(detail::ChannelState& ch);
    void grant(detail::ChannelState& ch, std::uint32_t n);
    static bool may_grant(const detail::ChannelState& ch);
    void encode_grant(OutFrame& f);
    void watch_open_deadline(std::chrono::steady_clock::time_point deadline);
    void expire_opens();

    // read_loop.cpp
    Task<void> read_loop();
    Result<void> handle(const frame::Message& m);
    // Validates a DATA header; returns the channel to deliver to, or nullptr to discard.
    Result<detail::ChannelState*> check_data(std::uint32_t recipient, std::uint32_t len);
    void deliver(detail::ChannelState& ch, Chunk bytes);
    void deliver(detail::ChannelState& ch, std::span<const std::byte> bytes);
    Task<std::optional<std::size_t>> read_payload(std::uint32_t recipient, detail::ChannelState* dest,
                                                  std::size_t remaining, std::span<const std::byte> prefix);
    void on_open(const frame::Open& m);
};

}  // namespace qtalk::mux
