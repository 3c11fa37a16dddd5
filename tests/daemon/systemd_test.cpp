// qtalkd's libsystemd wrappers (daemon/systemd.cpp) against a fake manager: a unix datagram
// socket as NOTIFY_SOCKET, LISTEN_* over fds 3.. of this process, WATCHDOG_* and JOURNAL_STREAM.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <spdlog/logger.h>

#include "daemon/systemd.hpp"

namespace sd = qtalkd::systemd;

namespace {

class DaemonSystemd : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("qtalk-sd-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "notify.sock").string();
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd_, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
        ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("NOTIFY_SOCKET");
        ::close(fd_);
        std::filesystem::remove_all(dir_);
    }
    // sd_notify() has sent the datagram by the time it returns, so no waiting is needed.
    std::string receive() {
        char buf[4096];
        auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        return n < 0 ? std::string() : std::string(buf, std::size_t(n));
    }

    std::filesystem::path dir_;
    std::string path_;
    int fd_ = -1;
};

// Puts `fds` at 3, 4, ... for sd_listen_fds(), saving whatever was there; restores on scope exit.
class PassedFds {
public:
    explicit PassedFds(std::vector<int> fds) : count_(int(fds.size())) {
        for (int i = 0; i < count_; ++i) {
            saved_.push_back(::fcntl(3 + i, F_DUPFD_CLOEXEC, 100));  // -1 when fd 3+i was not open
            ::dup2(fds[i], 3 + i);
            ::close(fds[i]);
        }
    }
    ~PassedFds() {
        for (int i = 0; i < count_; ++i) {
            ::close(3 + i);
            if (saved_[i] >= 0) ::dup2(saved_[i], 3 + i), ::close(saved_[i]);
        }
    }

private:
    int count_;
    std::vector<int> saved_;
};

int stream_socket() { return ::socket(AF_UNIX, SOCK_STREAM, 0); }

}  // namespace

TEST_F(DaemonSystemd, NotifyReadySendsReadyAndStatus) {
    sd::notify_ready("serving 3 listeners");
    EXPECT_EQ(receive(), "READY=1\nSTATUS=serving 3 listeners");
}

TEST_F(DaemonSystemd, NotifyStatusWatchdogStopping) {
    sd::notify_status("sessions=4");
    EXPECT_EQ(receive(), "STATUS=sessions=4");
    sd::notify_watchdog();
    EXPECT_EQ(receive(), "WATCHDOG=1");
    sd::notify_stopping();
    EXPECT_EQ(receive(), "STOPPING=1");
}

TEST_F(DaemonSystemd, NotifyReloadingCarriesMonotonicTimestamp) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto before = std::uint64_t(ts.tv_sec) * 1000000u + std::uint64_t(ts.tv_nsec) / 1000u;
    sd::notify_reloading();
    auto msg = receive();
    ASSERT_TRUE(msg.starts_with("RELOADING=1\nMONOTONIC_USEC=")) << msg;
    auto usec = std::stoull(msg.substr(msg.find('=', 12) + 1));
    EXPECT_GE(usec, before);
    EXPECT_LT(usec, before + 10'000'000u);
}

TEST_F(DaemonSystemd, EverythingIsANoOpWithoutNotifySocket) {
    ::unsetenv("NOTIFY_SOCKET");
    sd::notify_ready("x");
    sd::notify_status("x");
    sd::notify_reloading();
    sd::notify_watchdog();
    sd::notify_stopping();
    EXPECT_EQ(receive(), "");
    EXPECT_FALSE(sd::watchdog_interval());
    EXPECT_TRUE(sd::listen_fds().empty());
}

TEST_F(DaemonSystemd, WatchdogIntervalOnlyForThisProcess) {
    ::setenv("WATCHDOG_USEC", "30000000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    EXPECT_EQ(sd::watchdog_interval(), std::chrono::seconds(30));
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    EXPECT_FALSE(sd::watchdog_interval());
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("WATCHDOG_USEC");
    EXPECT_FALSE(sd::watchdog_interval());
}

TEST_F(DaemonSystemd, ListenFdsReturnsNamedFdsAndUnsetsEnvironment) {
    PassedFds passed({stream_socket(), stream_socket()});
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDS", "2", 1);
    ::setenv("LISTEN_FDNAMES", "unix:tcp", 1);
    auto fds = sd::listen_fds();
    ASSERT_EQ(fds.size(), 2u);
    EXPECT_EQ(fds[0].fd, 3);
    EXPECT_EQ(fds[0].name, "unix");
    EXPECT_EQ(fds[1].fd, 4);
    EXPECT_EQ(fds[1].name, "tcp");
    EXPECT_EQ(::fcntl(3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);  // not leaked to children
    EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
    EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr);
    EXPECT_EQ(std::getenv("LISTEN_FDNAMES"), nullptr);
    EXPECT_TRUE(sd::listen_fds().empty());  // a second call finds nothing
}

TEST_F(DaemonSystemd, ListenFdsWithoutNamesAreUnknown) {
    PassedFds passed({stream_socket()});
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("LISTEN_FDS", "1", 1);
    auto fds = sd::listen_fds();
    ASSERT_EQ(fds.size(), 1u);
    EXPECT_EQ(fds[0].fd, 3);
    EXPECT_EQ(fds[0].name, "unknown");
}

TEST_F(DaemonSystemd, ListenFdsForAnotherProcessAreIgnored) {
    ::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
    ::setenv("LISTEN_FDS", "1", 1);
    EXPECT_TRUE(sd::listen_fds().empty());
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
}

TEST_F(DaemonSystemd, UnderJournaldComparesStderrWithJournalStream) {
    struct stat st {};
    ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    EXPECT_TRUE(sd::under_journald());
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
    EXPECT_FALSE(sd::under_journald());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    EXPECT_FALSE(sd::under_journald());
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(sd::under_journald());
}

TEST_F(DaemonSystemd, JournaldSinkNeverThrows) {
    // Whether or not a journal is listening, logging must not throw into the io_context.
    spdlog::logger lg("hub", sd::journald_sink());
    lg.set_error_handler([](const std::string& e) { FAIL() << e; });
    EXPECT_NO_THROW(lg.info("session closed session={} reason={}", 7, "test"));
}
