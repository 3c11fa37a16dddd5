// Child processes: fork/exec, NOTIFY_SOCKET, the qtalkd hub process (see process.hpp).
#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <set>
#include <thread>

extern char** environ;

namespace qbench {
namespace {

std::mutex children_mu;
std::set<pid_t> children;

}  // namespace

sockaddr_un unix_addr(const std::filesystem::path& p) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, p.c_str(), sizeof(a.sun_path) - 1);
    return a;
}

long raise_nofile() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur);
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::filesystem::path& log, int stdout_fd) {
    // Everything the child needs is prepared before fork (only async-signal-safe calls after).
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("LISTEN_") || kv.starts_with("JOURNAL_STREAM=") ||
            kv.starts_with("WATCHDOG_") || kv.starts_with("QTALK_"))
            continue;
        envs.emplace_back(kv);
    }
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nullfd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;

    std::lock_guard lock(children_mu);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setrlimit(RLIMIT_NOFILE, &rl);  // `ulimit -n hard` for the child
        if (nullfd >= 0) ::dup2(nullfd, 0);
        if (logfd >= 0) ::dup2(logfd, 2);
        ::dup2(stdout_fd >= 0 ? stdout_fd : (logfd >= 0 ? logfd : 2), 1);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    if (logfd >= 0) ::close(logfd);
    if (nullfd >= 0) ::close(nullfd);
    if (pid > 0) children.insert(pid);
    return pid;
}

int stop_process(pid_t pid, std::chrono::milliseconds grace) {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    int status = 0;
    auto end = Clock::now() + grace;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || r < 0) break;
        if (Clock::now() > end) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    std::lock_guard lock(children_mu);
    children.erase(pid);
    return status;
}

int wait_process(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::lock_guard lock(children_mu);
    children.erase(pid);
    return status;
}

void kill_all_children() {
    std::lock_guard lock(children_mu);
    for (auto pid : children) ::kill(pid, SIGKILL);
}

NotifySocket::NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = unix_addr(path_);
    std::filesystem::remove(path_);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("notify socket: " + std::string(std::strerror(errno)));
}

NotifySocket::~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

bool NotifySocket::wait_ready(Clock::time_point deadline) {
    char buf[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        auto n = ::recv(fd_, buf, sizeof buf - 1, 0);
        if (n <= 0) continue;
        buf[n] = 0;
        for (std::string_view s(buf, static_cast<std::size_t>(n)); !s.empty();) {
            auto eol = s.find('\n');
            if (s.substr(0, eol) == "READY=1") return true;
            if (eol == std::string_view::npos) break;
            s.remove_prefix(eol + 1);
        }
    }
}

std::optional<std::filesystem::path> qtalkd_path(const Config& cfg) {
    auto p = cfg.bin_dir / "qtalkd";
    if (::access(p.c_str(), X_OK) == 0) return p;
    return std::nullopt;
}

int free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

bool wait_connectable(const std::filesystem::path& unix_path, Clock::time_point deadline) {
    auto a = unix_addr(unix_path);
    while (Clock::now() < deadline) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(200us);
    }
    return false;
}

std::unique_ptr<HubProcess> HubProcess::start(const Config& cfg, std::string* error) {
    auto bin = qtalkd_path(cfg);
    if (!bin) {
        *error = "qtalkd not found next to qtalk-bench (" + cfg.bin_dir.string() + ")";
        return nullptr;
    }
    static int n = 0;
    auto h = std::make_unique<HubProcess>();
    h->dir = cfg.tmp / ("hub" + std::to_string(n++));
    std::filesystem::create_directories(h->dir);
    h->unix_url = "unix://" + (h->dir / "hub.sock").string();
    h->admin_url = "unix://" + (h->dir / "admin.sock").string();
    for (int attempt = 0; attempt < 3; ++attempt) {
        h->tcp_url = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
        NotifySocket notify(h->dir / "notify.sock");
        h->pid = spawn_process({bin->string(), "--listen", h->unix_url, "--listen", h->tcp_url, "--admin",
                                h->admin_url, "--log-level", "warn", "--drain-timeout", "1"},
                               {"NOTIFY_SOCKET=" + notify.path().string()}, h->dir / "qtalkd.log");
        h->ready_by_notify = notify.wait_ready(Clock::now() + 5s);
        if (h->ready_by_notify || wait_connectable(h->dir / "hub.sock", Clock::now() + 5s)) {
            if (::waitpid(h->pid, nullptr, WNOHANG) == 0) return h;
        }
        stop_process(h->pid);  // e.g. the tcp port was taken meanwhile: retry with another
        h->pid = -1;
    }
    *error = "qtalkd did not start (see " + (h->dir / "qtalkd.log").string() + ")";
    return nullptr;
}

HubProcess::~HubProcess() { stop(); }

void HubProcess::stop() {
    if (pid > 0) stop_process(pid);
    pid = -1;
}

}  // namespace qbench
