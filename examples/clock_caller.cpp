// Example caller, written against the blocking facade (no event loop of its own):
// calls clock.now, then streams clock.ticks through the hub.
// Usage: clock-caller [HUB_URL] [TICKS]
#include <iostream>

#include "qtalk/hub/client.hpp"

using namespace qtalk;

int main(int argc, char** argv) try {
    hub::Options opts;
    if (argc > 1) opts.url = argv[1];
    int ticks = argc > 2 ? std::atoi(argv[2]) : 3;
    hub::BlockingClient hub(opts);
    std::cout << "now: " << hub.call("clock.now").dump() << "\n";

    // Streaming needs the coroutine API; run it on the facade's loop.
    auto client = hub.client();
    auto count = hub.run([&]() -> rpc::Task<int> {
        auto r = co_await client->call("clock.ticks", ticks);
        if (!r || !r->continued) co_return -1;
        int n = 0;
        for (;;) {
            auto v = co_await r->pipe.receive();
            if (!v || !*v) break;
            std::cout << "tick: " << (**v).dump() << "\n";
            ++n;
        }
        co_return n;
    });
    std::cout << "received " << count << " ticks\n";
    return count == ticks ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "clock-caller: " << e.what() << "\n";
    return 1;
}
