// Bulk transfer trials (see bulk.hpp). Each side runs on its own loop thread; every stream,
// session and channel is created, used and destroyed on its loop. The abort hooks hold weak
// references only and act on the owning loop.
#include "bulk.hpp"

#include <boost/asio/detached.hpp>

namespace qbench {
namespace {

using qtalk::mux::Channel;
using qtalk::mux::Session;

Clock::duration trial_limit(std::size_t total) {
    // Generous: 20 s plus 10 s per GiB (the slowest sane rate is ~100 MiB/s).
    return 20s + std::chrono::milliseconds(total * 10000 / (1u << 30));
}

std::vector<double> completion_seconds(Clock::time_point t0, const std::vector<Clock::time_point>& ends) {
    std::vector<double> out;
    for (auto t : ends) out.push_back(std::chrono::duration<double>(t - t0).count());
    return out;
}

struct RawAbort {
    std::vector<std::weak_ptr<Stream>> a, b;
};

struct MuxAbort {
    std::weak_ptr<Session> a, b;
};

}  // namespace

std::vector<double> raw_bulk_trial(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int n,
                                   std::size_t bytes) {
    auto pairs = connect_pairs(cfg, kind, la, lb, n);
    auto ab = std::make_shared<RawAbort>();
    std::vector<std::shared_ptr<Stream>> as, bs;
    for (auto& p : pairs) {
        as.emplace_back(std::move(p.a));
        bs.emplace_back(std::move(p.b));
        ab->a.push_back(as.back());
        ab->b.push_back(bs.back());
    }
    pairs.clear();
    auto reader_side = spawn(lb, [bs = std::move(bs), bytes]() mutable -> Task<std::vector<Clock::time_point>> {
        auto ex = co_await net::this_coro::executor;
        auto ends = std::make_shared<std::vector<Clock::time_point>>(bs.size());
        auto err = std::make_shared<std::string>();
        auto wg = std::make_shared<WaitGroup>(ex);
        for (std::size_t i = 0; i < bs.size(); ++i) {
            wg->add();
            net::co_spawn(ex, [s = bs[i], i, bytes, ends, err, wg]() -> Task<void> {
                std::vector<std::byte> buf(bulk_write_size);
                std::size_t got = 0;
                while (got < bytes) {
                    auto r = co_await s->read_some(buf);
                    if (!r) {
                        *err = "raw read: " + r.error().message();
                        break;
                    }
                    got += *r;
                }
                (*ends)[i] = Clock::now();
                s->close();
                wg->done();
            }, net::detached);
        }
        bs.clear();
        co_await wg->wait();
        if (!err->empty()) throw std::runtime_error(*err);
        co_return *ends;
    });
    auto writer_side = spawn(la, [as = std::move(as), bytes]() mutable -> Task<Clock::time_point> {
        auto ex = co_await net::this_coro::executor;
        auto wg = std::make_shared<WaitGroup>(ex);
        auto t0 = Clock::now();
        for (auto& s : as) {
            wg->add();
            net::co_spawn(ex, [s, bytes, wg]() -> Task<void> {
                std::vector<std::byte> buf(bulk_write_size, std::byte{0x5a});
                for (std::size_t sent = 0; sent < bytes;) {
                    net::const_buffer cb(buf.data(), std::min(buf.size(), bytes - sent));
                    if (!co_await s->write(std::span(&cb, 1))) break;
                    sent += cb.size();
                }
                std::byte b[1];
                (void)co_await s->read_some(b);  // EOF once the reader has everything
                s->close();
                wg->done();
            }, net::detached);
        }
        as.clear();
        co_await wg->wait();
        co_return t0;
    });
    auto abort = [&] {
        post(la, [ab] { for (auto& w : ab->a) if (auto s = w.lock()) s->close(); });
        post(lb, [ab] { for (auto& w : ab->b) if (auto s = w.lock()) s->close(); });
    };
    auto limit = trial_limit(bytes * n);
    auto ends = wait_bounded(reader_side, limit, abort, "raw bulk");
    auto t0 = wait_bounded(writer_side, 10s, abort, "raw bulk writer");
    return completion_seconds(t0, ends);
}

std::vector<double> mux_bulk_trial(const Config& cfg, std::string_view kind, Loop& la, Loop& lb, int n,
                                   std::size_t bytes, qtalk::mux::Options opts) {
    auto pairs = connect_pairs(cfg, kind, la, lb, 1);
    auto ab = std::make_shared<MuxAbort>();
    auto reader_side = spawn(lb, [s = std::move(pairs[0].b), ab, n, bytes, opts]() mutable
                                 -> Task<std::vector<Clock::time_point>> {
        auto ex = co_await net::this_coro::executor;
        auto sess = Session::start(std::move(s), opts);
        ab->b = sess;
        auto ends = std::make_shared<std::vector<Clock::time_point>>(n);
        auto err = std::make_shared<std::string>();
        auto wg = std::make_shared<WaitGroup>(ex);
        for (int i = 0; i < n; ++i) {
            auto ch = co_await sess->accept();
            if (!ch) throw std::runtime_error("accept channel: " + ch.error().message());
            wg->add();
            net::co_spawn(ex, [ch = std::move(*ch), i, bytes, ends, err, wg]() mutable -> Task<void> {
                std::vector<std::byte> buf(bulk_write_size);
                std::size_t got = 0;
                for (;;) {
                    auto r = co_await ch.read_some(buf);
                    if (!r) {
                        *err = "channel read: " + r.error().message();
                        break;
                    }
                    if (*r == 0) break;
                    got += *r;
                }
                (*ends)[i] = Clock::now();
                if (got != bytes && err->empty()) *err = "short read";
                ch.close();
                wg->done();
            }, net::detached);
        }
        co_await wg->wait();
        co_await sess->wait_closed();  // the writer side closes once it saw every CLOSE
        if (!err->empty()) throw std::runtime_error(*err);
        co_return *ends;
    });
    auto writer_side = spawn(la, [s = std::move(pairs[0].a), ab, n, bytes, opts]() mutable -> Task<Clock::time_point> {
        auto ex = co_await net::this_coro::executor;
        auto sess = Session::start(std::move(s), opts);
        ab->a = sess;
        std::vector<Channel> chs;
        for (int i = 0; i < n; ++i) {
            auto ch = co_await sess->open();
            if (!ch) throw std::runtime_error("open channel: " + ch.error().message());
            chs.push_back(std::move(*ch));
        }
        auto wg = std::make_shared<WaitGroup>(ex);
        auto t0 = Clock::now();
        for (auto& c : chs) {
            wg->add();
            net::co_spawn(ex, [ch = c, bytes, wg]() mutable -> Task<void> {
                std::vector<std::byte> buf(bulk_write_size, std::byte{0x5a});
                for (std::size_t sent = 0; sent < bytes;) {
                    auto k = std::min(buf.size(), bytes - sent);
                    if (!co_await ch.write(std::span(buf).first(k))) break;
                    sent += k;
                }
                (void)co_await ch.close_write();
                co_await ch.wait_closed();
                wg->done();
            }, net::detached);
        }
        chs.clear();
        co_await wg->wait();
        sess->close();
        co_return t0;
    });
    auto abort = [&] {
        post(la, [ab] { if (auto s = ab->a.lock()) s->close(); });
        post(lb, [ab] { if (auto s = ab->b.lock()) s->close(); });
    };
    auto limit = trial_limit(bytes * n);
    auto ends = wait_bounded(reader_side, limit, abort, "mux bulk");
    auto t0 = wait_bounded(writer_side, 10s, abort, "mux bulk writer");
    return completion_seconds(t0, ends);
}

}  // namespace qbench
