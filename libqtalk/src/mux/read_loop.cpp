// The session's read loop: decodes inbound qmux messages and applies them to channel state
// (PROTOCOL §2.4-2.8, tolerance rules of §6). Never waits on the application: data goes into
// the channel's buffer (bounded by the window we granted), new channels into the backlog.
#include <cstring>

#include "mux/session_impl.hpp"
#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"

namespace qtalk::mux {
using detail::ChannelState;

namespace {
// DATA payloads above a quarter of the read buffer are read straight into their own buffer.
// The read buffer doubles (up to max_read_buffer) whenever a read fills it: busy sessions
// batch many small frames per syscall, idle ones keep 512 bytes.
constexpr std::size_t max_read_buffer = 64 * 1024;
constexpr std::size_t max_piece = 256 * 1024;
// After this many messages of one batch, the wakes they caused run (and with them the writes):
// once per batch. A buffer of dozens of calls (or of a splice's replies, forwarded as they are
// applied) then starts the peer on the first ones while the rest are applied, and the rest still
// leave together at the batch's end. With everything in one write at the end, caller, hub and
// responder each waited for the others' whole batches: on a busy machine they ran one after
// another instead of side by side.
constexpr std::size_t early_run_after = 16;
}  // namespace

Task<void> Session::Impl::read_loop() {
    std::size_t begin = 0, end = 0;
    bool after_payload = false;  // the last message was a large payload read by read_payload
    while (!closed) {
        bool large = false;  // rbuf holds the start of a DATA message read by read_payload
        {
            // What the messages below wake runs when they are all applied, before the next read
            // (and once early in a long batch: early_run_after).
            detail::DeferredWakes wakes(ex);
            std::size_t applied = 0;
            // Apply every complete message in the buffer.
            for (;;) {
                std::span<const std::byte> avail(rbuf.data() + begin, end - begin);
                auto r = frame::decode(avail, opts.max_packet);
                if (!r) {
                    if (r.error() == frame::Errc::payload_too_large) {
                        teardown(Errc::packet_too_large, frame::get_u32(avail.data() + 1));
                    } else {
                        log->warn("malformed frame session={} error=\"{}\" type=0x{:02x}", opts.name,
                                  r.error().message(), std::to_integer<int>(avail[0]));
                        teardown(Errc::frame_error);
                    }
                    co_return;
                }
                if (*r) {
                    auto res = handle((*r)->message);
                    begin += (*r)->consumed;
                    if (!res) {
                        teardown(res.error(), frame::channel_of((*r)->message));
                        co_return;
                    }
                    if (closed) co_return;
                    if (++applied == early_run_after) {
                        wakes.run();
                        if (closed) co_return;
                    }
                    continue;
                }
                // Incomplete. A large DATA payload is read directly into its own buffer.
                large = avail.size() >= frame::data_header_size && avail[0] == std::byte(frame::Type::data) &&
                        frame::get_u32(avail.data() + 5) > rbuf.size() / 4;
                break;
            }
            wakes.run();
        }
        if (closed) co_return;
        if (large) {  // checked against the channel as the wakes above left it
            std::span<const std::byte> avail(rbuf.data() + begin, end - begin);
            auto recipient = frame::get_u32(avail.data() + 1);
            auto len = frame::get_u32(avail.data() + 5);
            auto target = check_data(recipient, len);
            if (!target) {
                teardown(target.error(), recipient);
                co_return;
            }
            if (*target) (*target)->incoming = len;
            begin = end = 0;  // the prefix is placed before anything is read into rbuf
            auto tail = co_await read_payload(recipient, *target, len, avail.subspan(frame::data_header_size));
            if (!tail) co_return;  // torn down
            end = *tail;
            after_payload = true;
            continue;
        }
        if (begin == end) {
            begin = end = 0;
        } else if (begin > 0) {
            std::memmove(rbuf.data(), rbuf.data() + begin, end - begin);
            end -= begin;
            begin = 0;
        }
        // Right after a large payload, read no further than the next header: if it starts another
        // large payload, those bytes then go straight to their destination, not through rbuf.
        auto room = std::span(rbuf).subspan(end);
        if (after_payload && end < frame::data_header_size) room = room.first(frame::data_header_size - end);
        after_payload = false;
        auto n = co_await stream->read_some(room);
        if (!n) {
            teardown(n.error());
            co_return;
        }
        stats.bytes_in += *n;
        end += *n;
        if (end == rbuf.size() && rbuf.size() < max_read_buffer) rbuf.resize(rbuf.size() * 2);
    }
}

// The rest of a DATA payload whose first bytes (`prefix`, inside rbuf) have been read. A reader
// waiting with an empty buffer gets the bytes straight into its own buffer; otherwise they go
// into pieces of at most max_piece, so the reader starts early and buffers stay small; a splice
// (manual credit) gets the payload whole, since it forwards each DATA message unsplit (§6.13).
// The read that completes the payload also reads up to one frame header into rbuf, so the next
// large payload starts with nothing to copy. Returns the bytes placed in rbuf, or nothing once
// the session is torn down.
Task<std::optional<std::size_t>> Session::Impl::read_payload(std::uint32_t recipient, ChannelState* dest,
                                                             std::size_t remaining,
                                                             std::span<const std::byte> prefix) {
    const std::size_t piece_max = !dest || dest->manual_credit ? remaining : max_piece;
    std::size_t tail = 0;
    while (remaining > 0) {
        Chunk piece;
        std::span<std::byte> dst;
        const bool lend = dest && dest->can_lend();
        if (lend) {
            dst = dest->lent.first(std::min(dest->lent.size(), remaining));
            dest->lent_busy = true;
        } else {
            piece = Chunk(std::min(remaining, std::max(piece_max, prefix.size())));
            dst = piece.span();
        }
        auto have = std::min(prefix.size(), dst.size());
        if (have) std::memcpy(dst.data(), prefix.data(), have);
        prefix = prefix.subspan(have);
        while (have < dst.size()) {
            boost::asio::mutable_buffer bufs[2] = {{dst.data() + have, dst.size() - have}, {}};
            const bool last = dst.size() == remaining;
            if (last) bufs[1] = {rbuf.data(), frame::data_header_size};
            auto n = co_await stream->read_scatter(std::span(bufs, last ? 2 : 1));
            if (!n) {
                if (lend) dest->end_lending();
                teardown(n.error());
                co_return std::nullopt;
            }
            stats.bytes_in += *n;
            auto into = std::min(*n, dst.size() - have);
            have += into;
            tail = *n - into;
        }
        if (lend) dest->end_lending();
        if (closed) co_return std::nullopt;
        remaining -= dst.size();
        // The channel may have ended while we read; re-find it by id.
        const bool alive = dest && channels.find(recipient) == dest;
        if (alive) dest->incoming = remaining;
        if (lend) {
            if (alive && !dest->local_closed) dest->lent_filled = dst.size();
        } else if (alive) {
            deliver(*dest, std::move(piece));
        }
    }
    co_return tail;
}

Result<ChannelState*> Session::Impl::check_data(std::uint32_t recipient, std::uint32_t len) {
    if (len > opts.max_packet) return Errc::packet_too_large;
    auto* ch = channels.find(recipient);
    if (!ch) {
        if (channels.is_stale(recipient)) {
            log->debug("dropped data for closed channel session={} channel={} bytes={}", opts.name, recipient, len);
            return static_cast<ChannelState*>(nullptr);
        }
        return Errc::unknown_channel;
    }
    if (len > ch->recv_credit) return Errc::window_exceeded;
    ch->recv_credit -= len;
    if (ch->close_sent) return static_cast<ChannelState*>(nullptr);  // window-checked, then discarded (§2.7)
    return ch;
}

void Session::Impl::deliver(ChannelState& ch, std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    if (ch.can_lend()) {  // a reader waits with an empty buffer: copy straight into it
        auto n = std::min(bytes.size(), ch.lent.size());
        std::memcpy(ch.lent.data(), bytes.data(), n);
        ch.lent_filled = n;
        ch.lent = {};
        bytes = bytes.subspan(n);
        ch.read_ev.notify();
        if (bytes.empty()) return;
    }
    deliver(ch, Chunk(bytes));
}

void Session::Impl::deliver(ChannelState& ch, Chunk bytes) {
    if (bytes.empty()) return;
    ch.rx_bytes += bytes.size();
    ch.rx.push_back(std::move(bytes));
    ch.read_ev.notify();
}

void Session::Impl::on_open(const frame::Open& m) {
    bool bad_packet = m.max_packet < frame::min_max_packet || m.max_packet > frame::max_max_packet;
    bool full = channels.size() >= opts.max_channels || (!acceptor && backlog.size() >= opts.accept_backlog);
    if (bad_packet || full) {
        log->debug("refused channel open session={} channel={} reason={}", opts.name, m.sender,
                   bad_packet ? "bad_max_packet" : "limit");
        send(frame::OpenFailure{m.sender});
        return;
    }
    auto st = make_recycled<ChannelState>(ex, channels.allocate(), false);
    st->remote_id = m.sender;
    st->remote_window = m.window;
    st->remote_max_packet = m.max_packet;
    st->recv_credit = opts.window;
    st->phase = detail::Phase::open;
    channels.insert(st);
    // CONFIRM is queued before anything the application may write (§2.4).
    send(frame::OpenConfirm{m.sender, st->local_id, opts.window, opts.max_packet});
    if (acceptor) {
        acceptor(make_handle(std::move(st)));
    } else {
        backlog.push_back(std::move(st));
        accept_ready.notify();
    }
}

Result<void> Session::Impl::handle(const frame::Message& msg) {
    if (auto* m = std::get_if<frame::Open>(&msg)) {
        on_open(*m);
        return {};
    }
    auto id = frame::channel_of(msg);
    auto* ch = channels.find(id);
    if (!ch) {
        if (channels.is_stale(id)) {  // §6 tolerate 2: in flight from an ended channel
            log->debug("dropped {} for closed channel session={} channel={}", frame::type_name(frame::type_of(msg)),
                       opts.name, id);
            return {};
        }
        return Errc::unknown_channel;
    }
    return std::visit(
        [&](const auto& m) -> Result<void> {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, frame::OpenConfirm>) {
                if (!ch->opened_locally || ch->phase != detail::Phase::opening) return Errc::unexpected_confirm;
                if (m.max_packet < frame::min_max_packet || m.max_packet > frame::max_max_packet)
                    return Errc::bad_max_packet;
                ch->remote_id = m.sender;
                ch->remote_window = m.window;
                ch->remote_max_packet = m.max_packet;
                ch->phase = detail::Phase::open;
                if (ch->abandoned) {
                    ch->local_closed = ch->close_sent = true;
                    send(frame::Close{ch->remote_id});
                    if (ch->close_in_opening) {
                        ch->close_received = true;
                        channels.erase(id);  // `ch` may be gone after this line
                    }
                    return {};
                }
                if (ch->close_in_opening) {  // §2.4: answer the early CLOSE now that we know its id
                    ch->close_sent = ch->close_received = true;
                    send(frame::Close{ch->remote_id});
                    ch->read_ev.notify();
                    ch->write_ev.notify();  // the opener waits for this CONFIRM
                    channels.erase(id);  // `ch` may be gone after this line
                    return {};
                }
                ch->write_ev.notify();
            } else if constexpr (std::is_same_v<M, frame::OpenFailure>) {
                if (!ch->opened_locally || ch->phase != detail::Phase::opening) return Errc::unexpected_confirm;
                ch->open_failed = true;
                ch->write_ev.notify();
                channels.erase(id);
            } else if constexpr (std::is_same_v<M, frame::WindowAdjust>) {
                if (std::uint64_t(ch->remote_window) + m.bytes > 0xffffffffu) return Errc::window_overflow;
                ch->remote_window += m.bytes;
                if (m.bytes) ch->write_ev.notify();
            } else if constexpr (std::is_same_v<M, frame::Data>) {
                auto target = check_data(id, static_cast<std::uint32_t>(m.payload.size()));
                if (!target) return target.error();
                if (*target) deliver(**target, m.payload);
            } else if constexpr (std::is_same_v<M, frame::Eof>) {
                ch->eof_received = true;  // duplicates tolerated (§6)
                ch->read_ev.notify();
            } else if constexpr (std::is_same_v<M, frame::Close>) {
                if (ch->phase == detail::Phase::opening) {
                    ch->close_in_opening = true;  // peer id unknown until CONFIRM (§2.4)
                    return {};
                }
                ch->close_received = true;
                if (!ch->close_sent) {
                    ch->close_sent = true;
                    send(frame::Close{ch->remote_id});
                }
                ch->read_ev.notify();
                ch->write_ev.notify();
                channels.erase(id);  // both CLOSEs done: the id is free; `ch` may be gone
            }
            return {};
        },
        msg);
}

}  // namespace qtalk::mux
