// Child processes of the bench: fork/exec with a clean environment and a raised fd limit, a
// NOTIFY_SOCKET to hear READY=1, and a qtalkd hub process on unix + tcp listeners in a temp dir.
// Every child is registered so the watchdog can kill them all on a time-out.
#pragma once
#include <sys/types.h>
#include <sys/un.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

namespace qbench {

// Raises this process's RLIMIT_NOFILE soft limit to the hard limit; returns the new limit.
long raise_nofile();

// fork + execv. The child gets the parent's environment minus systemd variables, plus `env`
// ("K=V"), RLIMIT_NOFILE at the hard limit, stdin from /dev/null and stderr (and stdout unless
// stdout_fd >= 0) into `log`.
pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::filesystem::path& log, int stdout_fd = -1);
// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (waitpid's).
int stop_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
// Waits for the child to exit (no signal). Returns waitpid's status.
int wait_process(pid_t pid);
void kill_all_children();  // SIGKILL to every live child (watchdog)

// A unix datagram socket at `path` to pass as NOTIFY_SOCKET.
class NotifySocket {
public:
    explicit NotifySocket(const std::filesystem::path& path);
    ~NotifySocket();
    const std::filesystem::path& path() const { return path_; }
    // Waits for a datagram containing READY=1 until `deadline`.
    bool wait_ready(Clock::time_point deadline);

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

// The qtalkd binary next to this executable, if present.
std::optional<std::filesystem::path> qtalkd_path(const Config& cfg);
// The address of a unix socket at `p` (truncated to sun_path's size).
sockaddr_un unix_addr(const std::filesystem::path& p);
// A tcp port on 127.0.0.1 that was free a moment ago.
int free_tcp_port();
// Waits until a stream connect to `unix_path` succeeds (fallback readiness signal).
bool wait_connectable(const std::filesystem::path& unix_path, Clock::time_point deadline);

class HubProcess {
public:
    // Starts qtalkd with unix + tcp listeners and an admin socket in a fresh dir under cfg.tmp,
    // --log-level warn, and waits for READY=1 (or, failing that, a successful connect).
    static std::unique_ptr<HubProcess> start(const Config& cfg, std::string* error);
    ~HubProcess();
    std::string url(std::string_view kind) const { return kind == "unix" ? unix_url : tcp_url; }
    long rss_kib() const { return qbench::rss_kib(pid); }
    void stop();

    pid_t pid = -1;
    std::filesystem::path dir;
    std::string unix_url, tcp_url, admin_url;
    bool ready_by_notify = false;
};

}  // namespace qbench
