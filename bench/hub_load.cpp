// `qtalk-bench --hub-load URL [SECONDS] [IN_FLIGHT] [json|cbor] [one-thread]`: a steady echo load through a
// running qtalkd, for profiling the hub on its own (perf, callgrind, strace -c on its pid).
// A provider registers `load-echo` on one thread; IN_FLIGHT callers call it back to back on a
// second thread; prints calls/s once a second and in total. `direct+URL` instead listens on URL
// for the callers' session and serves it on the provider's thread without a hub in between: the
// same load peer to peer, to compare the endpoints' CPU per call with and without the hub.
// `one-thread` runs the provider on the callers' thread.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <boost/asio/detached.hpp>

#include "measurements.hpp"
#include "qtalk/mux/session.hpp"
#include "qtalk/rpc/client.hpp"
#include "qtalk/rpc/responder.hpp"

namespace qbench {
namespace {
namespace rpc = qtalk::rpc;
using qtalk::mux::Session;

Task<std::shared_ptr<Session>> dial_session(std::string url) {
    auto ex = co_await net::this_coro::executor;
    auto s = co_await qtalk::transport::dial(ex, url);
    if (!s) throw std::runtime_error("dial " + url + ": " + s.error().message());
    co_return Session::start(std::move(*s));
}

}  // namespace

int hub_load_main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: qtalk-bench --hub-load URL [SECONDS] [IN_FLIGHT] [json|cbor] [one-thread]\n");
        return 2;
    }
    std::string url = argv[2];
    const int seconds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 10;
    const int inflight = argc > 4 ? std::max(1, std::atoi(argv[4])) : 32;
    const auto codec = argc > 5 && std::strcmp(argv[5], "json") == 0 ? rpc::Codec::json : rpc::Codec::cbor;
    const bool one_thread = argc > 6 && std::strcmp(argv[6], "one-thread") == 0;
    const std::string selector = "load-echo";

    const bool direct = url.starts_with("direct+");
    if (direct) url.erase(0, 7);

    Loop callers, provider_loop;
    Loop& provider = one_thread ? callers : provider_loop;  // one-thread: caller and provider share a loop
    std::shared_ptr<Session> psess, csess;
    try {
        std::shared_ptr<qtalk::transport::Listener> listener;
        if (direct) {
            auto l = qtalk::transport::listen(provider.executor(), url);
            if (!l) throw std::runtime_error("listen " + url + ": " + l.error().message());
            listener = std::move(*l);
            url = listener->url();
        }
        auto serving = spawn(provider, [&]() -> Task<std::shared_ptr<Session>> {
            std::shared_ptr<Session> s;
            if (direct) {
                auto a = co_await listener->accept();
                if (!a) throw std::runtime_error("accept: " + a.error().message());
                listener->close();
                s = Session::start(std::move(*a));
            } else {
                s = co_await dial_session(url);
            }
            rpc::ServeOptions so;
            so.codec = codec;
            rpc::serve(s, [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.reply(c.args); },
                       so);
            if (direct) co_return s;
            nlohmann::json args;
            args["name"] = selector;
            auto reg = co_await rpc::Client(s, codec).call("qtalk.register", args);
            if (!reg) throw std::runtime_error("register: " + reg.error().to_string());
            co_return s;
        });
        if (!direct) psess = serving.get();
        csess = spawn(callers, dial_session(url)).get();
        if (direct) psess = serving.get();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hub-load: %s\n", e.what());
        return 1;
    }

    std::atomic<std::uint64_t> calls{0}, failures{0};
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    auto done = spawn(callers, [&]() -> Task<void> {
        auto ex = co_await net::this_coro::executor;
        auto wg = std::make_shared<WaitGroup>(ex);
        rpc::Client client(csess, codec);
        const nlohmann::json payload = std::string(64, 'x');
        for (int i = 0; i < inflight; ++i) {
            wg->add();
            net::co_spawn(ex, [&, wg, client]() mutable -> Task<void> {
                while (Clock::now() < until) {
                    auto r = co_await client.call(selector, payload);
                    (r ? calls : failures).fetch_add(1, std::memory_order_relaxed);
                    if (!r) co_await sleep_for(10ms);
                }
                wg->done();
            }, net::detached);
        }
        co_await wg->wait();
    });
    std::uint64_t last = 0;
    auto t0 = Clock::now();
    while (done.wait_for(1s) != std::future_status::ready) {
        auto now = calls.load();
        std::printf("%llu calls/s\n", static_cast<unsigned long long>(now - last));
        std::fflush(stdout);
        last = now;
    }
    auto secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("total %llu calls in %.2f s: %.0f calls/s, %llu failed\n", static_cast<unsigned long long>(calls.load()),
                secs, double(calls.load()) / secs, static_cast<unsigned long long>(failures.load()));
    spawn(callers, [&]() -> Task<void> { csess->close(); co_return; }).wait_for(2s);
    spawn(provider, [&]() -> Task<void> { psess->close(); co_return; }).wait_for(2s);
    return failures ? 1 : 0;
}

}  // namespace qbench
