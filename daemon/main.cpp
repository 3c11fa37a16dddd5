// qtalkd, the launcher: arguments, configuration (file + reload), systemd (readiness, status,
// watchdog, socket activation, journald) and listeners; everything else is the Hub's, which
// reads no files and no environment.
#include <grp.h>
#include <malloc.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "config.hpp"
#include "hub/hub.hpp"
#include "qtalk/log.hpp"
#include "systemd.hpp"

namespace net = boost::asio;
using namespace qtalkd;

namespace {

bool user_instance() { return ::geteuid() != 0 && std::getenv("XDG_RUNTIME_DIR"); }
std::string runtime_dir() {
    return user_instance() ? std::string(std::getenv("XDG_RUNTIME_DIR")) + "/qtalk" : limits::system_runtime_dir;
}

struct Cli {
    std::string config_path;
    std::vector<std::string> listens;
    std::string admin, level;
    int drain_s = -1;
    bool check = false, print = false;
};

// File (or defaults), then command-line overrides. Errors: one message per problem.
ConfigResult load(const Cli& cli) {
    auto defaults = default_config(user_instance(), runtime_dir());
    ConfigResult r{defaults, {}};
    std::string path = cli.config_path;
    if (path.empty() && !user_instance() && std::filesystem::exists(limits::default_config)) path = limits::default_config;
    if (!path.empty()) r = load_config_file(path, defaults);
    if (!r.ok()) return r;
    auto& c = *r.config;
    if (!cli.listens.empty()) {
        c.listeners.clear();
        for (auto& u : cli.listens) c.listeners.push_back({u, std::nullopt});
    }
    if (!cli.admin.empty()) c.admin.url = cli.admin;
    if (!cli.level.empty()) c.log.level = cli.level;
    if (cli.drain_s >= 0) c.timeouts.drain = std::chrono::seconds(cli.drain_s);
    return r;
}

// JSON log lines carry the message as a JSON string (log text contains quotes).
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& m, const std::tm&, spdlog::memory_buf_t& dest) override {
        auto s = nlohmann::json(std::string(m.payload.data(), m.payload.size()))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(s.data(), s.data() + s.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscapedMessage>(); }
};

void setup_logging(const Config& c) {
    if (systemd::under_journald()) {
        qtalk::log::set_sinks({systemd::journald_sink()});
    } else {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        if (c.log.format == "json") {
            auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
            f->add_flag<JsonEscapedMessage>('*').set_pattern(
                R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n","msg":%*})");
            sink->set_formatter(std::move(f));
        } else {
            sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
        }
        qtalk::log::set_sinks({sink});
    }
    qtalk::log::set_level(spdlog::level::from_str(c.log.level));
}

// Opens the listeners of `c` that the hub does not have yet; adopts socket-activated fds
// by FileDescriptorName. Returns false if one cannot be opened.
bool open_listeners(Hub& hub, const Config& c, std::vector<systemd::ListenFd>& fds, net::any_io_executor ex) {
    auto log = qtalk::log::get("hub");
    auto open_one = [&](const std::string& key, const std::string& url, const qtalk::transport::ListenOptions& lo,
                        const std::optional<std::string>& name, bool privileged) {
        if (hub.has_listener(key)) return true;
        qtalk::Result<std::unique_ptr<qtalk::transport::Listener>> l = qtalk::transport::Errc::closed;
        auto fd = std::find_if(fds.begin(), fds.end(), [&](auto& f) { return name && f.name == *name; });
        if (fd != fds.end()) {
            auto kind = url.substr(0, url.find(':'));
            l = qtalk::transport::adopt_listener(ex, fd->fd, kind, lo);
            fds.erase(fd);
        } else {
            if (url.starts_with("unix://")) {
                std::error_code ec;
                std::filesystem::create_directories(std::filesystem::path(url.substr(7)).parent_path(), ec);
            }
            l = qtalk::transport::listen(ex, url, lo);
        }
        if (!l) {
            log->error("cannot listen url={} reason=\"{}\"", url, l.error().message());
            return false;
        }
        log->info("listening url={}{}", (*l)->url(), privileged ? " admin=true" : "");
        hub.serve(std::move(*l), privileged, key);
        return true;
    };
    for (auto& l : c.listeners)
        if (!open_one(l.url, l.url, listen_options(c, l), l.name, false)) return false;
    if (c.admin.enabled()) {
        if (!open_one("admin:" + c.admin.url, c.admin.url, admin_listen_options(c), std::string("admin"), true))
            return false;
        if (c.admin.group) {
            if (auto* g = ::getgrnam(c.admin.group->c_str())) {
                if (::chown(c.admin.url.substr(7).c_str(), -1, g->gr_gid) != 0)
                    log->warn("cannot chgrp admin socket group={} reason=\"{}\"", *c.admin.group, std::strerror(errno));
            } else {
                log->warn("admin socket group not found group={}", *c.admin.group);
            }
        }
    }
    // Passed fds no configured listener names: serve them as what they are.
    for (auto& f : fds) {
        auto l = qtalk::transport::adopt_listener(ex, f.fd, f.name == "ws" ? "ws" : (f.name == "unix" ? "unix" : "tcp"));
        if (l) {
            log->info("listening url={} activated=true name={}", (*l)->url(), f.name);
            hub.serve(std::move(*l), false, "fd:" + f.name + ":" + std::to_string(f.fd));
        }
    }
    fds.clear();
    return true;
}

std::string status_line(const Hub& hub) {
    return "serving " + std::to_string(hub.session_count()) + " sessions, " + std::to_string(hub.registry().size()) +
           " services";
}

}  // namespace

int main(int argc, char** argv) {
    // Payload buffers of 256 KiB and more (a bulk stream's 1 MiB DATA messages) always come from
    // mmap and go back to the system when freed. By default glibc raises this threshold after
    // the first such free and then serves them from the heap, which a long stream fragments:
    // the hub's memory would grow past what its windows hold.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    CLI::App app{"qtalkd: the qtalk hub daemon"};
    Cli cli;
    app.add_option("-c,--config", cli.config_path, "configuration file (default /etc/qtalk/qtalkd.json if present)");
    app.add_option("-l,--listen", cli.listens, "listener URL (repeatable); replaces the configured listeners");
    app.add_option("--admin", cli.admin, "admin unix socket URL, or \"none\"");
    app.add_option("--log-level", cli.level, "trace|debug|info|warn|error");
    app.add_option("--drain-timeout", cli.drain_s, "seconds in-flight calls may take to finish on SIGTERM");
    app.add_flag("--check-config", cli.check, "validate the configuration and exit");
    app.add_flag("--print-config", cli.print, "print the effective configuration as JSON and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;  // --help: 0; usage errors: 2 (as qtalkctl)
    }

    auto loaded = load(cli);
    if (!loaded.ok()) {
        for (auto& e : loaded.errors) std::cerr << "qtalkd: " << e << "\n";
        return 1;
    }
    if (cli.check) {
        std::cout << "configuration ok\n";
        return 0;
    }
    if (cli.print) {
        std::cout << to_json(*loaded.config).dump(2) << "\n";
        return 0;
    }
    auto config = *loaded.config;
    setup_logging(config);
    auto log = qtalk::log::get("hub");
    ::signal(SIGPIPE, SIG_IGN);

    net::io_context io(1);
    auto hub = std::make_shared<Hub>(io.get_executor(), hub_options(config));
    auto fds = systemd::listen_fds();
    if (!open_listeners(*hub, config, fds, io.get_executor())) return 1;
    systemd::notify_ready(status_line(*hub));

    // STATUS= every few seconds; WATCHDOG=1 at half the configured interval.
    net::steady_timer status_timer(io);
    auto watchdog = systemd::watchdog_interval();
    auto tick = std::chrono::milliseconds(watchdog ? std::min<std::int64_t>(5000, watchdog->count() / 2000) : 5000);
    std::function<void()> heartbeat = [&] {
        status_timer.expires_after(tick);
        status_timer.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            if (watchdog) systemd::notify_watchdog();
            systemd::notify_status(status_line(*hub));
            heartbeat();
        });
    };
    heartbeat();

    // SIGHUP: reload. Listeners added/removed, log level, limits for new sessions; sessions stay.
    // An invalid configuration is refused and the running one kept.
    net::signal_set hup(io, SIGHUP);
    std::function<void()> on_hup = [&] {
        hup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            systemd::notify_reloading();
            auto next = load(cli);
            if (!next.ok()) {
                for (auto& e : next.errors) log->error("reload refused: {}", e);
            } else {
                auto& c = *next.config;
                qtalk::log::set_level(spdlog::level::from_str(c.log.level));
                hub->set_options(hub_options(c));
                std::set<std::string> keep;
                for (auto& l : c.listeners) keep.insert(l.url);
                if (c.admin.enabled()) keep.insert("admin:" + c.admin.url);
                for (auto& key : hub->listener_keys())
                    if (!keep.contains(key) && !key.starts_with("fd:")) hub->close_listener(key);
                std::vector<systemd::ListenFd> none;
                if (open_listeners(*hub, c, none, io.get_executor())) {
                    config = c;
                    log->info("configuration reloaded listeners={} level={}", hub->listener_keys().size(), c.log.level);
                }
            }
            systemd::notify_ready(status_line(*hub));
            on_hup();
        });
    };
    on_hup();

    // SIGTERM/SIGINT: stop accepting, let in-flight calls finish (bounded), exit 0.
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int sig) {
        log->info("stopping signal={}", sig);
        systemd::notify_stopping();
        status_timer.cancel();
        hup.cancel();
        net::co_spawn(io, hub->drain(config.timeouts.drain), [&](std::exception_ptr) { io.stop(); });
    });
    io.run();
    return 0;
}
