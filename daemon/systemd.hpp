// Thin wrappers over libsystemd for the launcher: sd_notify states, the watchdog, socket
// activation and the journal. Each call is a no-op outside systemd (no NOTIFY_SOCKET, no
// LISTEN_FDS, no JOURNAL_STREAM); none of them throws.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

namespace qtalkd::systemd {

// READY=1 with STATUS=<status> (startup done, or a reload finished).
void notify_ready(std::string_view status);
void notify_status(std::string_view status);
// RELOADING=1 plus MONOTONIC_USEC, which Type=notify-reload (systemd 253+) requires and older
// managers ignore. Send notify_ready() when the reload is done.
void notify_reloading();
void notify_stopping();
void notify_watchdog();

// WatchdogSec= of this service (sd_watchdog_enabled); ping with notify_watchdog() at half of it.
std::optional<std::chrono::microseconds> watchdog_interval();

struct ListenFd {
    int fd;
    std::string name;  // FileDescriptorName= ("unknown" when the unit sets none)
};
// Sockets passed by socket activation (fds 3...), each with its name. Unsets LISTEN_* so
// children do not inherit them. Empty when not socket-activated.
std::vector<ListenFd> listen_fds();

// True when stderr is connected to the journal ($JOURNAL_STREAM matches stderr's dev:inode).
bool under_journald();
// A sink writing structured entries: SYSLOG_IDENTIFIER=qtalkd, QTALK_COMPONENT=<logger name>,
// PRIORITY from the level, MESSAGE "<component>: <text>" (as on the console).
spdlog::sink_ptr journald_sink();

}  // namespace qtalkd::systemd
