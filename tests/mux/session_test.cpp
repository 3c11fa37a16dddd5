// mux::Session between two real sessions over a socketpair: open/accept, data both ways,
// half-close, close handshake, flow control seen from the application, concurrency.
#include <gtest/gtest.h>

#include <random>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "support/async.hpp"
#include "support/hex.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {
awaitable<std::vector<std::byte>> read_all(mux::Channel ch) {
    std::vector<std::byte> out;
    std::array<std::byte, 8192> buf;
    for (;;) {
        auto n = co_await ch.read_some(buf);
        EXPECT_TRUE(n) << n.error().message();
        if (!n || *n == 0) break;
        out.insert(out.end(), buf.begin(), buf.begin() + *n);
    }
    co_return out;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = std::byte(rng());
    return v;
}
}  // namespace

TEST(MuxSession, OpenAcceptWriteRead) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto ch = co_await a->open();
        EXPECT_TRUE(ch);
        auto in = co_await b->accept();
        EXPECT_TRUE(in);
        auto msg = bytes_of("hello");
        EXPECT_TRUE(co_await ch->write(msg));
        std::array<std::byte, 16> buf;
        auto n = co_await in->read_some(buf);
        EXPECT_EQ(*n, 5u);
        EXPECT_EQ(string_of(std::span(buf).first(5)), "hello");
        a->close();
        b->close();
    });
}

TEST(MuxSession, HalfCloseEndsOneDirectionOnly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        EXPECT_TRUE(co_await ch.write(bytes_of("ping")));
        EXPECT_TRUE(co_await ch.close_write());
        EXPECT_EQ(string_of(co_await read_all(in)), "ping");  // then end of stream
        EXPECT_EQ((co_await ch.write(bytes_of("x"))).error(), make_error_code(mux::Errc::write_after_eof));
        EXPECT_TRUE(co_await in.write(bytes_of("pong")));  // other direction still open
        EXPECT_TRUE(co_await in.close_write());
        EXPECT_EQ(string_of(co_await read_all(ch)), "pong");
        a->close();
        b->close();
    });
}

TEST(MuxSession, CloseHandshakeFreesIdsAndNeverReusesEarly) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        std::vector<std::uint32_t> ids;
        for (int i = 0; i < 3; ++i) {
            auto ch = *co_await a->open();
            auto in = *co_await b->accept();
            ids.push_back(ch.local_id());
            ch.close();
            EXPECT_EQ(co_await read_all(in), std::vector<std::byte>{});  // CLOSE reads as end of stream
            EXPECT_TRUE(co_await eventually([&] { return a->stats().channels == 0 && b->stats().channels == 0; }));
            EXPECT_EQ((co_await in.write(bytes_of("late"))).error(), make_error_code(mux::Errc::closed_by_peer));
        }
        EXPECT_EQ(ids, (std::vector<std::uint32_t>{0, 1, 2}));  // increasing allocation (§2.3)
        a->close();
        b->close();
    });
}

TEST(MuxSession, PeerCloseLetsReaderDrainBufferedData) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        EXPECT_TRUE(co_await ch.write(bytes_of("last words")));
        ch.close();
        EXPECT_TRUE(co_await eventually([&] { return in.closed(); }));
        EXPECT_EQ(string_of(co_await read_all(in)), "last words");
        a->close();
        b->close();
    });
}

TEST(MuxSession, SlowReaderBoundsBufferToOneWindow) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 64 * 1024;
        small.max_packet = 16 * 1024;
        auto [a, b] = session_pair(io.get_executor(), {}, small);
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        auto data = pattern(4 << 20, 1);
        bool written = false;
        boost::asio::co_spawn(io, [&, ch]() mutable -> awaitable<void> {
            EXPECT_TRUE(co_await ch.write(data));
            written = true;
            EXPECT_TRUE(co_await ch.close_write());
        }, boost::asio::detached);
        co_await sleep_for(200ms);
        EXPECT_FALSE(written);
        EXPECT_EQ(in.buffered(), small.window);  // exactly one window, no more
        EXPECT_EQ(ch.send_window(), 0u);
        auto got = co_await read_all(in);
        EXPECT_TRUE(written);
        EXPECT_EQ(got, data);
        a->close();
        b->close();
    });
}

TEST(MuxSession, TwoHundredFiftySixConcurrentChannelsBothWays) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options o;
        o.window = 256 * 1024;
        o.max_packet = 32 * 1024;
        auto [a, b] = session_pair(io.get_executor(), o, o);
        constexpr int n = 256;
        int finished = 0;
        b->set_acceptor([&](mux::Channel in) {
            boost::asio::co_spawn(io, [&, in]() mutable -> awaitable<void> {
                // Echo back, transformed (xor 0x5a) so direction mix-ups are caught.
                auto got = co_await read_all(in);
                for (auto& x : got) x ^= std::byte(0x5a);
                EXPECT_TRUE(co_await in.write(got));
                EXPECT_TRUE(co_await in.close_write());
            }, boost::asio::detached);
        });
        for (int i = 0; i < n; ++i) {
            boost::asio::co_spawn(io, [&, i]() -> awaitable<void> {
                auto ch = co_await a->open();
                EXPECT_TRUE(ch);
                auto data = pattern(16 * 1024 + i * 997, i);
                auto reader = [&]() -> awaitable<std::vector<std::byte>> { co_return co_await read_all(*ch); };
                // Write and read concurrently: the echo may start before we finish writing.
                std::vector<std::byte> got;
                bool read_done = false;
                boost::asio::co_spawn(io, [&]() -> awaitable<void> {
                    got = co_await reader();
                    read_done = true;
                }, boost::asio::detached);
                EXPECT_TRUE(co_await ch->write(data));
                EXPECT_TRUE(co_await ch->close_write());
                EXPECT_TRUE(co_await eventually([&] { return read_done; }, 15s));
                for (auto& x : data) x ^= std::byte(0x5a);
                EXPECT_EQ(got, data) << "channel " << i;
                ch->close();
                ++finished;
            }, boost::asio::detached);
        }
        EXPECT_TRUE(co_await eventually([&] { return finished == n; }, 18s));
        EXPECT_TRUE(co_await eventually([&] { return a->stats().channels == 0 && b->stats().channels == 0; }));
        a->close();
        b->close();
    }, 30s);
}

TEST(MuxSession, SessionCloseFailsPendingOperations) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        std::optional<Result<std::size_t>> read_result;
        boost::asio::co_spawn(io, [&, ch]() mutable -> awaitable<void> {
            std::array<std::byte, 8> buf;
            read_result = co_await ch.read_some(buf);
        }, boost::asio::detached);
        co_await sleep_for(20ms);
        a->close();
        EXPECT_TRUE(co_await eventually([&] { return read_result.has_value(); }));
        EXPECT_EQ(read_result->error(), make_error_code(mux::Errc::session_closed));
        EXPECT_EQ((co_await a->open()).error(), make_error_code(mux::Errc::session_closed));
        EXPECT_TRUE(co_await eventually([&] { return b->is_closed(); }));  // peer sees the transport end
        EXPECT_EQ((co_await in.write(bytes_of("x"))).error(), make_error_code(mux::Errc::session_closed));
    });
}

// Waits honour per-operation cancellation: a read raced against a timer with `||` ends when the
// timer fires, and the channel reads normally afterwards (nothing stays lent or pending).
TEST(MuxSession, ReadCancelledByAnAwaitableOperatorLeavesTheChannelUsable) {
    run_async([](io_context& io) -> awaitable<void> {
        using namespace boost::asio::experimental::awaitable_operators;
        auto [a, b] = session_pair(io.get_executor());
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        std::array<std::byte, 64> buf;
        for (int round = 0; round < 3; ++round) {
            boost::asio::steady_timer t(io, 30ms);
            auto t0 = std::chrono::steady_clock::now();
            auto r = co_await (in.read_some(buf) || t.async_wait(boost::asio::use_awaitable));
            EXPECT_EQ(r.index(), 1u) << "the timer wins: nothing was sent";
            EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
        }
        EXPECT_TRUE(co_await ch.write(bytes_of("abc")));
        auto n = co_await in.read_some(buf);
        EXPECT_TRUE(n) << n.error().message();
        EXPECT_EQ(n ? *n : 0, 3u);
        // Data arriving while a read waits inside `||` completes that read.
        boost::asio::co_spawn(io, [ch]() mutable -> awaitable<void> {
            co_await sleep_for(20ms);
            (void)co_await ch.write(bytes_of("later"));
        }, boost::asio::detached);
        boost::asio::steady_timer t(io, 5s);
        auto r = co_await (in.read_some(buf) || t.async_wait(boost::asio::use_awaitable));
        EXPECT_EQ(r.index(), 0u);
        auto* got = std::get_if<0>(&r);
        EXPECT_TRUE(got && *got && **got == 5u);
        a->close();
    });
}

TEST(MuxSession, AbruptDisconnectMidWriteFailsWriter) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 32 * 1024;
        auto [a, b] = session_pair(io.get_executor(), {}, small);
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        std::optional<Result<void>> wr;
        auto data = pattern(1 << 20, 3);
        boost::asio::co_spawn(io, [&, ch]() mutable -> awaitable<void> { wr = co_await ch.write(data); },
                              boost::asio::detached);
        co_await sleep_for(50ms);
        EXPECT_FALSE(wr.has_value());
        b->close();  // the reader's process "dies"
        EXPECT_TRUE(co_await eventually([&] { return wr.has_value(); }));
        EXPECT_EQ(wr->error(), make_error_code(mux::Errc::session_closed));
        EXPECT_TRUE(a->is_closed());
    });
}

TEST(MuxSession, AcceptBacklogFullRefusesOpen) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options tiny;
        tiny.accept_backlog = 2;
        auto [a, b] = session_pair(io.get_executor(), {}, tiny);
        EXPECT_TRUE(co_await a->open());
        EXPECT_TRUE(co_await a->open());
        EXPECT_EQ((co_await a->open()).error(), make_error_code(mux::Errc::open_refused));
        EXPECT_TRUE(co_await b->accept());
        EXPECT_TRUE(co_await a->open());  // room again
        a->close();
        b->close();
    });
}

TEST(MuxSession, HandedOverChunksAreQueuedWithoutWaitingAndArriveInOrder) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 256 * 1024;  // the reader's window: later chunks must wait for credit
        auto [a, b] = session_pair(io.get_executor(), {}, small);
        auto ch = *co_await a->open();
        auto in = *co_await b->accept();
        std::optional<std::vector<std::byte>> got;
        boost::asio::co_spawn(io, [&, in = in]() -> awaitable<void> { got = co_await read_all(in); },
                              boost::asio::detached);
        std::vector<std::byte> expected;
        int immediate = 0;
        for (unsigned i = 0; i < 40; ++i) {
            auto part = pattern(1000 + i * 997, i);
            expected.insert(expected.end(), part.begin(), part.end());
            auto window_before = ch.send_window();
            EXPECT_TRUE(co_await ch.write(mux::Chunk(std::span<const std::byte>(part))));
            if (ch.send_window() + part.size() == window_before) ++immediate;
        }
        EXPECT_GT(immediate, 0);
        EXPECT_TRUE(co_await ch.close_write());
        EXPECT_TRUE(co_await eventually([&] { return got.has_value(); }));
        if (got) {
            EXPECT_EQ(got->size(), expected.size());
            EXPECT_TRUE(*got == expected);
        }
        a->close();
        b->close();
    });
}

TEST(MuxSession, ReadChunkReturnsEachPayloadWholeThenEndOfStream) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto ch = co_await a->open();
        auto in = co_await b->accept();
        EXPECT_TRUE(ch && in);
        in->set_manual_credit(true);
        std::vector<std::byte> big(300 * 1024, std::byte{7});
        EXPECT_TRUE(co_await ch->write(bytes_of("first")));
        EXPECT_TRUE(co_await ch->write(big));
        EXPECT_TRUE(co_await ch->close_write());
        auto c1 = co_await in->read_chunk();
        EXPECT_TRUE(c1 && string_of(c1->span()) == "first");
        auto c2 = co_await in->read_chunk();
        EXPECT_TRUE(c2 && c2->size() == big.size());  // one DATA payload, one chunk
        auto end = co_await in->read_chunk();
        EXPECT_TRUE(end && end->empty());
        EXPECT_EQ(in->buffered(), 0u);
        a->close();
        b->close();
    });
}

TEST(MuxSession, ReadBufferedTakesWhatArrivedWithoutWaiting) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 1024;
        auto [a, b] = session_pair(io.get_executor(), {}, small);
        auto ch = co_await a->open();
        auto in = co_await b->accept();
        EXPECT_TRUE(ch && in);
        std::array<std::byte, 16> buf;
        EXPECT_EQ(in->read_buffered(buf), 0u);  // nothing yet: returns at once
        EXPECT_TRUE(co_await ch->write(std::vector<std::byte>(1024, std::byte{1})));  // the whole window
        EXPECT_TRUE(co_await eventually([&] { return in->buffered() == 1024; }));
        EXPECT_EQ(ch->send_window(), 0u);
        std::vector<std::byte> all(2000);
        EXPECT_EQ(in->read_buffered(all), 1024u);
        EXPECT_EQ(in->buffered(), 0u);
        // The buffer drained: the credit goes back, so the writer has its window again.
        EXPECT_TRUE(co_await eventually([&] { return ch->send_window() == 1024; }));
        a->close();
        b->close();
    });
}

// A session's loops keep it alive, and its writer and channel readers wait in events it owns:
// a session still open when its io_context is destroyed is ended by the context's shutdown, and
// everything it held is freed (before, such sessions were leaked).
TEST(MuxSession, OpenSessionsAreFreedWithTheirContext) {
    std::weak_ptr<mux::Session> wa, wb;
    bool reader_resumed = false;
    {
        boost::asio::io_context io;
        auto [a, b] = session_pair(io.get_executor());
        wa = a;
        wb = b;
        boost::asio::co_spawn(io, [a = a, b = b, &reader_resumed]() -> boost::asio::awaitable<void> {
            auto ch = co_await a->open();
            EXPECT_TRUE(ch);
            auto peer = co_await b->accept();
            EXPECT_TRUE(peer);
            std::array<std::byte, 16> buf;
            (void)co_await peer->read_some(buf);  // parked in the channel's event, holding both sessions
            reader_resumed = true;
        }, boost::asio::detached);
        for (int i = 0; i < 100 && io.run_one_for(std::chrono::milliseconds(20)) > 0 && b->stats().channels == 0;) ++i;
        io.poll();
        ASSERT_EQ(b->stats().channels, 1u);
        a.reset();
        b.reset();
        EXPECT_FALSE(wa.expired());  // held by their own loops and the parked reader
    }
    EXPECT_TRUE(wa.expired());
    EXPECT_TRUE(wb.expired());
    EXPECT_FALSE(reader_resumed);  // destroyed with the context's queue, not run
}
