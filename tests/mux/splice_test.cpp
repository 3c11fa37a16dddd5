// mux::splice over real sockets: A <-> (A-mid | B-mid) <-> B, two session pairs over socketpairs
// with the middle channels joined, as qtalkd joins a caller's channel to a provider's. Every test
// runs for both forms: the coroutine and the detached splice with a completion callback.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "mux/session_impl.hpp"  // the session's send-queue bookkeeping
#include "qtalk/mux/splice.hpp"
#include "support/async.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

bool detached_splice = false;  // the form under test (the parameter of MuxSplice)

// Joins x and y in the form under test; `out` receives the result.
void start_splice(io_context& io, mux::Channel x, mux::Channel y, std::optional<mux::SpliceResult>* out) {
    if (detached_splice) {
        mux::splice(std::move(x), std::move(y), {}, [out](mux::SpliceResult r) { if (out) *out = r; });
        return;
    }
    boost::asio::co_spawn(io, [x, y, out]() -> awaitable<void> {
        auto r = co_await mux::splice(x, y);
        if (out) *out = r;
    }, boost::asio::detached);
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>((i * 131 + seed) >> 3));
    return v;
}

awaitable<std::vector<std::byte>> read_all(mux::Channel ch, std::size_t limit = SIZE_MAX) {
    std::vector<std::byte> out, buf(100 * 1024);
    while (out.size() < limit) {
        auto n = co_await ch.read_some(buf);
        if (!n || *n == 0) break;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    co_return out;
}

// The two outer channels, the two middle ones and their sessions (kept alive by the fixture).
struct Spliced {
    std::shared_ptr<mux::Session> a, a_mid, b_mid, b;
    mux::Channel ca, ca_mid, cb_mid, cb;
    std::optional<mux::SpliceResult> result;
};

// Options: what A-mid advertises to A (caps A's sending), what B advertises to B-mid.
std::unique_ptr<Spliced> make_sessions(io_context& io, mux::Options a_mid_opts, mux::Options b_opts) {
    auto s = std::make_unique<Spliced>();
    std::tie(s->a, s->a_mid) = session_pair(io.get_executor(), {}, a_mid_opts);
    std::tie(s->b_mid, s->b) = session_pair(io.get_executor(), {}, b_opts);
    return s;
}

// Opens A -> A-mid and B-mid -> B and splices the middle channels in the background.
awaitable<void> join(io_context& io, Spliced* s) {
    auto ca = co_await s->a->open();
    auto ca_mid = co_await s->a_mid->accept();
    auto cb_mid = co_await s->b_mid->open();
    auto cb = co_await s->b->accept();
    EXPECT_TRUE(ca && ca_mid && cb_mid && cb);
    s->ca = *ca;
    s->ca_mid = *ca_mid;
    s->cb_mid = *cb_mid;
    s->cb = *cb;
    start_splice(io, s->ca_mid, s->cb_mid, &s->result);
}

awaitable<std::shared_ptr<Spliced>> make_spliced(io_context& io, const mux::Options* a_mid_opts = nullptr,
                                                 const mux::Options* b_opts = nullptr) {
    std::shared_ptr<Spliced> s = make_sessions(io, a_mid_opts ? *a_mid_opts : mux::Options{},
                                               b_opts ? *b_opts : mux::Options{});
    co_await join(io, s.get());
    co_return s;
}

class MuxSplice : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override { detached_splice = GetParam(); }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Forms, MuxSplice, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Detached" : "Coroutine"; });

TEST_P(MuxSplice, BytesBothWaysThenEofAndCloseEndIt) {
    run_async([](io_context& io) -> awaitable<void> {
        auto s = co_await make_spliced(io);
        auto up = pattern(3 * 1024 * 1024 + 7, 1), down = pattern(1024 * 1024 + 3, 2);
        EXPECT_TRUE(co_await s->ca.write(up));
        EXPECT_TRUE(co_await s->ca.close_write());
        auto got_up = co_await read_all(s->cb);  // ends with the forwarded EOF
        EXPECT_EQ(got_up, up);
        EXPECT_TRUE(co_await s->cb.write(down));
        s->cb.close();
        auto got_down = co_await read_all(s->ca);  // ends with the forwarded CLOSE
        EXPECT_EQ(got_down, down);
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
        EXPECT_EQ(s->result->forwarded[0], up.size());
        EXPECT_EQ(s->result->forwarded[1], down.size());
        EXPECT_FALSE(s->result->lost_silent[0] || s->result->lost_silent[1]);
        EXPECT_TRUE(s->ca_mid.closed() && s->cb_mid.closed());
        // Both CLOSE handshakes complete: no channel is left in either middle session.
        EXPECT_TRUE(co_await eventually([&] { return s->a_mid->stats().channels == 0 && s->b_mid->stats().channels == 0; }));
    });
}

TEST_P(MuxSplice, CloseFromEitherSideReachesTheOther) {
    run_async([](io_context& io) -> awaitable<void> {
        auto s = co_await make_spliced(io);
        auto bytes = pattern(1000, 3);
        EXPECT_TRUE(co_await s->ca.write(bytes));
        s->ca.close();  // a caller giving up: the bytes before the CLOSE still arrive
        auto got = co_await read_all(s->cb);
        EXPECT_EQ(got, bytes);
        EXPECT_TRUE(s->cb.closed());
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
    });
}

TEST_P(MuxSplice, StalledReaderBoundsWhatTheWriterGetsAhead) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 64 * 1024;
        small.max_packet = 16 * 1024;
        auto s = co_await make_spliced(io, &small, &small);
        const std::size_t total = 16 * 1024 * 1024;
        auto data = pattern(total, 4);
        std::size_t written = 0;
        bool writer_done = false;
        boost::asio::co_spawn(io, [&, ch = s->ca]() mutable -> awaitable<void> {
            for (std::size_t off = 0; off < total; off += 8192) {
                if (!co_await ch.write(std::span(data).subspan(off, 8192))) break;
                written = off + 8192;
            }
            writer_done = true;
        }, boost::asio::detached);
        co_await sleep_for(200ms);
        // Nobody reads at B: A gets ahead by at most A-mid's window plus B's window.
        EXPECT_LE(written, 2 * small.window);
        EXPECT_GE(written, small.window);  // but it did stream into the windows
        auto got = co_await read_all(s->cb, total);
        EXPECT_EQ(got.size(), total);
        EXPECT_TRUE(got == data);
        EXPECT_TRUE(co_await eventually([&] { return writer_done; }));
    });
}

TEST_P(MuxSplice, PayloadsLargerThanTheDestinationsPacketAreSplit) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options b;
        b.max_packet = 32 * 1024;  // the middle's payloads from A are up to 1 MiB
        b.window = 100 * 1000;     // and the window is not a multiple of the packet size
        auto s = co_await make_spliced(io, nullptr, &b);
        auto data = pattern(4 * 1024 * 1024 + 11, 5);
        boost::asio::co_spawn(io, [&, ch = s->ca]() mutable -> awaitable<void> {
            (void)co_await ch.write(data);
            (void)co_await ch.close_write();
        }, boost::asio::detached);
        auto got = co_await read_all(s->cb);
        EXPECT_TRUE(got == data);
        EXPECT_EQ(got.size(), data.size());
        s->cb.close();
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
        auto& d = mux::detail::ChannelAccess::session(s->cb_mid);
        EXPECT_TRUE(co_await eventually([&] { return d.outq.empty(); }));
        // A channel with nothing queued no longer counts as sending (fairness and batching
        // depend on it), however its payloads went out.
        EXPECT_EQ(d.sending_channels, 0u);
    });
}

TEST_P(MuxSplice, SessionEndingBeforeAnyByteLeavesTheOtherChannelOpen) {
    run_async([](io_context& io) -> awaitable<void> {
        auto s = co_await make_spliced(io);
        EXPECT_TRUE(co_await s->ca.write(pattern(100, 6)));
        EXPECT_TRUE(co_await eventually([&] { return s->cb.buffered() == 100; }));
        s->b->close();  // B's session dies without having sent a byte
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
        EXPECT_TRUE(s->result->lost_silent[1]);
        EXPECT_FALSE(s->result->lost_silent[0]);
        // A's channel is still open: the middle may answer on it.
        EXPECT_FALSE(s->ca_mid.closed());
        auto answer = pattern(50, 7);
        EXPECT_TRUE(co_await s->ca_mid.write(answer));
        s->ca_mid.close();
        auto got = co_await read_all(s->ca);
        EXPECT_EQ(got, answer);
    });
}

TEST_P(MuxSplice, SessionEndingAfterSomeBytesClosesTheOtherAfterThem) {
    run_async([](io_context& io) -> awaitable<void> {
        auto s = co_await make_spliced(io);
        auto part = pattern(70000, 8);
        EXPECT_TRUE(co_await s->cb.write(part));
        EXPECT_TRUE(co_await eventually([&] { return s->ca.buffered() == part.size(); }));
        s->b->close();
        auto got = co_await read_all(s->ca);  // the bytes, then CLOSE
        EXPECT_EQ(got, part);
        EXPECT_TRUE(s->ca.closed());
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
        EXPECT_FALSE(s->result->lost_silent[1]);
        EXPECT_EQ(s->result->forwarded[1], part.size());
    });
}

TEST_P(MuxSplice, ManySplicesShareTwoSessions) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, a_mid] = session_pair(io.get_executor());
        auto [b_mid, b] = session_pair(io.get_executor());
        constexpr int n = 64;
        int finished = 0;
        for (int i = 0; i < n; ++i) {
            auto ca = co_await a->open();
            auto ca_mid = co_await a_mid->accept();
            auto cb_mid = co_await b_mid->open();
            auto cb = co_await b->accept();
            EXPECT_TRUE(ca && ca_mid && cb_mid && cb);
            start_splice(io, *ca_mid, *cb_mid, nullptr);
            // B echoes what it reads, then closes; A checks the echo.
            boost::asio::co_spawn(io, [cb = *cb]() mutable -> awaitable<void> {
                auto got = co_await read_all(cb);
                (void)co_await cb.write(got);
                cb.close();
            }, boost::asio::detached);
            boost::asio::co_spawn(io, [&finished, ca = *ca, i]() mutable -> awaitable<void> {
                auto data = pattern(200 * 1024 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
                (void)co_await ca.write(data);
                (void)co_await ca.close_write();
                auto back = co_await read_all(ca);
                EXPECT_TRUE(back == data) << "channel " << i;
                ++finished;
            }, boost::asio::detached);
        }
        EXPECT_TRUE(co_await eventually([&] { return finished == n; }, 10s));
        EXPECT_TRUE(co_await eventually([&] { return a_mid->stats().channels == 0 && b_mid->stats().channels == 0; }));
    });
}

TEST_P(MuxSplice, SourceGoneWhileALargePayloadIsWrittenByReference) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options b;
        b.window = 48 * 1024;  // far below the 1 MiB payloads from A: they go out in place
        auto s = co_await make_spliced(io, nullptr, &b);
        auto data = pattern(4 * 1024 * 1024, 9);
        boost::asio::co_spawn(io, [&, ch = s->ca]() mutable -> awaitable<void> { (void)co_await ch.write(data); },
                              boost::asio::detached);
        auto first = co_await read_all(s->cb, 100 * 1024);  // B reads a little, A's payload is held
        EXPECT_GE(first.size(), 100u * 1024);
        EXPECT_TRUE(std::equal(first.begin(), first.end(), data.begin()));
        s->a->close();  // A's session dies while the middle still holds most of the stream
        auto rest = co_await read_all(s->cb);  // what the middle had received, then CLOSE
        EXPECT_TRUE(s->cb.closed());
        EXPECT_EQ(first.size() + rest.size(), data.size());
        EXPECT_TRUE(std::equal(rest.begin(), rest.end(), data.begin() + static_cast<std::ptrdiff_t>(first.size())));
        EXPECT_TRUE(co_await eventually([&] { return s->result.has_value(); }));
        EXPECT_FALSE(s->result->lost_silent[0]);
    });
}

TEST_P(MuxSplice, DestinationClosedThenItsSessionLostWithFramesQueuedStillEnds) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, a_mid] = session_pair(io.get_executor());
        auto [b_mid, peer] = session_with_raw_peer(io.get_executor());
        auto ca = co_await a->open();
        auto ca_mid = co_await a_mid->accept();
        std::optional<Result<mux::Channel>> opened;
        boost::asio::co_spawn(io, [&opened, s = b_mid]() -> awaitable<void> { opened = co_await s->open(); },
                              boost::asio::detached);
        auto m = co_await peer->next();
        auto* op = m ? std::get_if<frame::Open>(&m->msg) : nullptr;
        EXPECT_TRUE(op);
        if (!op) co_return;
        co_await peer->send(frame::OpenConfirm{op->sender, 7, 64u << 20, 32 * 1024});
        EXPECT_TRUE(co_await eventually([&] { return opened.has_value() && opened->has_value(); }));
        auto cb_mid = **opened;
        std::optional<mux::SpliceResult> res;
        start_splice(io, *ca_mid, cb_mid, &res);
        auto data = pattern(8 * 1024 * 1024, 11);
        boost::asio::co_spawn(io, [&data, ch = *ca]() mutable -> awaitable<void> { (void)co_await ch.write(data); },
                              boost::asio::detached);
        co_await sleep_for(300ms);  // the raw peer reads nothing: frames pile up behind a full transport
        co_await peer->send(frame::Close{op->sender});  // the channel leaves the id table...
        co_await sleep_for(50ms);
        peer->sock().close();  // ...then the session is lost with its frames still queued
        EXPECT_TRUE(co_await eventually([&] { return res.has_value(); }, 3s)) << "splice() never returned";
    }, 10s);
}
