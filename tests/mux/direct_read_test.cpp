// Reads that wait on an empty channel lend their buffer to the session's read loop, which then
// places DATA payloads straight into it. These tests drive the wire by hand so a payload
// arrives in awkward pieces while a reader waits, and check the bytes, the credit and the
// behaviour when the channel or session ends while a payload is only partly read.
#include <gtest/gtest.h>

#include "support/async.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using namespace std::chrono_literals;
using boost::asio::awaitable;
using boost::asio::io_context;
namespace f = qtalk::frame;

namespace {
std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>((i * 131 + seed) >> 3));
    return v;
}

std::vector<std::byte> data_frame(std::uint32_t ch, std::span<const std::byte> payload) {
    std::vector<std::byte> out;
    f::encode(f::Data{ch, payload}, out);
    return out;
}

awaitable<void> pause(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// One read_some with a 64 KiB buffer in the background; returns once it waits with the buffer lent.
awaitable<void> start_waiting_read(io_context& io, mux::Channel ch, std::optional<Result<std::size_t>>& result) {
    boost::asio::co_spawn(io, [&result, ch]() mutable -> awaitable<void> {
        std::vector<std::byte> buf(64 * 1024);
        result = co_await ch.read_some(buf);
    }, boost::asio::detached);
    co_await pause(20ms);
}

// Accepts channel `peer_id` from the raw peer; returns the channel and our id for it.
awaitable<std::pair<mux::Channel, std::uint32_t>> accept_from(mux::Session& s, RawPeer& peer, std::uint32_t peer_id) {
    co_await peer.send(f::Open{peer_id, 1u << 30, 1u << 24});
    auto m = co_await peer.next();
    EXPECT_TRUE(m && std::holds_alternative<f::OpenConfirm>(m->msg));
    auto ours = m ? std::get<f::OpenConfirm>(m->msg).sender : 0u;
    auto ch = co_await s.accept();
    EXPECT_TRUE(ch);
    co_return std::pair{ch ? *ch : mux::Channel{}, ours};
}
}  // namespace

TEST(MuxDirectRead, PayloadsInAwkwardPiecesArriveIntactWithExactCredit) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto [ch, id] = co_await accept_from(*s, *peer, 3);
        // Two large payloads and a small one; the reader's buffer is smaller than either large one.
        auto a = pattern(200 * 1024, 1), b = pattern(70 * 1024 + 5, 2), c = pattern(17, 3);
        std::vector<std::byte> expected;
        for (auto* p : {&a, &b, &c}) expected.insert(expected.end(), p->begin(), p->end());
        std::vector<std::byte> got;
        bool done = false;
        boost::asio::co_spawn(io, [&, ch = ch]() mutable -> awaitable<void> {
            std::vector<std::byte> buf(1000);
            while (got.size() < expected.size()) {
                auto n = co_await ch.read_some(buf);
                if (!n || *n == 0) break;
                got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
            }
            done = true;
        }, boost::asio::detached);
        co_await pause(20ms);  // the reader now waits with its buffer lent
        auto fa = data_frame(id, a), fb = data_frame(id, b), fc = data_frame(id, c);
        std::vector<std::byte> wire;
        for (auto* fr : {&fa, &fb, &fc}) wire.insert(wire.end(), fr->begin(), fr->end());
        // Header split, payload split mid-way, a frame boundary inside one send.
        const std::size_t cuts[] = {4, 9, 12, 700, 5000, 150000, fa.size() + 3, fa.size() + 9, fa.size() + 40000, wire.size()};
        std::size_t at = 0;
        for (auto cut : cuts) {
            co_await peer->send_bytes(std::span(wire).subspan(at, cut - at));
            at = cut;
            co_await pause(2ms);
        }
        EXPECT_TRUE(co_await eventually([&] { return done; }));
        EXPECT_EQ(got.size(), expected.size());
        EXPECT_TRUE(got == expected);
        // Every consumed byte is credited back, no more.
        std::uint64_t credited = 0;
        while (credited < expected.size()) {
            auto m = co_await peer->next(1s);
            if (!m) break;
            if (auto* w = std::get_if<f::WindowAdjust>(&m->msg)) credited += w->bytes;
        }
        EXPECT_EQ(credited, expected.size());
        s->close();
    });
}

TEST(MuxDirectRead, LocalCloseWaitsForThePartlyReadPayloadThenTheSessionGoesOn) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto [ch, id] = co_await accept_from(*s, *peer, 4);
        std::optional<Result<std::size_t>> result;
        co_await start_waiting_read(io, ch, result);
        auto payload = pattern(60000, 4);
        auto frame = data_frame(id, payload);
        co_await peer->send_bytes(std::span(frame).first(100));  // header + 91 payload bytes
        co_await pause(20ms);
        ch.close();  // while the session reads the rest of the payload into the reader's buffer
        co_await pause(20ms);
        EXPECT_FALSE(result.has_value()) << "reader returned while its buffer was being filled";
        co_await peer->send_bytes(std::span(frame).subspan(100));
        EXPECT_TRUE(co_await eventually([&] { return result.has_value(); }));
        EXPECT_FALSE(*result);
        EXPECT_EQ(result->error(), mux::Errc::channel_closed);
        auto m = co_await peer->next(1s);
        EXPECT_TRUE(m && std::holds_alternative<f::Close>(m->msg));
        // The session is intact: a new channel carries data.
        auto [ch2, id2] = co_await accept_from(*s, *peer, 5);
        auto small = pattern(300, 5);
        co_await peer->send(f::Data{id2, small});
        std::vector<std::byte> buf(300);
        EXPECT_TRUE(co_await ch2.read_exact(buf));
        EXPECT_TRUE(buf == small);
        EXPECT_FALSE(s->is_closed());
        s->close();
    });
}

TEST(MuxDirectRead, SessionEndDuringAPartlyReadPayloadFailsTheReader) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto [ch, id] = co_await accept_from(*s, *peer, 6);
        std::optional<Result<std::size_t>> result;
        co_await start_waiting_read(io, ch, result);
        auto frame = data_frame(id, pattern(60000, 6));
        co_await peer->send_bytes(std::span(frame).first(5000));
        co_await pause(20ms);
        peer->sock().close();  // abrupt disconnect mid-payload
        EXPECT_TRUE(co_await eventually([&] { return result.has_value(); }));
        EXPECT_FALSE(*result);
        EXPECT_EQ(result->error(), mux::Errc::session_closed);
        EXPECT_TRUE(co_await eventually([&] { return s->is_closed(); }));
    });
}
