// Admin views (PROTOCOL §5.6) as plain functions over hub state (nats' Connz/Varz style);
// the admin methods and qtalkctl only encode them.
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "hub/hub.hpp"

namespace qtalkd {
using nlohmann::json;

namespace {
std::string rfc3339(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::uint64_t rss_bytes() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

json opt(const auto& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json Hub::admin_sessions() const {
    json arr = json::array();
    for (auto& [id, r] : sessions_) {
        auto st = r.session->stats();
        arr.push_back({{"id", id},
                       {"transport", r.peer.transport},
                       {"remote", r.peer.remote},
                       {"uid", opt(r.peer.uid)},
                       {"pid", opt(r.peer.pid)},
                       {"connected_at", rfc3339(r.connected_at)},
                       {"channels", st.channels},
                       {"bytes_in", st.bytes_in},
                       {"bytes_out", st.bytes_out},
                       {"services", registry_.names_of(id)},
                       {"privileged", r.privileged}});
    }
    return arr;
}

json Hub::admin_services() const {
    json arr = json::array();
    for (auto& d : registry_.details())
        arr.push_back({{"name", d.name}, {"shared", d.shared}, {"owner", opt(d.owner)}, {"sessions", d.sessions},
                       {"calls", d.calls}});
    return arr;
}

json Hub::admin_stats() const {
    std::uint64_t in = stats_.bytes_in_closed, out = stats_.bytes_out_closed, channels = 0;
    for (auto& [_, r] : sessions_) {
        auto st = r.session->stats();
        in += st.bytes_in;
        out += st.bytes_out;
        channels += st.channels;
    }
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - stats_.started_at);
    return {{"started_at", rfc3339(stats_.started_at)},
            {"uptime_s", uptime.count()},
            {"sessions", sessions_.size()},
            {"sessions_total", stats_.sessions_total},
            {"services", registry_.size()},
            {"channels", channels},
            {"calls_total", stats_.calls_total},
            {"calls_active", stats_.calls_active},
            {"calls_routed", stats_.calls_routed},
            {"errors", stats_.errors},
            {"bytes_in", in},
            {"bytes_out", out},
            {"memory_rss_bytes", rss_bytes()}};
}

}  // namespace qtalkd
