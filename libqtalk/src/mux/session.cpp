// Session lifecycle, the single write loop (gathers queued frames into one transport write)
// and channel open/accept. Inbound frames are read_loop.cpp's; channel I/O is channel.cpp's.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <list>
#include <mutex>

#include "mux/session_impl.hpp"
#include "qtalk/frame/encoder.hpp"
#include "qtalk/log.hpp"
#include "qtalk/transport/errc.hpp"

namespace qtalk::mux {
namespace net = boost::asio;
using detail::ChannelState;

namespace {
// Control frames are tiny; this many queued bytes means the peer stopped reading.
constexpr std::size_t max_control_backlog = 4u << 20;
constexpr std::size_t max_frames_per_write = 256;
constexpr std::size_t max_bytes_per_write = 1u << 20;
// Writes up to 64 KiB are copied into the send queue and complete at once: a call's header and
// argument frames leave in one gathered write, and a bulk writer runs ahead of the transport so
// one syscall carries several frames (bulk throughput ~0.75x -> ~0.9x of a raw socket). The
// copies (and handed-over chunks) are bounded per session by one write's worth; beyond that
// writers wait for the transport as larger writes do.
constexpr std::size_t max_copied_write = 64 * 1024;
constexpr std::size_t max_owned_bytes = 1024 * 1024;
// Writes from this size up to max_copied_write that find nothing queued go straight to the socket
// from the writer's buffer (send_data_direct): one copy (the kernel's) instead of two, 1-channel
// bulk over unix ~0.56-0.73x -> ~0.98-1.06x of a raw socket. Smaller ones are copied, so that a
// call's frames still leave together in one write.
constexpr std::size_t min_direct_write = 16 * 1024;
// Idle sessions stay small (PROTOCOL-level goal: < 8 KiB per idle session); the read loop
// grows the buffer while reads keep filling it.
constexpr std::size_t read_buffer_size = 512;
}  // namespace

// The sessions started on one execution context. A session's loops keep it alive (each holds a
// reference), and its write loop and channel waiters are parked in events the session itself
// owns, so a session still open when its io_context is destroyed would never be freed: the
// context's shutdown ends every such session first. What that wakes is then destroyed, not run,
// with the context's queue.
class SessionRegistry final : public net::execution_context::service {
public:
    static inline net::execution_context::id id;
    explicit SessionRegistry(net::execution_context& ctx) : service(ctx) {}

    std::list<std::weak_ptr<Session>>::iterator add(std::weak_ptr<Session> s) {
        std::lock_guard lock(mutex_);
        return sessions_.insert(sessions_.end(), std::move(s));
    }
    void remove(std::list<std::weak_ptr<Session>>::iterator it) {
        std::lock_guard lock(mutex_);
        sessions_.erase(it);
    }

private:
    void shutdown() override {
        std::vector<std::shared_ptr<Session>> open;
        {
            std::lock_guard lock(mutex_);
            for (auto& w : sessions_)
                if (auto s = w.lock()) open.push_back(std::move(s));
        }
        for (auto& s : open) s->close();
    }

    std::mutex mutex_;
    std::list<std::weak_ptr<Session>> sessions_;
};

Session::Impl::Impl(Session& s, std::unique_ptr<transport::Stream> st, Options o)
    : self(s), stream(std::move(st)), ex(stream->get_executor()), opts(std::move(o)), log(qtalk::log::get("mux")),
      out_ready(ex), open_timer(ex), accept_ready(ex), closed_ev(ex), rbuf(read_buffer_size) {
    if (opts.name.empty()) opts.name = stream->peer().transport;
    direct = dynamic_cast<transport::detail::DirectSend*>(stream.get());
    out_ready.set_flush(true);
}

Session::Session(std::unique_ptr<transport::Stream> stream, Options opts)
    : impl_(std::make_unique<Impl>(*this, std::move(stream), std::move(opts))) {}

Session::~Session() {
    if (impl_->registry) impl_->registry->remove(impl_->registered);
}

std::shared_ptr<Session> Session::start(std::unique_ptr<transport::Stream> stream, Options opts) {
    std::shared_ptr<Session> s(new Session(std::move(stream), std::move(opts)));
    auto* impl = s->impl_.get();
    impl->registry = &net::use_service<SessionRegistry>(net::query(impl->ex, net::execution::context));
    impl->registered = impl->registry->add(s);
    // Each loop holds the session alive until it exits (Beast's shared_from_this pattern).
    net::co_spawn(impl->ex, [s]() -> Task<void> { co_await s->impl_->read_loop(); }, net::detached);
    net::co_spawn(impl->ex, [s]() -> Task<void> { co_await s->impl_->write_loop(); }, net::detached);
    return s;
}

net::any_io_executor Session::get_executor() const { return impl_->ex; }
bool Session::is_closed() const { return impl_->closed; }
std::error_code Session::close_reason() const { return impl_->reason; }
const transport::PeerInfo& Session::peer() const { return impl_->stream->peer(); }
const Options& Session::options() const { return impl_->opts; }

Stats Session::stats() const {
    auto s = impl_->stats;
    s.channels = static_cast<std::uint32_t>(impl_->channels.size());
    return s;
}

void Session::close(std::error_code reason) { impl_->teardown(reason); }

Task<void> Session::wait_closed() {
    while (!impl_->closed) co_await impl_->closed_ev.wait();
}

void Session::on_closed(std::function<void(std::error_code)> fn) {
    if (impl_->closed) {
        net::post(impl_->ex, [fn = std::move(fn), r = impl_->reason] { fn(r); });
        return;
    }
    impl_->on_closed.push_back(std::move(fn));
}

void Session::set_acceptor(std::function<void(Channel)> fn) {
    impl_->acceptor = std::move(fn);
    while (impl_->acceptor && !impl_->backlog.empty()) {
        auto st = std::move(impl_->backlog.front());
        impl_->backlog.pop_front();
        impl_->acceptor(impl_->make_handle(std::move(st)));
    }
}

Task<Result<Channel>> Session::open() {
    return open_until(shared_from_this(), std::chrono::steady_clock::time_point::max());
}

Task<Result<Channel>> Session::open(std::chrono::milliseconds timeout) {
    return open_until(shared_from_this(), std::chrono::steady_clock::now() + timeout);
}

Task<Result<Channel>> Session::open_until(std::shared_ptr<Session> self, std::chrono::steady_clock::time_point deadline) {
    auto& d = *self->impl_;
    if (d.closed) co_return Errc::session_closed;
    if (d.channels.size() >= d.opts.max_channels) co_return Errc::too_many_channels;
    auto st = make_recycled<ChannelState>(d.ex, d.channels.allocate(), true);
    d.channels.insert(st);
    d.send(frame::Open{st->local_id, d.opts.window, d.opts.max_packet});
    st->recv_credit = d.opts.window;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
        st->open_deadline = deadline;
        d.watch_open_deadline(deadline);
    }
    // If this coroutine is cancelled (e.g. an open timeout) the channel must not linger:
    // a later CONFIRM is answered with CLOSE at once.
    struct Abandon {
        ChannelState* st;
        Impl* d;
        bool done = false;
        ~Abandon() {
            if (done) return;
            if (st->phase == detail::Phase::opening) st->abandoned = true;
            else d->local_close(*st);
        }
    } guard{st.get(), &d};
    while (st->phase == detail::Phase::opening && !st->open_failed && !st->session_dead && !st->open_timed_out)
        co_await st->write_ev.wait();
    if (st->open_timed_out && st->phase == detail::Phase::opening) co_return Errc::open_timeout;  // guard abandons it
    guard.done = true;
    if (st->open_failed) co_return Errc::open_refused;
    if (st->session_dead) co_return Errc::session_closed;
    co_return d.make_handle(std::move(st));
}

Channel Session::open_watched(std::chrono::milliseconds timeout, std::shared_ptr<Watcher> w) {
    auto& d = *impl_;
    std::shared_ptr<ChannelState> st;
    if (d.closed || d.channels.size() >= d.opts.max_channels) {
        st = make_recycled<ChannelState>(d.ex, 0, true);  // never in the table: nothing will change
        st->session_dead = d.closed;
        st->open_over_limit = !d.closed;
        st->local_closed = st->close_sent = true;
    } else {
        st = make_recycled<ChannelState>(d.ex, d.channels.allocate(), true);
        d.channels.insert(st);
        d.send(frame::Open{st->local_id, d.opts.window, d.opts.max_packet});
        st->recv_credit = d.opts.window;
        st->open_deadline = std::chrono::steady_clock::now() + timeout;
        d.watch_open_deadline(st->open_deadline);
    }
    auto ch = d.make_handle(std::move(st));
    ch.watch(std::move(w));  // not kept when the open failed at once: nothing will change
    return ch;
}

void Session::Impl::watch_open_deadline(std::chrono::steady_clock::time_point deadline) {
    if (deadline >= open_timer_at || closed) return;
    open_timer_at = deadline;
    open_timer.expires_at(deadline);  // cancels a wait for a later deadline
    // Aborted: re-armed or torn down. The weak reference covers a completion already queued
    // when the session went away.
    open_timer.async_wait([w = self.weak_from_this()](boost::system::error_code ec) {
        auto s = w.lock();
        if (!ec && s && !s->impl_->closed) s->impl_->expire_opens();
    });
}

// Fails the timed opens whose deadline passed and re-arms for the earliest one left. Runs once
// per deadline reached, not per open: with one timeout for all opens that is rare.
void Session::Impl::expire_opens() {
    using clock = std::chrono::steady_clock;
    open_timer_at = clock::time_point::max();
    auto now = clock::now();
    auto next = clock::time_point::max();
    channels.for_each([&](ChannelState& ch) {
        if (ch.phase != detail::Phase::opening || ch.open_deadline == clock::time_point::max()) return;
        if (ch.open_deadline <= now) {
            ch.open_deadline = clock::time_point::max();
            ch.open_timed_out = true;
            ch.write_ev.notify();
        } else {
            next = std::min(next, ch.open_deadline);
        }
    });
    if (next != clock::time_point::max()) watch_open_deadline(next);
}

Task<Result<Channel>> Session::accept() {
    auto& d = *impl_;
    auto self = shared_from_this();
    while (d.backlog.empty() && !d.closed) co_await d.accept_ready.wait();
    if (d.backlog.empty()) co_return Errc::session_closed;
    auto st = std::move(d.backlog.front());
    d.backlog.pop_front();
    co_return d.make_handle(std::move(st));
}

Channel Session::Impl::make_handle(std::shared_ptr<ChannelState> st) {
    auto ref = make_recycled<Channel::Ref>();
    ref->session = self.shared_from_this();
    ref->st = std::move(st);
    return Channel(std::move(ref));
}

void Session::Impl::send(const frame::Message& m) {
    if (closed) return;
    OutFrame f;
    f.hdr_len = static_cast<std::uint8_t>(frame::encode_header(m, std::span<std::byte, frame::max_header_size>(f.hdr)));
    control_bytes += f.hdr_len;
    outq.push_back(std::move(f));
    out_ready.notify();
    if (control_bytes > max_control_backlog) teardown(Errc::control_backlog);
}

void Session::Impl::send_data(const std::shared_ptr<ChannelState>& ch, std::span<const std::byte> payload) {
    OutFrame f;
    f.hdr_len = static_cast<std::uint8_t>(frame::encode_header(
        frame::Data{ch->remote_id, payload}, std::span<std::byte, frame::max_header_size>(f.hdr)));
    f.payload = payload;
    f.ch = ch;
    if (ch->data_queued() == 0) ++sending_channels;
    f.seq = ++ch->writes_queued;
    outq.push_back(std::move(f));
    out_ready.notify();
}

bool Session::Impl::send_data_copy(const std::shared_ptr<ChannelState>& ch, std::span<const std::byte> payload) {
    if (payload.size() > max_copied_write || !may_own(*ch, payload.size())) return false;
    queue_owned(ch, Chunk(payload));
    return true;
}

// A bulk DATA frame with nothing queued ahead of it (so no write in progress either) leaves from
// the writer's buffer at once: the socket's own buffer is then the write-behind, and the bytes are
// copied once (by the kernel) instead of twice. What the socket does not take at once is copied
// into the queue, first in line, as the rest of this frame (at most max_copied_write, as any
// copy). False: nothing was sent (the transport cannot send at once, something is queued, the
// socket is full or failed); the caller queues the frame as usual, and a failed socket fails the
// write loop.
bool Session::Impl::send_data_direct(const std::shared_ptr<ChannelState>& ch, std::span<const std::byte> payload) {
    if (!direct || closed || !outq.empty() || payload.size() < min_direct_write || payload.size() > max_copied_write)
        return false;
    std::array<std::byte, frame::max_header_size> hdr;
    const std::size_t hl = frame::encode_header(frame::Data{ch->remote_id, payload}, std::span<std::byte, frame::max_header_size>(hdr));
    const std::array bufs{net::const_buffer(hdr.data(), hl), net::const_buffer(payload.data(), payload.size())};
    boost::system::error_code ec;
    const auto n = direct->send_at_once(bufs, ec);
    if (ec || n == 0) return false;  // after an error the socket is dead: the queued copy fails with it
    stats.bytes_out += n;
    if (n == hl + payload.size()) return true;
    OutFrame f;
    const auto hdr_sent = std::min(n, hl);
    f.hdr_len = static_cast<std::uint8_t>(hl - hdr_sent);
    std::memcpy(f.hdr.data(), hdr.data() + hdr_sent, f.hdr_len);
    f.owned = Chunk(payload.subspan(n - hdr_sent));
    f.payload = f.owned.span();
    push_owned(ch, std::move(f));
    return true;
}

bool Session::Impl::send_data_owned(const std::shared_ptr<ChannelState>& ch, Chunk& payload) {
    if (!may_own(*ch, payload.size())) return false;
    queue_owned(ch, std::move(payload));
    return true;
}

// While other channels also have data queued, one owned payload per channel: a channel that got
// a share of the budget must not get ahead of the others (fairness). Alone, a channel may use
// the whole budget, so a single bulk writer keeps several frames in each transport write.
// Past the budget only while nothing else is owned: a handed-over payload exists either way
// (copies are at most max_copied_write, well inside the budget).
bool Session::Impl::may_own(const ChannelState& ch, std::size_t n) const {
    const bool fair = ch.owned_queued == 0 || sending_channels == 1;  // it has one queued: it is the only one
    return fair && budget_allows(n);
}

bool Session::Impl::budget_allows(std::size_t n) const { return owned_bytes == 0 || owned_bytes + n <= max_owned_bytes; }

void Session::Impl::queue_owned(const std::shared_ptr<ChannelState>& ch, Chunk payload) {
    OutFrame f;
    f.owned = std::move(payload);
    f.payload = f.owned.span();  // the storage does not move with the OutFrame
    f.hdr_len = static_cast<std::uint8_t>(frame::encode_header(
        frame::Data{ch->remote_id, f.payload}, std::span<std::byte, frame::max_header_size>(f.hdr)));
    push_owned(ch, std::move(f));
}

// Queues a frame (or the rest of one) whose payload the queue owns.
void Session::Impl::push_owned(const std::shared_ptr<ChannelState>& ch, OutFrame f) {
    if (ch->data_queued() == 0) ++sending_channels;
    ++ch->owned_queued;
    f.ch = ch;
    owned_bytes += f.owned.size();
    outq.push_back(std::move(f));
    out_ready.notify();
}

Task<void> Session::Impl::write_loop() {
    std::vector<net::const_buffer> bufs;
    while (!closed) {
        if (outq.empty()) {
            co_await out_ready.wait();
            continue;
        }
        // Gather what is queued into one write: one syscall for many small frames. A message
        // transport (WebSocket) sends each write as one message, so the batch is also capped
        // in bytes (a single frame always goes, whatever its size).
        auto n = std::min(outq.size(), max_frames_per_write);
        bufs.clear();
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < n; ++i) {
            auto& f = outq[i];
            if (f.grant_for != no_channel && !f.grant_encoded) encode_grant(f);
            if (i > 0 && bytes + f.hdr_len + f.payload.size() > max_bytes_per_write) {
                n = i;
                break;
            }
            if (f.hdr_len) bufs.emplace_back(f.hdr.data(), f.hdr_len);
            if (!f.payload.empty()) bufs.emplace_back(f.payload.data(), f.payload.size());
            bytes += f.hdr_len + f.payload.size();
        }
        auto r = co_await stream->write(bufs);
        if (closed) break;  // teardown already failed every writer
        if (!r) {
            teardown(r.error());
            break;
        }
        stats.bytes_out += bytes;
        // Account for the batch first, wake writers after: a woken splice queues more frames
        // inline, which must not interleave with this bookkeeping.
        std::size_t freed = 0;
        completed.clear();
        for (std::size_t i = 0; i < n; ++i) {
            auto& f = outq.front();
            if (!f.owned.empty()) {
                owned_bytes -= f.owned.size();
                freed += f.owned.size();
                --f.ch->owned_queued;
            } else if (f.ch) {
                f.ch->writes_done = f.seq;
                if (completed.empty() || completed.back() != f.ch) completed.push_back(f.ch);
            }
            if (f.ch) {
                if (f.ch->data_queued() == 0) --sending_channels;
            } else {
                control_bytes -= f.grant_for != no_channel ? frame::window_adjust_size : f.hdr_len;
            }
            outq.pop_front();
        }
        for (auto& ch : completed) ch->write_ev.notify();  // nothing a writer does touches `completed`
        completed.clear();
        if (freed && !budget_waiters.empty() && !closed) {
            auto waiting = std::exchange(budget_waiters, {});
            for (auto* h : waiting) h->on_event();
        }
    }
}

void Session::Impl::teardown(std::error_code why, std::uint32_t channel) {
    if (closed) return;
    closed = true;
    reason = why;
    auto keep = self.shared_from_this();  // callbacks below may drop the last outside reference
    bool clean = why == transport::Errc::eof || why == Errc::session_closed;
    if (clean)
        log->debug("session closed session={} remote={} reason=\"{}\" bytes_in={} bytes_out={}", opts.name,
                   stream->peer().remote, why.message(), stats.bytes_in, stats.bytes_out);
    else if (channel != UINT32_MAX)
        log->warn("session closed session={} remote={} reason=\"{}\" channel={} bytes_in={} bytes_out={}", opts.name,
                  stream->peer().remote, why.message(), channel, stats.bytes_in, stats.bytes_out);
    else
        log->warn("session closed session={} remote={} reason=\"{}\" bytes_in={} bytes_out={}", opts.name,
                  stream->peer().remote, why.message(), stats.bytes_in, stats.bytes_out);
    stream->close();
    open_timer.cancel();
    // Channels already gone from the table (CLOSE received) may still have frames queued, and a
    // writer (or splice) waiting for them: the queue is dropped below, so they learn of it too.
    std::vector<std::shared_ptr<ChannelState>> queued;
    for (auto& f : outq)
        if (f.ch && !f.ch->session_dead && (queued.empty() || queued.back() != f.ch)) queued.push_back(f.ch);
    for (auto& ch : queued) ch->session_dead = true;
    channels.for_each([](ChannelState& ch) {
        ch.session_dead = true;
        ch.read_ev.notify();
        ch.write_ev.notify();
    });
    for (auto& st : backlog) st->session_dead = true;
    channels.clear();
    outq.clear();
    for (auto& ch : queued) ch->write_ev.notify();
    control_bytes = 0;
    owned_bytes = 0;
    budget_waiters.clear();  // every splice here also hears of the end through its channels
    sending_channels = 0;
    out_ready.notify();
    accept_ready.notify();
    closed_ev.notify();
    auto callbacks = std::move(on_closed);
    for (auto& fn : callbacks) net::post(ex, [fn = std::move(fn), why, keep] { fn(why); });
}

// PROTOCOL §2.7: CLOSE once, nothing after it; buffered inbound data is dropped.
void Session::Impl::local_close(ChannelState& ch) {
    ch.watch.watcher.reset();  // a closed channel is nobody's concern any more
    if (ch.local_closed || ch.session_dead) return;
    ch.local_closed = true;
    if (ch.phase == detail::Phase::opening && ch.opened_locally) ch.abandoned = true;  // CLOSE once CONFIRMed
    ch.rx.clear();
    ch.rx_bytes = 0;
    ch.read_ev.notify();
    ch.write_ev.notify();
    if (ch.close_sent) return;
    ch.close_sent = true;
    if (ch.phase == detail::Phase::open) send(frame::Close{ch.remote_id});
}

// PROTOCOL §2.5: return credit for consumed bytes at the latest when the buffer is empty,
// and never more than we can hold (rx + credit <= window always). A payload still arriving
// (its DATA header accepted) counts as buffered, so a reader that keeps up with a bulk sender
// returns credit once per two payloads, not after every read; but once the peer is down to
// half a window the credit goes at once, so a small window keeps the sender streaming.
void Session::Impl::grant_credit(ChannelState& ch) {
    if (ch.consumed_ungranted == 0) return;
    const bool buffered = ch.rx_bytes != 0 || ch.incoming != 0;
    if (buffered && ch.consumed_ungranted < opts.window / 2 && ch.recv_credit >= opts.window / 2) return;
    auto n = static_cast<std::uint32_t>(ch.consumed_ungranted);
    ch.consumed_ungranted = 0;
    grant(ch, n);
}

// Credit is committed at once; the WINDOW_ADJUST carrying it is encoded when the write loop
// takes it, so grants made before the loop runs (several reads, a splice's forwarded
// payloads) leave as one message (coalescing is allowed by §2.5).
void Session::Impl::grant(ChannelState& ch, std::uint32_t n) {
    if (n == 0 || !may_grant(ch) || closed) return;
    ch.recv_credit += n;
    ch.grant_pending += n;
    if (ch.grant_queued) return;
    ch.grant_queued = true;
    OutFrame f;
    f.grant_for = ch.local_id;
    control_bytes += frame::window_adjust_size;
    outq.push_back(std::move(f));
    out_ready.notify();
}

bool Session::Impl::may_grant(const ChannelState& ch) {
    return !ch.close_sent && !ch.close_received && !ch.eof_received && !ch.session_dead;
}

void Session::Impl::encode_grant(OutFrame& f) {
    auto* ch = channels.find(f.grant_for);
    f.grant_encoded = true;  // once, even if the batch is cut before it
    f.hdr_len = 0;
    if (!ch) return;
    ch->grant_queued = false;
    auto n = ch->grant_pending;
    ch->grant_pending = 0;
    if (n == 0 || !may_grant(*ch)) return;  // the channel is ending: the credit is moot
    f.hdr_len = static_cast<std::uint8_t>(
        frame::encode_header(frame::WindowAdjust{ch->remote_id, n}, std::span<std::byte, frame::max_header_size>(f.hdr)));
}

Channel::Ref::~Ref() {
    auto s = session;
    auto c = st;
    net::dispatch(s->get_executor(), [s, c] { s->impl_->local_close(*c); });
}

}  // namespace qtalk::mux
