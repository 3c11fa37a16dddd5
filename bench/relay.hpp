// A byte relay process: a reference point for the hub. It sits where qtalkd sits (a process of
// its own between caller and responder, on the same transport) and only moves bytes: one epoll
// loop on one thread, each read sent on at once, nothing parsed. Calls through it cross as many
// sockets as calls through the hub, so its RTT over the direct one is what the extra process
// and its socket crossings cost by themselves. (It is no floor for a hub in hop count: it
// relays every OPEN/CONFIRM round trip, where the hub confirms at once and keeps channels to
// the provider open in advance.)
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

namespace qbench {

class RelayProcess {
public:
    struct Route {
        std::string kind;    // "unix" or "tcp": the relay listens on the same kind
        std::string target;  // the URL it dials for each connection it accepts
    };
    // Listens for every route (a socket the child inherits), then starts `qtalk-bench --relay`.
    static std::unique_ptr<RelayProcess> start(const Config& cfg, const std::vector<Route>& routes, std::string* error);
    ~RelayProcess();
    // The URL to dial for route i.
    const std::string& url(std::size_t i) const { return urls_[i]; }

private:
    pid_t pid_ = -1;
    std::vector<std::string> urls_;
};

// `qtalk-bench --relay FD=URL [FD=URL ...]`: accepts on each inherited listening socket FD and
// relays every connection to a fresh connection to URL, until SIGTERM.
int relay_main(int argc, char** argv);

}  // namespace qbench
