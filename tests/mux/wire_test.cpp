// mux::Session against a hand-driven peer: exact frames on the wire, the tolerance rules of
// PROTOCOL §6 and protocol violations that must close the session with a reason.
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>

#include "support/async.hpp"
#include "support/hex.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
namespace f = qtalk::frame;

namespace {
template <class M>
awaitable<M> expect_next(RawPeer& p) {
    auto m = co_await p.next();
    EXPECT_TRUE(m.has_value()) << "no frame";
    if (!m) co_return M{};
    auto* v = std::get_if<M>(&m->msg);
    EXPECT_NE(v, nullptr) << "got " << f::type_name(f::type_of(m->msg));
    co_return v ? *v : M{};
}
awaitable<std::vector<std::byte>> expect_data(RawPeer& p, std::uint32_t ch) {
    auto m = co_await p.next();
    EXPECT_TRUE(m.has_value());
    if (!m) co_return std::vector<std::byte>{};
    auto* d = std::get_if<f::Data>(&m->msg);
    EXPECT_NE(d, nullptr) << "got " << f::type_name(f::type_of(m->msg));
    if (!d) co_return std::vector<std::byte>{};
    EXPECT_EQ(d->recipient, ch);
    co_return m->payload;
}
}  // namespace

TEST(MuxWire, OpenUsesReferenceDefaults) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::optional<Result<mux::Channel>> ch;
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { ch = co_await s->open(); }, boost::asio::detached);
        auto open = co_await expect_next<f::Open>(*peer);
        EXPECT_EQ(open, (f::Open{0, 1u << 30, 1u << 24}));  // §2.9
        co_await peer->send(f::OpenConfirm{0, 7, 1000, 1u << 24});
        EXPECT_TRUE(co_await eventually([&] { return ch.has_value(); }));
        EXPECT_EQ((*ch)->remote_id(), 7u);
        s->close();
    });
}

TEST(MuxWire, AcceptConfirmsWithOwnWindowAndPacket) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options o;
        o.window = 4096;
        o.max_packet = 1024;
        auto [s, peer] = session_with_raw_peer(io.get_executor(), o);
        co_await peer->send(f::Open{5, 1u << 30, 1u << 24});
        auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
        EXPECT_EQ(confirm, (f::OpenConfirm{5, 0, 4096, 1024}));
        auto ch = co_await s->accept();
        EXPECT_TRUE(ch);
        EXPECT_EQ(ch->remote_id(), 5u);
        s->close();
    });
}

TEST(MuxWire, WindowAndMaxPacketAreHonouredExactly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        // Peer grants 250 bytes of window with a 100-byte maximum packet.
        co_await peer->send(f::Open{9, 1u << 30, 100});
        auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
        auto ch = *co_await s->accept();
        co_await peer->send(f::WindowAdjust{confirm.sender, 0});  // 0 adjust is a no-op
        std::vector<std::byte> data(1000, std::byte{'x'});
        bool done = false;
        // The Open advertised window 2^30; shrink it by writing with a peer that grants little:
        // use a second channel whose OPEN grants only 250 bytes.
        co_await peer->send(f::Open{10, 250, 100});
        auto c2 = co_await expect_next<f::OpenConfirm>(*peer);
        EXPECT_EQ(c2.recipient, 10u);
        auto ch2 = *co_await s->accept();
        boost::asio::co_spawn(io, [&, ch2]() mutable -> awaitable<void> {
            EXPECT_TRUE(co_await ch2.write(data));
            done = true;
        }, boost::asio::detached);
        EXPECT_EQ((co_await expect_data(*peer, 10)).size(), 100u);
        EXPECT_EQ((co_await expect_data(*peer, 10)).size(), 100u);
        EXPECT_EQ((co_await expect_data(*peer, 10)).size(), 50u);   // window exhausted
        EXPECT_FALSE(co_await peer->next(100ms));                    // and nothing more
        EXPECT_FALSE(done);
        co_await peer->send(f::WindowAdjust{c2.sender, 30});
        EXPECT_EQ((co_await expect_data(*peer, 10)).size(), 30u);
        EXPECT_FALSE(co_await peer->next(50ms));
        co_await peer->send(f::WindowAdjust{c2.sender, 1000});
        std::size_t total = 280;
        while (total < 1000) total += (co_await expect_data(*peer, 10)).size();
        EXPECT_EQ(total, 1000u);
        EXPECT_TRUE(co_await eventually([&] { return done; }));
        (void)ch;
        s->close();
    });
}

TEST(MuxWire, ReadGrantsCreditForConsumedBytes) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options o;
        o.window = 100;
        o.max_packet = 100;
        auto [s, peer] = session_with_raw_peer(io.get_executor(), o);
        co_await peer->send(f::Open{1, 1000, 1000});
        auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
        EXPECT_EQ(confirm.window, 100u);
        auto ch = *co_await s->accept();
        auto payload = bytes_of(std::string(60, 'a'));
        co_await peer->send(f::Data{confirm.sender, payload});
        EXPECT_TRUE(co_await eventually([&] { return ch.buffered() == 60; }));
        std::array<std::byte, 60> buf;
        EXPECT_EQ(*co_await ch.read_some(buf), 60u);
        auto adj = co_await expect_next<f::WindowAdjust>(*peer);  // buffer empty -> credit back
        EXPECT_EQ(adj, (f::WindowAdjust{1, 60}));
        s->close();
    });
}

// A reader that empties its buffer while the next DATA payload is still arriving (its header
// accepted) returns the credit after that payload: one WINDOW_ADJUST per two reads of a bulk
// stream. With the peer down to half a window or less, the credit goes at once.
awaitable<void> read_while_next_payload_arrives(std::uint32_t window, bool expect_deferred) {
    auto ex = co_await boost::asio::this_coro::executor;
    mux::Options o;
    o.window = window;
    auto [s, peer] = session_with_raw_peer(ex, o);
    co_await peer->send(f::Open{1, 1u << 30, 1u << 24});
    auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
    auto ch = *co_await s->accept();
    const std::size_t n = 64 * 1024;
    auto first = bytes_of(std::string(n, 'a')), second = bytes_of(std::string(n, 'b'));
    std::vector<std::byte> wire;
    f::encode(f::Data{confirm.sender, first}, wire);
    f::encode(f::Data{confirm.sender, second}, wire);
    const std::size_t split = wire.size() - n + 1000;  // the second header and 1000 payload bytes
    auto in_before = s->stats().bytes_in;
    co_await peer->send_bytes(std::span(wire).first(split));
    EXPECT_TRUE(co_await eventually([&] { return s->stats().bytes_in - in_before == split; }));
    std::vector<std::byte> buf(n);
    EXPECT_EQ((co_await ch.read_some(buf)).value(), n);
    if (expect_deferred) {
        EXPECT_FALSE(co_await peer->next(50ms)) << "credit sent while a payload is still arriving";
    } else {
        EXPECT_EQ(co_await expect_next<f::WindowAdjust>(*peer), (f::WindowAdjust{1, static_cast<std::uint32_t>(n)}));
    }
    co_await peer->send_bytes(std::span(wire).subspan(split));
    EXPECT_TRUE(co_await ch.read_exact(buf));
    EXPECT_EQ(buf, second);
    auto rest = static_cast<std::uint32_t>(expect_deferred ? 2 * n : n);
    EXPECT_EQ(co_await expect_next<f::WindowAdjust>(*peer), (f::WindowAdjust{1, rest}));
    s->close();
}

TEST(MuxWire, CreditForAPayloadStillArrivingLeavesWithIt) {
    run_async([](io_context&) -> awaitable<void> { co_await read_while_next_payload_arrives(1u << 20, true); });
}

TEST(MuxWire, CreditGoesAtOnceWhenThePeerIsDownToHalfAWindow) {
    run_async([](io_context&) -> awaitable<void> { co_await read_while_next_payload_arrives(192 * 1024, false); });
}

TEST(MuxWire, GrantsMadeBeforeTheWriterRunsLeaveAsOneAdjust) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options o;
        o.window = 1000;
        auto [s, peer] = session_with_raw_peer(io.get_executor(), o);
        co_await peer->send(f::Open{2, 1000, 1000});
        auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
        auto ch = *co_await s->accept();
        ch.set_manual_credit(true);
        co_await peer->send(f::Data{confirm.sender, bytes_of(std::string(300, 'z'))});
        std::array<std::byte, 300> buf;
        EXPECT_TRUE(co_await ch.read_exact(buf));
        ch.grant(100);  // three grants without a suspension in between
        ch.grant(150);
        ch.grant(50);
        EXPECT_EQ(co_await expect_next<f::WindowAdjust>(*peer), (f::WindowAdjust{2, 300}));
        EXPECT_FALSE(co_await peer->next(50ms));
        ch.grant(7);  // a later grant is a new message
        EXPECT_EQ(co_await expect_next<f::WindowAdjust>(*peer), (f::WindowAdjust{2, 7}));
        ch.grant(9);  // granted, then closed before the writer ran: only CLOSE goes out
        ch.close();
        EXPECT_EQ(co_await expect_next<f::Close>(*peer), f::Close{2});
        EXPECT_FALSE(co_await peer->next(50ms));
        s->close();
    });
}

TEST(MuxWire, ALongBatchSendsWhatItCausedMidway) {
    // 32 OPENs arrive in one read. What the first 16 caused (their CONFIRMs) is on the wire
    // before the rest are applied: the 17th channel is accepted with 16 CONFIRMs already
    // readable at the peer, the first 16 with none (their CONFIRMs leave after them). The
    // other 16 CONFIRMs leave together at the batch's end: the 32nd channel still sees 16.
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::vector<int> readable;  // bytes waiting at the peer as each channel is accepted
        std::vector<mux::Channel> chans;
        boost::asio::co_spawn(
            io,
            [&, s = s]() -> awaitable<void> {
                for (int i = 0; i < 32; ++i) {
                    auto ch = co_await s->accept();
                    if (!ch) co_return;
                    int n = -1;
                    ::ioctl(peer->sock().native_handle(), FIONREAD, &n);
                    readable.push_back(n);
                    chans.push_back(std::move(*ch));
                }
            },
            boost::asio::detached);
        co_await sleep_for(10ms);  // the acceptor waits
        std::vector<std::byte> opens;
        for (std::uint32_t i = 0; i < 32; ++i) f::encode(f::Open{i, 1u << 20, 1u << 15}, opens);
        co_await peer->send_bytes(opens);
        EXPECT_TRUE(co_await eventually([&] { return readable.size() == 32; }));
        std::vector<std::byte> confirm;
        f::encode(f::OpenConfirm{0, 0, 0, 0}, confirm);
        if (readable.size() == 32) {
            EXPECT_EQ(readable[0], 0);
            EXPECT_EQ(readable[15], 0);
            EXPECT_EQ(readable[16], int(16 * confirm.size()));
            EXPECT_EQ(readable[31], int(16 * confirm.size()));
        }
        s->close();
    });
}

TEST(MuxWire, NothingIsSentAfterClose) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        co_await peer->send(f::Open{3, 1000, 1000});
        auto confirm = co_await expect_next<f::OpenConfirm>(*peer);
        auto ch = *co_await s->accept();
        ch.close();
        EXPECT_EQ(co_await expect_next<f::Close>(*peer), f::Close{3});
        // In-flight frames from the peer after our CLOSE are accepted silently (§6 tolerate 1).
        co_await peer->send(f::Data{confirm.sender, bytes_of("late")});
        co_await peer->send(f::WindowAdjust{confirm.sender, 10});
        co_await peer->send(f::Eof{confirm.sender});
        co_await peer->send(f::Close{confirm.sender});
        EXPECT_FALSE(co_await peer->next(100ms));  // no reply CLOSE, no adjust
        EXPECT_FALSE(s->is_closed());
        EXPECT_EQ(s->stats().channels, 0u);
        // A stray frame for the now finished channel is dropped (§6 tolerate 2).
        co_await peer->send(f::Data{confirm.sender, bytes_of("stray")});
        co_await peer->send(f::Close{confirm.sender});
        co_await sleep_for(50ms);
        EXPECT_FALSE(s->is_closed());
        s->close();
    });
}

TEST(MuxWire, PeerCloseIsAnsweredOnceAndFreesId) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        co_await peer->send(f::Open{0, 1000, 1000});
        auto c = co_await expect_next<f::OpenConfirm>(*peer);
        auto ch = *co_await s->accept();
        co_await peer->send(f::Close{c.sender});
        EXPECT_EQ(co_await expect_next<f::Close>(*peer), f::Close{0});
        ch.close();  // already closed both ways: nothing more on the wire
        // Immediate reuse of the peer's id 0 for a new channel (§6 tolerate 3).
        co_await peer->send(f::Open{0, 1000, 1000});
        auto c2 = co_await expect_next<f::OpenConfirm>(*peer);
        EXPECT_NE(c2.sender, c.sender);  // our side allocates increasing ids
        EXPECT_FALSE(co_await peer->next(50ms));
        s->close();
    });
}

TEST(MuxWire, DataAndCloseBeforeConfirmAreHandled) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::optional<Result<mux::Channel>> ch;
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { ch = co_await s->open(); }, boost::asio::detached);
        auto open = co_await expect_next<f::Open>(*peer);
        // Go ref race (§2.4): DATA, EOF and CLOSE may precede the CONFIRM.
        co_await peer->send(f::Data{open.sender, bytes_of("early")});
        co_await peer->send(f::Eof{open.sender});
        co_await peer->send(f::Close{open.sender});
        EXPECT_FALSE(co_await peer->next(50ms));  // CLOSE cannot be answered yet
        co_await peer->send(f::OpenConfirm{open.sender, 42, 1000, 1000});
        EXPECT_EQ(co_await expect_next<f::Close>(*peer), f::Close{42});
        EXPECT_TRUE(co_await eventually([&] { return ch.has_value(); }));
        std::array<std::byte, 16> buf;
        auto n = co_await (*ch)->read_some(buf);
        EXPECT_EQ(string_of(std::span(buf).first(*n)), "early");
        EXPECT_EQ(*co_await (*ch)->read_some(buf), 0u);
        EXPECT_EQ(s->stats().channels, 0u);
        s->close();
    });
}

TEST(MuxWire, OpenFailureFailsOpen) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::optional<Result<mux::Channel>> ch;
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { ch = co_await s->open(); }, boost::asio::detached);
        auto open = co_await expect_next<f::Open>(*peer);
        co_await peer->send(f::OpenFailure{open.sender});
        EXPECT_TRUE(co_await eventually([&] { return ch.has_value(); }));
        EXPECT_EQ(ch->error(), make_error_code(mux::Errc::open_refused));
        EXPECT_FALSE(s->is_closed());
        s->close();
    });
}

// A timed open gives up on a silent peer; the CONFIRM that comes later is answered with CLOSE,
// and the session goes on working.
TEST(MuxWire, TimedOpenGivesUpAndClosesALateConfirm) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::optional<Result<mux::Channel>> ch;
        auto t0 = std::chrono::steady_clock::now();
        std::chrono::steady_clock::duration took{};
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> {
            ch = co_await s->open(std::chrono::milliseconds(50));
            took = std::chrono::steady_clock::now() - t0;
        }, boost::asio::detached);
        auto open = co_await expect_next<f::Open>(*peer);
        EXPECT_TRUE(co_await eventually([&] { return ch.has_value(); }));
        EXPECT_EQ(ch->error(), make_error_code(mux::Errc::open_timeout));
        EXPECT_GE(took, std::chrono::milliseconds(50));
        EXPECT_LT(took, std::chrono::seconds(3));
        co_await peer->send(f::OpenConfirm{open.sender, 9, 1000, 1u << 24});
        EXPECT_EQ(co_await expect_next<f::Close>(*peer), (f::Close{9}));
        // The session still opens channels.
        std::optional<Result<mux::Channel>> again;
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { again = co_await s->open(std::chrono::seconds(5)); },
                              boost::asio::detached);
        auto open2 = co_await expect_next<f::Open>(*peer);
        co_await peer->send(f::OpenConfirm{open2.sender, 10, 1000, 1u << 24});
        EXPECT_TRUE(co_await eventually([&] { return again.has_value(); }));
        EXPECT_TRUE(*again);
        EXPECT_FALSE(s->is_closed());
        s->close();
    });
}

// One timer serves all timed opens: a shorter timeout started later still expires first, and an
// open confirmed in time is not failed when its deadline passes.
TEST(MuxWire, TimedOpensExpireByTheirOwnDeadlines) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        std::optional<Result<mux::Channel>> slow, fast, confirmed;
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { slow = co_await s->open(std::chrono::seconds(30)); },
                              boost::asio::detached);
        auto open_slow = co_await expect_next<f::Open>(*peer);
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> { fast = co_await s->open(std::chrono::milliseconds(40)); },
                              boost::asio::detached);
        co_await expect_next<f::Open>(*peer);
        boost::asio::co_spawn(io, [&, s = s]() -> awaitable<void> {
            confirmed = co_await s->open(std::chrono::milliseconds(60));
        }, boost::asio::detached);
        auto open_confirmed = co_await expect_next<f::Open>(*peer);
        co_await peer->send(f::OpenConfirm{open_confirmed.sender, 21, 1000, 1u << 24});
        EXPECT_TRUE(co_await eventually([&] { return fast.has_value(); }));
        EXPECT_EQ(fast->error(), make_error_code(mux::Errc::open_timeout));
        EXPECT_FALSE(slow.has_value());  // its deadline is 30 s away
        EXPECT_TRUE(confirmed.has_value() && *confirmed);
        if (!confirmed || !*confirmed) co_return;
        // Past the confirmed open's deadline it still carries data.
        boost::asio::steady_timer t(io, std::chrono::milliseconds(100));
        co_await t.async_wait(boost::asio::use_awaitable);
        std::array<std::byte, 3> hi{std::byte{'h'}, std::byte{'i'}, std::byte{'!'}};
        EXPECT_TRUE(co_await (*confirmed)->write(hi));
        EXPECT_EQ(co_await expect_data(*peer, 21), std::vector<std::byte>(hi.begin(), hi.end()));
        co_await peer->send(f::OpenConfirm{open_slow.sender, 22, 1000, 1u << 24});
        EXPECT_TRUE(co_await eventually([&] { return slow.has_value(); }));
        EXPECT_TRUE(*slow);
        s->close();
    });
}

TEST(MuxWire, BadMaxPacketInOpenIsRefused) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        co_await peer->send(f::Open{4, 1000, 8});
        EXPECT_EQ(co_await expect_next<f::OpenFailure>(*peer), f::OpenFailure{4});
        co_await peer->send(f::Open{5, 1000, 0x80000001u});
        EXPECT_EQ(co_await expect_next<f::OpenFailure>(*peer), f::OpenFailure{5});
        EXPECT_FALSE(s->is_closed());
        s->close();
    });
}

namespace {
// Sends `bad` after opening one channel; expects the session to close with `reason`.
void expect_violation(std::function<awaitable<void>(RawPeer&, std::uint32_t our_id)> bad, mux::Errc reason) {
    run_async([&](io_context& io) -> awaitable<void> {
        mux::Options o;
        o.window = 1000;
        o.max_packet = 500;
        auto [s, peer] = session_with_raw_peer(io.get_executor(), o);
        co_await peer->send(f::Open{0, 1000, 1000});
        auto c = co_await expect_next<f::OpenConfirm>(*peer);
        co_await bad(*peer, c.sender);
        EXPECT_TRUE(co_await peer->wait_disconnect());
        EXPECT_TRUE(s->is_closed());
        EXPECT_EQ(s->close_reason(), make_error_code(reason)) << s->close_reason().message();
    });
}
}  // namespace

TEST(MuxWire, UnknownMessageTypeClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t) -> awaitable<void> { co_await p.send_bytes(hex("63 00000000")); },
                     mux::Errc::frame_error);
}

TEST(MuxWire, DataBeyondWindowClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t id) -> awaitable<void> {
        std::vector<std::byte> chunk(400, std::byte{1});
        co_await p.send(f::Data{id, chunk});
        co_await p.send(f::Data{id, chunk});
        co_await p.send(f::Data{id, chunk});  // 1200 > 1000
    }, mux::Errc::window_exceeded);
}

TEST(MuxWire, DataAboveMaxPacketClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t id) -> awaitable<void> {
        co_await p.send_bytes(hex("68 00000000 00000259"));  // announces 601 > 500, before payload
    }, mux::Errc::packet_too_large);
}

TEST(MuxWire, OversizedLengthClosesSessionWithoutWaiting) {
    expect_violation([](RawPeer& p, std::uint32_t id) -> awaitable<void> {
        co_await p.send_bytes(hex("68 00000000 ffffffff"));
    }, mux::Errc::packet_too_large);
}

TEST(MuxWire, FrameForNeverOpenedChannelClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t) -> awaitable<void> { co_await p.send(f::Eof{77}); },
                     mux::Errc::unknown_channel);
}

TEST(MuxWire, ConfirmForInboundChannelClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t id) -> awaitable<void> {
        co_await p.send(f::OpenConfirm{id, 1, 1000, 1000});
    }, mux::Errc::unexpected_confirm);
}

TEST(MuxWire, WindowOverflowClosesSession) {
    expect_violation([](RawPeer& p, std::uint32_t id) -> awaitable<void> {
        co_await p.send(f::WindowAdjust{id, 0xffffffffu});
    }, mux::Errc::window_overflow);
}

TEST(MuxWire, TruncatedStreamEndsSession) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        co_await peer->send_bytes(hex("64 00000000 0000"));  // half an OPEN, then gone
        peer->sock().close();
        EXPECT_TRUE(co_await eventually([&] { return s->is_closed(); }));
    });
}

TEST(MuxWire, GarbageOnOneSessionLeavesOtherSessionsOnTheListenerWorking) {
    run_async([](io_context& io) -> awaitable<void> {
        auto path = std::filesystem::temp_directory_path() / ("qtalk-mux-" + std::to_string(::getpid()) + ".sock");
        auto l = transport::listen(io.get_executor(), "unix://" + path.string());
        EXPECT_TRUE(l);
        std::vector<std::shared_ptr<mux::Session>> accepted;
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            for (;;) {
                auto s = co_await (*l)->accept();
                if (!s) co_return;
                auto sess = mux::Session::start(std::move(*s));
                sess->set_acceptor([&io](mux::Channel ch) {  // echo service
                    boost::asio::co_spawn(io, [ch]() mutable -> awaitable<void> {
                        std::array<std::byte, 256> buf;
                        for (;;) {
                            auto n = co_await ch.read_some(buf);
                            if (!n || *n == 0) break;
                            if (!co_await ch.write(std::span(buf).first(*n))) break;
                        }
                        ch.close();
                    }, boost::asio::detached);
                });
                accepted.push_back(sess);
            }
        }, boost::asio::detached);
        auto good_stream = co_await transport::dial(io.get_executor(), "unix://" + path.string());
        auto good = mux::Session::start(std::move(*good_stream));
        auto bad = co_await transport::dial(io.get_executor(), "unix://" + path.string());
        EXPECT_TRUE(co_await eventually([&] { return accepted.size() == 2; }));
        auto garbage = hex("ff 00 01 02");
        std::array<boost::asio::const_buffer, 1> bufs{boost::asio::buffer(garbage.data(), garbage.size())};
        EXPECT_TRUE(co_await (*bad)->write(bufs));
        EXPECT_TRUE(co_await eventually([&] { return accepted[1]->is_closed(); }));
        EXPECT_EQ(accepted[1]->close_reason(), make_error_code(mux::Errc::frame_error));
        EXPECT_FALSE(accepted[0]->is_closed());
        auto ch = *co_await good->open();
        EXPECT_TRUE(co_await ch.write(bytes_of("still fine")));
        std::array<std::byte, 10> back;
        EXPECT_TRUE(co_await ch.read_exact(back));
        EXPECT_EQ(string_of(back), "still fine");
        good->close();
        (*l)->close();
    });
}

namespace {
// A session whose socket takes at most ~`sndbuf` bytes the peer has not read yet.
std::pair<std::shared_ptr<mux::Session>, std::unique_ptr<RawPeer>> session_with_small_send_buffer(
    boost::asio::any_io_executor ex, int sndbuf) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    auto stream = transport::adopt_stream(ex, fds[0]);
    boost::asio::local::stream_protocol::socket raw(ex);
    raw.assign(boost::asio::local::stream_protocol(), fds[1]);
    mux::Options opts;
    opts.name = "under-test";
    return {mux::Session::start(std::move(*stream), opts), std::make_unique<RawPeer>(std::move(raw))};
}

awaitable<mux::Channel> accept_from_peer(mux::Session& s, RawPeer& peer, std::uint32_t id) {
    co_await peer.send(f::Open{id, 64u << 20, 1u << 20});
    (void)co_await expect_next<f::OpenConfirm>(peer);
    co_return *co_await s.accept();
}
}  // namespace

TEST(MuxWire, ABulkWriteWithNothingQueuedIsOnTheWireWhenItReturns) {
    // 16-64 KiB written with nothing queued go to the socket from the writer's buffer: the frame
    // is readable at the peer as the write returns, before any write loop ran. (Copied into the
    // queue instead, it would leave only when the write loop gets its turn.) Smaller writes are
    // still queued, so that what one batch causes leaves together.
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto ch = co_await accept_from_peer(*s, *peer, 5);
        std::vector<std::byte> big(32 * 1024, std::byte{0x42});
        EXPECT_TRUE(co_await ch.write(big));
        int n = -1;
        ::ioctl(peer->sock().native_handle(), FIONREAD, &n);
        EXPECT_EQ(n, int(f::data_header_size + big.size()));
        EXPECT_EQ(co_await expect_data(*peer, 5), big);
        EXPECT_TRUE(co_await ch.write(bytes_of("small")));
        ::ioctl(peer->sock().native_handle(), FIONREAD, &n);
        EXPECT_EQ(n, 0);
        EXPECT_EQ(string_of(co_await expect_data(*peer, 5)), "small");
        s->close();
    });
}

TEST(MuxWire, WhatTheSocketDidNotTakeOfADirectWriteLeavesFirstAndIsACopy) {
    // With a small socket buffer and a peer that is not reading, a direct write is taken only in
    // part: the rest of its frame is queued as a copy, first in line. Each writer buffer is
    // scribbled over as soon as its write returns; the peer must still get every frame whole, in
    // order, then the EOF.
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_small_send_buffer(io.get_executor(), 16 * 1024);
        auto ch = co_await accept_from_peer(*s, *peer, 9);
        constexpr int writes = 24;
        constexpr std::size_t size = 64 * 1024;
        bool wrote_all = false;
        boost::asio::co_spawn(
            io,
            [&, ch]() mutable -> awaitable<void> {
                std::vector<std::byte> buf(size);
                for (int i = 0; i < writes; ++i) {
                    std::fill(buf.begin(), buf.end(), std::byte(i + 1));
                    if (!co_await ch.write(buf)) co_return;
                    std::fill(buf.begin(), buf.end(), std::byte{0xEE});
                }
                wrote_all = bool(co_await ch.close_write());
            },
            boost::asio::detached);
        co_await sleep_for(20ms);  // the writer fills the socket and the queue
        for (int i = 0; i < writes; ++i) {
            auto got = co_await expect_data(*peer, 9);
            EXPECT_EQ(got, std::vector<std::byte>(size, std::byte(i + 1))) << "write " << i;
            if (got.size() != size) break;
        }
        (void)co_await expect_next<f::Eof>(*peer);
        EXPECT_TRUE(wrote_all);
        s->close();
    });
}
