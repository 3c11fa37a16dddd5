// Channel operations without coroutines (qtalk/mux/watcher.hpp): watchers, open_watched(),
// try_write(), and the detached splice's lifetime. Over socketpairs, with a raw peer where the
// frames on the wire are asserted.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "mux/session_impl.hpp"
#include "qtalk/mux/splice.hpp"
#include "support/async.hpp"
#include "support/mux_pair.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;

namespace {

// Records each call and what the channel looked like then.
struct Recorder final : mux::Watcher {
    mux::Channel ch;
    int calls = 0;
    bool inside_batch = false;  // a call came while the read loop was applying a message
    std::vector<std::byte> got;
    bool eof = false;
    std::function<void(Recorder&)> extra;
    void on_channel_event() override {
        ++calls;
        if (!ch) return;
        std::byte buf[256];
        while (auto n = ch.read_buffered(buf)) got.insert(got.end(), buf, buf + n);
        eof = ch.eof_received();
        if (extra) extra(*this);
    }
};

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// A channel opened on `a` and accepted on `b`.
awaitable<std::pair<mux::Channel, mux::Channel>> open_pair(std::shared_ptr<mux::Session> a,
                                                           std::shared_ptr<mux::Session> b) {
    auto ca = co_await a->open();
    auto cb = co_await b->accept();
    EXPECT_TRUE(ca && cb);
    if (!ca || !cb) throw std::runtime_error("no channel pair");
    co_return std::pair(*ca, *cb);
}

}  // namespace

TEST(MuxWatch, WatcherHearsDataAndEofOncePerBatch) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto [ca, cb] = co_await open_pair(a, b);
        auto w = std::make_shared<Recorder>();
        w->ch = cb;
        cb.watch(w);
        // Three messages that arrive in one transport read: DATA, DATA, EOF.
        EXPECT_TRUE(ca.try_write(bytes_of("hello ")));
        EXPECT_TRUE(ca.try_write(bytes_of("world")));
        EXPECT_TRUE(co_await ca.close_write());
        EXPECT_TRUE(co_await eventually([&] { return w->eof; }));
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(w->got.data()), w->got.size()), "hello world");
        EXPECT_EQ(w->calls, 1) << "the batch's three changes give one call";
        cb.unwatch();
        ca.close();
        co_await sleep_for(50ms);
        EXPECT_EQ(w->calls, 1) << "no calls after unwatch()";
        EXPECT_EQ(w.use_count(), 1) << "the channel released its watcher";
    });
}

TEST(MuxWatch, ClosingTheChannelReleasesItsWatcher) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto [ca, cb] = co_await open_pair(a, b);
        auto w = std::make_shared<Recorder>();
        w->ch = cb;  // a watcher holding its channel: the channel holds it too until closed
        cb.watch(w);
        EXPECT_EQ(w.use_count(), 2);
        cb.close();
        EXPECT_EQ(w.use_count(), 1);
        cb.watch(w);  // a closed channel is not watched
        EXPECT_EQ(w.use_count(), 1);
        w->ch = {};
    });
}

TEST(MuxWatch, OpenWatchedHearsTheConfirmAndWritesAtOnce) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto w = std::make_shared<Recorder>();
        auto ch = a->open_watched(1s, w);
        EXPECT_TRUE(ch.opening());
        EXPECT_FALSE(ch.try_write(bytes_of("early"))) << "nothing may be sent before CONFIRM";
        auto cb = co_await b->accept();
        EXPECT_TRUE(cb);
        EXPECT_TRUE(co_await eventually([&] { return w->calls > 0 && !ch.opening(); }));
        EXPECT_FALSE(ch.open_error());
        EXPECT_TRUE(ch.try_write(bytes_of("ping")));
        std::byte buf[4];
        EXPECT_TRUE(co_await cb->read_exact(buf));
        EXPECT_EQ(std::memcmp(buf, "ping", 4), 0);
        ch.close();
    });
}

TEST(MuxWatch, TryWriteQueuesNothingBeyondTheWindowOrAfterEof) {
    run_async([](io_context& io) -> awaitable<void> {
        mux::Options small;
        small.window = 1024;
        auto [a, b] = session_pair(io.get_executor(), {}, small);
        auto [ca, cb] = co_await open_pair(a, b);
        std::vector<std::byte> big(1025, std::byte{1}), fits(1024, std::byte{2});
        EXPECT_FALSE(ca.try_write(big));
        EXPECT_EQ(ca.send_window(), 1024u);
        EXPECT_TRUE(ca.try_write(fits));
        EXPECT_EQ(ca.send_window(), 0u);
        EXPECT_FALSE(ca.try_write(std::span(fits).first(1)));
        std::vector<std::byte> got(1024);
        EXPECT_TRUE(co_await cb.read_exact(got));
        EXPECT_EQ(got, fits);
        EXPECT_TRUE(co_await eventually([&] { return ca.send_window() == 1024u; }));
        EXPECT_TRUE(co_await ca.close_write());
        EXPECT_FALSE(ca.try_write(std::span(fits).first(1))) << "after EOF";
    });
}

TEST(MuxWatch, OpenWatchedRefusedTimedOutOrOnAClosedSession) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto refused_w = std::make_shared<Recorder>();
        auto refused = s->open_watched(5s, refused_w);
        auto m = co_await peer->next();
        auto* op = m ? std::get_if<frame::Open>(&m->msg) : nullptr;
        EXPECT_TRUE(op);
        if (!op) co_return;
        co_await peer->send(frame::OpenFailure{op->sender});
        EXPECT_TRUE(co_await eventually([&] { return refused_w->calls > 0; }));
        EXPECT_EQ(refused.open_error(), mux::Errc::open_refused);
        EXPECT_FALSE(refused.opening());

        auto t0 = std::chrono::steady_clock::now();
        auto slow_w = std::make_shared<Recorder>();
        auto slow = s->open_watched(100ms, slow_w);
        m = co_await peer->next();
        op = m ? std::get_if<frame::Open>(&m->msg) : nullptr;
        EXPECT_TRUE(op);
        if (!op) co_return;
        EXPECT_TRUE(co_await eventually([&] { return slow_w->calls > 0; }));
        EXPECT_EQ(slow.open_error(), mux::Errc::open_timeout);
        EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
        slow = {};  // released after the timeout: a late CONFIRM is answered with CLOSE
        co_await peer->send(frame::OpenConfirm{op->sender, 77, 1u << 20, 32 * 1024});
        m = co_await peer->next();
        auto* cl = m ? std::get_if<frame::Close>(&m->msg) : nullptr;
        EXPECT_TRUE(cl && cl->recipient == 77u);
        if (cl) co_await peer->send(frame::Close{op->sender});
        EXPECT_TRUE(co_await eventually([&] { return s->stats().channels == 0; }));

        s->close();
        auto dead_w = std::make_shared<Recorder>();
        auto dead = s->open_watched(1s, dead_w);
        EXPECT_EQ(dead.open_error(), mux::Errc::session_closed);
        EXPECT_FALSE(dead.opening());
        EXPECT_EQ(dead_w.use_count(), 1) << "nothing will change: the watcher is not kept";
    });
}

TEST(MuxWatch, ChannelReleasedWhileOpeningIsClosedOnItsConfirm) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [s, peer] = session_with_raw_peer(io.get_executor());
        auto ch = s->open_watched(5s, std::make_shared<Recorder>());
        auto m = co_await peer->next();
        auto* op = m ? std::get_if<frame::Open>(&m->msg) : nullptr;
        EXPECT_TRUE(op);
        if (!op) co_return;
        ch.close();  // given up before the peer answered
        co_await peer->send(frame::OpenConfirm{op->sender, 5, 1u << 20, 32 * 1024});
        m = co_await peer->next();
        auto* cl = m ? std::get_if<frame::Close>(&m->msg) : nullptr;
        EXPECT_TRUE(cl && cl->recipient == 5u) << "CLOSE answers the late CONFIRM";
        if (cl) co_await peer->send(frame::Close{op->sender});
        EXPECT_TRUE(co_await eventually([&] { return s->stats().channels == 0; }));
    });
}

TEST(MuxWatch, SessionEndReachesTheWatcher) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, b] = session_pair(io.get_executor());
        auto [ca, cb] = co_await open_pair(a, b);
        auto w = std::make_shared<Recorder>();
        w->ch = cb;
        cb.watch(w);
        a->close();
        EXPECT_TRUE(co_await eventually([&] { return w->calls > 0 && b->is_closed(); }));
        EXPECT_EQ(w.use_count(), 1) << "the ended channel let go of its watcher, without a close()";
        w->ch = {};
    });
}

// A detached splice still running when its io_context is destroyed is freed with it: what its
// completion callback holds is released.
TEST(MuxWatch, DetachedSpliceIsFreedWithItsContext) {
    auto token = std::make_shared<int>(0);
    {
        io_context io;
        std::shared_ptr<mux::Session> a, a_mid, b_mid, b;
        std::tie(a, a_mid) = session_pair(io.get_executor());
        std::tie(b_mid, b) = session_pair(io.get_executor());
        bool spliced = false;
        mux::Channel outer[2];  // kept open: the splice cannot finish
        boost::asio::co_spawn(io, [&]() -> awaitable<void> {
            auto ca = co_await a->open();
            auto ca_mid = co_await a_mid->accept();
            auto cb_mid = co_await b_mid->open();
            auto cb = co_await b->accept();
            EXPECT_TRUE(ca && ca_mid && cb_mid && cb);
            outer[0] = *ca;
            outer[1] = *cb;
            mux::splice(*ca_mid, *cb_mid, {}, [token](mux::SpliceResult) { ++*token; });
            spliced = true;
        }, boost::asio::detached);
        io.run_for(2s);
        EXPECT_TRUE(spliced);
        EXPECT_EQ(token.use_count(), 2) << "the running splice holds its callback";
        a.reset(), a_mid.reset(), b_mid.reset(), b.reset();
        outer[0] = outer[1] = {};
    }
    EXPECT_EQ(*token, 0) << "the splice never completed";
    EXPECT_EQ(token.use_count(), 1) << "the splice was freed with its context";
}

TEST(MuxWatch, DetachedSpliceCompletesAndLetsGoOfBothChannels) {
    run_async([](io_context& io) -> awaitable<void> {
        auto [a, a_mid] = session_pair(io.get_executor());
        auto [b_mid, b] = session_pair(io.get_executor());
        auto ca = co_await a->open();
        auto ca_mid = co_await a_mid->accept();
        auto cb_mid = co_await b_mid->open();
        auto cb = co_await b->accept();
        EXPECT_TRUE(ca && ca_mid && cb_mid && cb);
        auto st0 = std::weak_ptr(mux::detail::ChannelAccess::state(*ca_mid));
        auto st1 = std::weak_ptr(mux::detail::ChannelAccess::state(*cb_mid));
        int done = 0, started = 0;
        mux::splice(std::move(*ca_mid), std::move(*cb_mid), [&] { ++started; }, [&](mux::SpliceResult r) {
            ++done;
            EXPECT_EQ(r.forwarded[0], 5u);
        });
        EXPECT_EQ(started, 1);
        EXPECT_EQ(done, 0) << "done never runs inside splice()";
        EXPECT_TRUE(ca->try_write(bytes_of("12345")));
        std::byte buf[5];
        EXPECT_TRUE(co_await cb->read_exact(buf));
        cb->close();
        EXPECT_TRUE(co_await eventually([&] { return done == 1; }));
        EXPECT_TRUE(co_await eventually([&] { return st0.expired() && st1.expired(); }))
            << "both middle channel states freed";
    });
}
