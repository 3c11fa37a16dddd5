// Example provider: registers the "clock" service at the local hub and serves
//   clock.now            -> {"unix_ms": ..., "iso": "..."}
//   clock.ticks N        -> continues with N, then streams N ticks, one every 100 ms
// Usage: clock-provider [HUB_URL]
#include <chrono>
#include <iostream>

#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "qtalk/hub/client.hpp"
#include "qtalk/log.hpp"

namespace net = boost::asio;
using nlohmann::json;
using namespace qtalk;

static json now() {
    auto t = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    return json{{"unix_ms", ms}};
}

int main(int argc, char** argv) {
    log::to_stderr(spdlog::level::info);
    hub::Options opts;
    if (argc > 1) opts.url = argv[1];
    net::io_context io(1);
    auto client = hub::Client::create(io.get_executor(), opts);

    auto clock = std::make_shared<rpc::RespondMux>();
    clock->handle("now", [](rpc::Responder& r, rpc::Call&) -> rpc::Task<void> {
        const json value = now();
        (void)co_await r.reply(value);
    });
    clock->handle("ticks", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> {
        int n = c.args.is_number_integer() ? c.args.get<int>() : 3;
        auto out = co_await r.continue_with(n);
        if (!out) co_return;
        net::steady_timer t(co_await net::this_coro::executor);
        for (int i = 0; i < n; ++i) {
            t.expires_after(std::chrono::milliseconds(100));
            co_await t.async_wait(net::use_awaitable);
            const json tick = now();
            if (!co_await (*out)->send(tick)) co_return;
        }
    });

    net::co_spawn(io, [&]() -> net::awaitable<void> {
        if (auto r = co_await client->connect(); !r) {
            std::cerr << "clock-provider: cannot reach the hub at " << opts.url << ": " << r.error().message() << "\n";
            io.stop();
            co_return;
        }
        auto reg = co_await client->register_service("clock", clock);
        if (!reg) {
            std::cerr << "clock-provider: register: " << reg.error().to_string() << "\n";
            io.stop();
            co_return;
        }
        std::cerr << "clock-provider: serving " << reg->name << (reg->owner ? "" : " (queued)") << "\n";
    }, net::detached);
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) {
        client->close();
        io.stop();
    });
    io.run();
}
