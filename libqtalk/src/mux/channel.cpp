// Channel I/O: reads drain the channel buffer and return credit (§2.5); writes wait for window
// and hand chunks of min(window, peer max packet) to the write loop (§2.5); EOF and CLOSE (§2.6-2.7).
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mux/session_impl.hpp"
#include "qtalk/transport/errc.hpp"

namespace qtalk::mux {
using detail::ChannelState;

namespace {
struct Flag {  // marks one pending operation; cleared on scope exit
    bool& f;
    explicit Flag(bool& flag) : f(flag) { f = true; }
    ~Flag() { f = false; }
};

// Copies buffered payload bytes into buf after the first `n` (already filled by a lent read),
// and returns credit for all of them unless credit is manual.
std::size_t take_buffered(ChannelState& ch, Session::Impl& d, std::span<std::byte> buf, std::size_t n) {
    const auto lent = n;
    while (n < buf.size() && !ch.rx.empty()) {
        auto& front = ch.rx.front();
        auto take = std::min(buf.size() - n, front.size());
        std::memcpy(buf.data() + n, front.data(), take);
        n += take;
        front.consume(take);
        if (front.empty()) ch.rx.pop_front();
    }
    ch.rx_bytes -= n - lent;
    if (!ch.manual_credit) {
        ch.consumed_ungranted += n;
        d.grant_credit(ch);
    }
    return n;
}
}  // namespace

Task<Result<std::size_t>> Channel::read_some(std::span<std::byte> buf) {
    auto ref = ref_;  // keeps state and session alive across suspension
    auto& ch = *ref->st;
    auto& d = *ref->session->impl_;
    if (ch.reading) co_return Errc::busy;
    Flag pending(ch.reading);
    // A cancellable read (e.g. one side of `||`) must not lend its buffer: once cancelled it
    // cannot wait for a transport read already filling the buffer, and must return at once.
    auto cancellation = co_await boost::asio::this_coro::cancellation_state;
    const bool may_lend = !cancellation.slot().is_connected();
    struct Unlend {  // the buffer is lent only while this call waits
        ChannelState& ch;
        ~Unlend() {
            ch.lent = {};
            ch.lent_filled = 0;
        }
    } unlend{ch};
    std::size_t n = 0;
    for (;;) {
        if (ch.lent_busy) {  // the read loop is reading into `buf`: it must finish first
            co_await ch.read_ev.wait();
            continue;
        }
        if (ch.local_closed) co_return Errc::channel_closed;
        if (ch.lent_filled > 0) {
            n = ch.lent_filled;
            break;
        }
        if (ch.rx_bytes > 0) break;
        if (ch.eof_received || ch.close_received) co_return std::size_t{0};
        if (ch.session_dead) co_return Errc::session_closed;
        if (buf.empty()) co_return std::size_t{0};
        if (may_lend) ch.lent = buf;
        co_await ch.read_ev.wait();
    }
    co_return take_buffered(ch, d, buf, n);
}

std::size_t Channel::read_buffered(std::span<std::byte> buf) {
    auto& ch = *ref_->st;
    if (ch.reading || ch.local_closed) return 0;  // a pending read_some owns the buffer
    return take_buffered(ch, *ref_->session->impl_, buf, 0);
}

Task<Result<Chunk>> Channel::read_chunk() {
    auto ref = ref_;
    auto& ch = *ref->st;
    auto& d = *ref->session->impl_;
    if (ch.reading) co_return Errc::busy;
    Flag pending(ch.reading);
    for (;;) {
        if (ch.local_closed) co_return Errc::channel_closed;
        if (ch.rx_bytes > 0) break;
        if (ch.eof_received || ch.close_received) co_return Chunk{};
        if (ch.session_dead) co_return Errc::session_closed;
        co_await ch.read_ev.wait();
    }
    Chunk out = std::move(ch.rx.front());
    ch.rx.pop_front();
    ch.rx_bytes -= out.size();
    if (!ch.manual_credit) {
        ch.consumed_ungranted += out.size();
        d.grant_credit(ch);
    }
    co_return out;
}

void Channel::set_manual_credit(bool on) { ref_->st->manual_credit = on; }

void Channel::grant(std::uint32_t n) { ref_->session->impl_->grant(*ref_->st, n); }

Task<void> Channel::wait_closed() {
    auto ref = ref_;
    auto& ch = *ref->st;
    while (!ch.close_received && !ch.local_closed && !ch.session_dead) co_await ch.write_ev.wait();
}

Task<Result<void>> Channel::read_exact(std::span<std::byte> buf) {
    std::size_t have = 0;
    while (have < buf.size()) {
        auto n = co_await read_some(buf.subspan(have));
        if (!n) co_return n.error();
        if (*n == 0) co_return transport::Errc::eof;
        have += *n;
    }
    co_return Result<void>{};
}

namespace {
// A write that fits the window and one frame, with nothing of the writer's own buffer still
// queued, may go as one owned frame (and complete at once).
bool fits_one_frame(const ChannelState& ch, std::size_t n) {
    return n > 0 && ch.writes_done == ch.writes_queued && n <= ch.remote_window && n <= ch.remote_max_packet;
}

std::error_code write_error(const ChannelState& ch) {
    if (ch.local_closed) return Errc::channel_closed;
    if (ch.session_dead) return Errc::session_closed;
    if (ch.close_received) return Errc::closed_by_peer;
    if (ch.eof_sent) return Errc::write_after_eof;
    return {};
}
}  // namespace

Task<Result<void>> Channel::write(Chunk data) {
    auto ref = ref_;
    auto& ch = *ref->st;
    auto n = data.size();
    if (!ch.writing && !write_error(ch) && fits_one_frame(ch, n) && ref->session->impl_->send_data_owned(ref->st, data)) {
        ch.remote_window -= static_cast<std::uint32_t>(n);
        co_return Result<void>{};
    }
    co_return co_await write(data.span());  // `data` outlives the write in this frame
}

Task<Result<void>> Channel::write(std::span<const std::byte> data) {
    auto ref = ref_;
    auto st = ref->st;
    auto& ch = *st;
    auto& d = *ref->session->impl_;
    if (ch.writing) co_return Errc::busy;
    Flag pending(ch.writing);
    while (!data.empty()) {
        if (auto ec = write_error(ch)) co_return ec;
        if (ch.remote_window == 0) {
            co_await ch.write_ev.wait();
            continue;
        }
        if (fits_one_frame(ch, data.size()) && d.send_data_direct(st, data)) {
            ch.remote_window -= static_cast<std::uint32_t>(data.size());
            // Sent (what the socket did not take is queued as a copy): nothing of the caller's
            // buffer is referenced. As after an Asio write that completed at once, the writer goes
            // on after a trip through the scheduler, so a bulk writer takes turns with the rest.
            co_await boost::asio::post(d.ex, boost::asio::use_awaitable);
            co_return Result<void>{};
        }
        if (fits_one_frame(ch, data.size()) && d.send_data_copy(st, data)) {
            ch.remote_window -= static_cast<std::uint32_t>(data.size());
            co_return Result<void>{};  // copied: nothing of the caller's buffer is referenced
        }
        // Queue as many chunks as the window allows before waiting (§2.5 chunking).
        while (!data.empty() && ch.remote_window > 0) {
            auto n = std::min<std::size_t>({data.size(), ch.remote_window, ch.remote_max_packet});
            ch.remote_window -= static_cast<std::uint32_t>(n);
            d.send_data(st, data.first(n));
            data = data.subspan(n);
        }
    }
    // The payload points into the caller's buffer: wait until the transport has taken it.
    while (ch.writes_done < ch.writes_queued && !ch.session_dead) co_await ch.write_ev.wait();
    if (ch.writes_done < ch.writes_queued) co_return Errc::session_closed;
    co_return Result<void>{};
}

Task<Result<void>> Channel::close_write() {
    auto ref = ref_;
    auto& ch = *ref->st;
    auto& d = *ref->session->impl_;
    if (ch.local_closed) co_return Errc::channel_closed;
    if (ch.session_dead) co_return Errc::session_closed;
    if (ch.close_sent || ch.close_received) co_return Errc::closed_by_peer;
    if (!ch.eof_sent) {
        ch.eof_sent = true;
        d.send(frame::Eof{ch.remote_id});
    }
    co_return Result<void>{};
}

bool Channel::try_write(std::span<const std::byte> data) {
    auto& ch = *ref_->st;
    if (ch.writing || write_error(ch) || ch.phase != detail::Phase::open || !fits_one_frame(ch, data.size()) ||
        !ref_->session->impl_->send_data_copy(ref_->st, data))
        return false;
    ch.remote_window -= static_cast<std::uint32_t>(data.size());
    return true;
}

void Channel::watch(std::shared_ptr<Watcher> w) {
    auto& ch = *ref_->st;
    if (ch.session_dead || ch.local_closed || ch.finished()) return;  // ended: it would be held for nothing
    ch.watch.ex = &ref_->session->impl_->ex;
    ch.watch.watcher = std::move(w);
    ch.read_ev.set_hook(&ch.watch);
    ch.write_ev.set_hook(&ch.watch);
}

void Channel::unwatch() {
    auto& ch = *ref_->st;
    if (!ch.watch.watcher) return;
    ch.watch.watcher.reset();
    ch.read_ev.set_hook(nullptr);
    ch.write_ev.set_hook(nullptr);
}

bool Channel::opening() const {
    auto& ch = *ref_->st;
    return ch.phase == detail::Phase::opening && !open_error();
}

std::error_code Channel::open_error() const {
    auto& ch = *ref_->st;
    if (ch.open_timed_out) return Errc::open_timeout;
    if (ch.open_failed) return Errc::open_refused;
    if (ch.open_over_limit) return Errc::too_many_channels;
    if (ch.phase == detail::Phase::opening && ch.session_dead) return Errc::session_closed;
    return {};
}

void Channel::close() {
    if (ref_) ref_->session->impl_->local_close(*ref_->st);
}

std::uint32_t Channel::local_id() const { return ref_->st->local_id; }
std::uint32_t Channel::remote_id() const { return ref_->st->remote_id; }
bool Channel::eof_received() const { return ref_->st->eof_received || ref_->st->close_received; }
bool Channel::closed() const { return ref_->st->close_sent || ref_->st->close_received; }
std::size_t Channel::buffered() const { return ref_->st->rx_bytes + ref_->st->lent_filled; }
std::uint32_t Channel::send_window() const { return ref_->st->remote_window; }
Session& Channel::session() const { return *ref_->session; }

}  // namespace qtalk::mux
