// Per-channel state of a session, keyed by the local id (PROTOCOL §2.3, §2.8).
// Touched only on the session's executor. Windows: `remote_window` is our send credit,
// `recv_credit` what the peer may still send; rx never holds more than the advertised window.
#pragma once
#include <chrono>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "mux/chunk_queue.hpp"
#include "mux/event.hpp"
#include "qtalk/mux/chunk.hpp"

namespace qtalk::mux::detail {

enum class Phase { opening, open };

// A Channel::watch() watcher, hooked to both events of its channel: each notify defers one call.
struct WatchHook final : Event::Hook {
    const boost::asio::any_io_executor* ex = nullptr;  // the session's
    std::shared_ptr<Watcher> watcher;
    void on_event() override {
        if (watcher) DeferredWakes::defer(*ex, watcher);
    }
};

struct ChannelState {
    ChannelState(const boost::asio::any_io_executor& ex, std::uint32_t id, bool local)
        : local_id(id), opened_locally(local), read_ev(ex), write_ev(ex) {}

    std::uint32_t local_id;
    std::uint32_t remote_id = 0;
    bool opened_locally;
    Phase phase = Phase::opening;

    bool close_sent = false, close_received = false;
    bool local_closed = false;      // this side's application closed it
    bool close_in_opening = false;  // CLOSE arrived before CONFIRM (§2.4)
    bool eof_sent = false, eof_received = false;
    bool open_failed = false;
    bool open_timed_out = false;
    bool open_over_limit = false;  // open_watched() past max_channels: never sent
    // A timed open()'s deadline (max: none); the session's open timer enforces it.
    std::chrono::steady_clock::time_point open_deadline = std::chrono::steady_clock::time_point::max();
    bool session_dead = false;

    std::uint32_t remote_window = 0, remote_max_packet = 0;
    std::uint32_t recv_credit = 0;
    std::uint64_t consumed_ungranted = 0;
    std::uint32_t grant_pending = 0;  // granted, not yet encoded into a queued WINDOW_ADJUST
    bool grant_queued = false;        // such a WINDOW_ADJUST is in the send queue

    ChunkQueue rx;

    // A reader waiting on an empty buffer lends its buffer: the read loop copies or reads the
    // next payload straight into it and sets lent_filled. While lent_busy (a transport read into
    // it is pending) the reader must not return.
    std::span<std::byte> lent;
    std::size_t lent_filled = 0;
    bool lent_busy = false;
    bool can_lend() const { return !lent.empty() && lent_filled == 0 && !lent_busy && rx.empty() && !local_closed; }
    void end_lending() {
        lent_busy = false;
        lent = {};
        read_ev.notify();
    }
    std::size_t rx_bytes = 0;
    // Bytes of a DATA payload whose header the read loop accepted and that are still arriving
    // (a large payload read straight from the transport): part of the receive buffer for §2.5.
    std::size_t incoming = 0;

    Event read_ev;   // data, EOF, CLOSE, session end
    Event write_ev;  // window, CONFIRM/FAILURE, write completion, CLOSE, session end
    std::uint64_t writes_queued = 0, writes_done = 0;  // DATA frames pointing into a writer's buffer
    std::uint32_t owned_queued = 0;                    // DATA frames whose payload the queue owns
    // DATA frames queued, of either kind (referenced frames complete in order).
    std::uint64_t data_queued() const { return owned_queued + (writes_queued - writes_done); }
    bool reading = false, writing = false;
    bool manual_credit = false;
    bool abandoned = false;   // the opener gave up before CONFIRM: close on arrival
    WatchHook watch;          // Channel::watch(); a splice replaces it
    std::shared_ptr<void> splice_owner;  // a detached splice joining this channel (splice.cpp)

    bool finished() const { return close_sent && close_received; }
};

}  // namespace qtalk::mux::detail
