// qtalkd, the launcher: arguments, listeners, signals; hands everything to the Hub, which
// reads no files and no environment.
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "hub/hub.hpp"
#include "qtalk/log.hpp"

namespace net = boost::asio;

namespace {
bool user_instance() { return ::geteuid() != 0 && std::getenv("XDG_RUNTIME_DIR"); }
std::string runtime_dir() { return user_instance() ? std::string(std::getenv("XDG_RUNTIME_DIR")) + "/qtalk" : "/run/qtalk"; }
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"qtalkd: the qtalk hub daemon"};
    std::vector<std::string> listens;
    std::string admin;
    std::string level = "info";
    app.add_option("-l,--listen", listens,
                   "listener URL (repeatable); default tcp://127.0.0.1:7420 and unix://<runtime dir>/qtalkd.sock");
    app.add_option("--admin", admin, "admin unix socket URL (default unix://<runtime dir>/admin.sock; \"none\" disables)");
    app.add_option("--log-level", level, "trace|debug|info|warn|error");
    int drain_s = 10;
    app.add_option("--drain-timeout", drain_s, "seconds in-flight calls may take to finish on SIGTERM");
    CLI11_PARSE(app, argc, argv);

    qtalk::log::to_stderr(spdlog::level::from_str(level));
    auto log = qtalk::log::get("hub");
    ::signal(SIGPIPE, SIG_IGN);
    if (listens.empty()) listens = {"tcp://127.0.0.1:7420", "unix://" + runtime_dir() + "/qtalkd.sock"};
    if (admin.empty()) admin = "unix://" + runtime_dir() + "/admin.sock";

    net::io_context io(1);
    auto hub = std::make_shared<qtalkd::Hub>(io.get_executor(), qtalkd::HubOptions{});
    auto open = [&](const std::string& url, bool privileged) {
        qtalk::transport::ListenOptions lo;
        if (url.starts_with("unix://")) {
            std::error_code ec;
            std::filesystem::create_directories(std::filesystem::path(url.substr(7)).parent_path(), ec);
            if (privileged) lo.unix_mode = 0660;  // owner and the qtalk group only
        }
        auto l = qtalk::transport::listen(io.get_executor(), url, lo);
        if (!l) {
            log->error("cannot listen url={} reason=\"{}\"", url, l.error().message());
            return false;
        }
        log->info("listening url={}{}", (*l)->url(), privileged ? " admin=true" : "");
        hub->serve(std::move(*l), privileged);
        return true;
    };
    for (auto& url : listens)
        if (!open(url, false)) return 1;
    if (admin != "none" && !open(admin, true)) return 1;

    // SIGTERM/SIGINT: stop accepting, let in-flight calls finish (bounded), exit 0.
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int sig) {
        log->info("stopping signal={}", sig);
        net::co_spawn(io, hub->drain(std::chrono::seconds(drain_s)), [&](std::exception_ptr) { io.stop(); });
    });
    io.run();
    return 0;
}
