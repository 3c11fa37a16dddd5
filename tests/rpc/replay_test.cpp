// Replays the checker side of the reference captures (tests/vectors) into our InteropService
// over a socketpair, channel by channel, each checker action gated on the interop bytes the
// reference checker had seen; then compares what our peer sent on every channel with what the
// Go interop peer sent, byte for byte (PROTOCOL §7: compare per channel).
#include <gtest/gtest.h>

#include "interop/services.hpp"
#include "support/async.hpp"
#include "support/capture.hpp"
#include "support/hex.hpp"
#include "qtalk/rpc/peer.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

struct Live {
    mux::Channel ch;
    std::vector<std::byte> received;
    bool ended = false;
};

// Reads everything the interop peer sends on `live` until end of stream or our close.
awaitable<void> drain(std::shared_ptr<Live> live) {
    std::vector<std::byte> buf(1 << 20);
    for (;;) {
        auto n = co_await live->ch.read_some(buf);
        if (!n || *n == 0) break;
        live->received.insert(live->received.end(), buf.begin(), buf.begin() + *n);
    }
    live->ended = true;
}

// Performs the checker's actions on one channel in order, each once the interop peer has sent
// as many bytes as the reference checker had received at that point.
awaitable<void> play(const CapturedChannel& cc, std::shared_ptr<Live> live) {
    for (auto& a : cc.checker_actions) {
        bool ready = co_await eventually([&] { return live->received.size() >= a.after_interop_bytes || live->ended; },
                                         10s);
        EXPECT_TRUE(ready) << "interop peer sent " << live->received.size() << " bytes, reference had sent "
                           << a.after_interop_bytes << " before this checker action";
        switch (a.kind) {
        case Action::data: EXPECT_TRUE(co_await live->ch.write(a.payload)); break;
        case Action::eof: (void)co_await live->ch.close_write(); break;
        case Action::close:
            // Let bytes the reference checker never read arrive too, then close.
            co_await eventually([&] { return live->ended || live->received.size() >= cc.interop_payload.size(); }, 2s);
            live->ch.close();
            break;
        }
    }
}

void replay(const std::string& name, rpc::Codec codec) {
    auto cap = load_capture(name);
    ASSERT_FALSE(cap.channels.empty());
    run_async([&](io_context& io) -> awaitable<void> {
        auto [driver, peer_session] = session_pair(io.get_executor());
        rpc::Peer peer(peer_session, codec, interop::interop_service());
        std::vector<std::shared_ptr<Live>> lives(cap.channels.size());
        std::size_t next_callback = 0;
        std::vector<std::size_t> callback_index;
        for (std::size_t k = 0; k < cap.channels.size(); ++k)
            if (cap.channels[k].opener == Side::interop) callback_index.push_back(k);
        int finished = 0;
        // Channels the interop peer opens are the captured callbacks, in order.
        driver->set_acceptor([&](mux::Channel ch) {
            EXPECT_LT(next_callback, callback_index.size()) << "unexpected channel from the interop peer";
            if (next_callback >= callback_index.size()) return;
            auto k = callback_index[next_callback++];
            lives[k] = std::make_shared<Live>(Live{ch, {}, false});
            boost::asio::co_spawn(io, drain(lives[k]), boost::asio::detached);
            boost::asio::co_spawn(io, [&, k]() -> awaitable<void> {
                co_await play(cap.channels[k], lives[k]);
                ++finished;
            }, boost::asio::detached);
        });
        for (std::size_t k = 0; k < cap.channels.size(); ++k) {
            if (cap.channels[k].opener != Side::checker) continue;
            auto ch = co_await driver->open();
            EXPECT_TRUE(ch);
            if (!ch) co_return;
            lives[k] = std::make_shared<Live>(Live{*ch, {}, false});
            boost::asio::co_spawn(io, drain(lives[k]), boost::asio::detached);
            co_await play(cap.channels[k], lives[k]);  // the reference checker runs calls one by one
            ++finished;
        }
        EXPECT_TRUE(co_await eventually([&] { return finished == int(cap.channels.size()); }, 10s));
        for (std::size_t k = 0; k < cap.channels.size(); ++k) {
            auto& want = cap.channels[k].interop_payload;
            auto& got = lives[k] ? lives[k]->received : want;
            EXPECT_TRUE(lives[k] != nullptr) << "channel " << k << " never opened";
            EXPECT_EQ(got.size(), want.size()) << "channel " << k;
            if (got.size() <= 4096)
                EXPECT_EQ(to_hex(got), to_hex(want)) << "channel " << k;
            else
                EXPECT_TRUE(got == want) << "channel " << k << " (" << got.size() << " bytes) differs";
        }
        driver->close();
    }, 60s);
}

}  // namespace

TEST(RpcReplay, JsonCaptureByteExactPerChannel) { replay("json", rpc::Codec::json); }
TEST(RpcReplay, CborCaptureByteExactPerChannel) { replay("cbor", rpc::Codec::cbor); }
TEST(RpcReplay, CborFullCaptureWithOneMebibyteStream) { replay("cbor-full", rpc::Codec::cbor); }

TEST(RpcReplay, CaptureHasTheExpectedCalls) {
    auto cap = load_capture("json");
    int by_checker = 0, by_interop = 0;
    for (auto& c : cap.channels) (c.opener == Side::checker ? by_checker : by_interop)++;
    // Error, BadSelector, 5 Unary, Stream, Bytes x2 from the checker; 5 Unary + Stream + Bytes x2 back.
    EXPECT_EQ(by_checker, 10);
    EXPECT_EQ(by_interop, 8);
}
