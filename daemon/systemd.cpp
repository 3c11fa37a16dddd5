// libsystemd calls behind the launcher's few needs (see systemd.hpp). sd_notify() itself returns
// 0 without NOTIFY_SOCKET, which is what makes every notify_* a no-op outside systemd.
#include "systemd.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#define SD_JOURNAL_SUPPRESS_LOCATION  // the call site would always be this file
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

namespace qtalkd::systemd {
namespace {

void notify(const std::string& state) { (void)::sd_notify(0, state.c_str()); }

// spdlog's own systemd_sink names entries after the logger (SYSLOG_IDENTIFIER=hub, ...), which
// splits `journalctl -t`, and throws when the journal is gone; this one keeps one identifier,
// puts the component in its own field and drops an entry rather than throwing.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const auto& name = msg.logger_name;
        const auto& text = msg.payload;
        (void)::sd_journal_send("MESSAGE=%.*s: %.*s", int(name.size()), name.data(), int(text.size()), text.data(),
                                "PRIORITY=%d", priority(msg.level), "SYSLOG_IDENTIFIER=qtalkd",
                                "QTALK_COMPONENT=%.*s", int(name.size()), name.data(), nullptr);
    }
    void flush_() override {}

private:
    static int priority(spdlog::level::level_enum l) {
        switch (l) {
        case spdlog::level::trace:
        case spdlog::level::debug: return LOG_DEBUG;
        case spdlog::level::warn: return LOG_WARNING;
        case spdlog::level::err: return LOG_ERR;
        case spdlog::level::critical: return LOG_CRIT;
        default: return LOG_INFO;
        }
    }
};

}  // namespace

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notify_status(std::string_view status) { notify("STATUS=" + std::string(status)); }

void notify_reloading() {
    ::timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    auto usec = std::uint64_t(ts.tv_sec) * 1000000u + std::uint64_t(ts.tv_nsec) / 1000u;
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { notify("STOPPING=1"); }

void notify_watchdog() { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

std::vector<ListenFd> listen_fds() {
    char** names = nullptr;
    int n = ::sd_listen_fds_with_names(1, &names);
    std::vector<ListenFd> out;
    for (int i = 0; i < n; ++i)
        out.push_back({SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : "unknown"});
    if (names) {
        for (int i = 0; names[i]; ++i) std::free(names[i]);
        std::free(names);
    }
    return out;
}

bool under_journald() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

spdlog::sink_ptr journald_sink() { return std::make_shared<JournalSink>(); }

}  // namespace qtalkd::systemd
