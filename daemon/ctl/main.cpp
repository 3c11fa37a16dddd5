// qtalkctl, the operator CLI for qtalkd: the commands table, global options and exit codes.
// Each command is one function over a connected ctl::Client (client.hpp); the human output is
// format's. Admin commands default to the admin socket, the rest to the public one (§5.8).
#include <chrono>
#include <iostream>

#include <CLI/CLI.hpp>

#include "ctl/client.hpp"
#include "ctl/format.hpp"
#include "qtalk/log.hpp"

using namespace qtalkd::ctl;
using nlohmann::json;

namespace {

struct Options {
    std::string socket, url;
    bool json = false, verbose = false;
    double timeout_s = 5;
    std::string selector, arg;
    bool has_arg = false;
    std::string codec = "json";
    std::uint64_t session = 0;
};

enum class Socket { admin, hub };

std::string target(const Options& o, Socket s) {
    if (!o.url.empty()) return o.url;
    if (!o.socket.empty()) return socket_url(o.socket);
    return default_url(s == Socket::admin);
}

std::chrono::milliseconds timeout(const Options& o) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
}

std::unique_ptr<Client> connect(const Options& o, Socket s) {
    auto c = std::make_unique<Client>(target(o, s), timeout(o));
    c->connect();
    return c;
}

json parse_arg(const Options& o) {
    if (!o.has_arg) return nullptr;
    try {
        return json::parse(o.arg);
    } catch (const json::parse_error& e) {
        throw Failure(exit_usage, "invalid JSON argument: " + std::string(e.what()));
    }
}

void print(const Options& o, const json& v, std::string (*human)(const json&)) {
    std::cout << (o.json ? dump(v) + "\n" : human(v)) << std::flush;
}

// "admin socket /run/qtalk/admin.sock" / "socket ..." / the URL itself.
std::string describe(const std::string& url, bool admin) {
    if (!url.starts_with("unix://")) return url;
    return std::string(admin ? "admin socket " : "socket ") + url.substr(7);
}

// systemctl-like: 0 running, 3 not running (or not answering). Falls back to the public socket
// when the default admin socket cannot be reached (not root nor in the qtalk group, --admin none).
int run_status(const Options& o) {
    const bool explicit_target = !o.url.empty() || !o.socket.empty();
    std::vector<std::string> urls{target(o, Socket::admin)};
    if (!explicit_target) urls.push_back(target(o, Socket::hub));
    std::string why;
    bool answered_connect = false;
    for (auto& url : urls) {
        Client c(url, timeout(o));
        try {
            c.connect();
            answered_connect = true;
            (void)c.call("qtalk.ping", nullptr);
        } catch (const Failure& f) {
            why += (why.empty() ? "" : "; ") + std::string(f.what());
            continue;
        }
        json stats;
        std::string no_stats;
        try {
            stats = c.call("qtalk.admin.stats", nullptr);
        } catch (const Failure& f) {
            no_stats = f.code() == exit_denied ? (why.empty() ? "not the admin socket" : why) : f.what();
        }
        if (o.json) {
            std::cout << dump(stats) << std::endl;  // null when only the ping answered
            return exit_ok;
        }
        std::cout << "qtalkd is running (" << describe(url, no_stats.empty()) << ")";
        if (!no_stats.empty())
            std::cout << ", no stats: " << no_stats;
        else
            std::cout << ", uptime " << human_duration(stats.value("uptime_s", std::int64_t(-1))) << ", "
                      << stats.value("sessions", 0) << " sessions, " << stats.value("services", 0) << " services";
        std::cout << std::endl;
        return exit_ok;
    }
    if (!o.json) std::cout << (answered_connect ? "qtalkd is not responding" : "qtalkd is not running") << std::endl;
    throw Failure(exit_unreachable, why);
}

int run_admin_view(const Options& o, const char* selector, std::string (*human)(const json&)) {
    auto c = connect(o, Socket::admin);
    print(o, c->call(selector, nullptr), human);
    return exit_ok;
}
int run_sessions(const Options& o) { return run_admin_view(o, "qtalk.admin.sessions", format_sessions); }
int run_services(const Options& o) { return run_admin_view(o, "qtalk.admin.services", format_services); }
int run_stats(const Options& o) { return run_admin_view(o, "qtalk.admin.stats", format_stats); }

int run_kick(const Options& o) {
    auto c = connect(o, Socket::admin);
    auto r = c->call("qtalk.admin.kick", json{{"session", o.session}});
    print(o, r, [](const json& v) { return "kicked session " + dump(v.value("session", json())) + "\n"; });
    return exit_ok;
}

// Snapshot, then one line per up/down event; SIGINT/SIGTERM end it with 0, the hub ending it is
// a failure (1), so scripts notice a restart or a kick.
int run_watch(const Options& o) {
    auto c = connect(o, Socket::hub);
    bool first = true;
    auto end = c->stream("qtalk.watch", nullptr, [&](const json& v) {
        print(o, v, first ? format_listing : format_event);
        first = false;
    });
    if (end.interrupted) return exit_ok;
    throw Failure(exit_failed, end.error ? "connection to the hub lost: " + *end.error : "the hub ended the watch");
}

int run_call(const Options& o) {
    auto arg = parse_arg(o);
    auto codec = qtalk::rpc::parse_codec(o.codec);
    if (!codec) throw Failure(exit_usage, "--codec: json or cbor");
    Client c(target(o, Socket::hub), timeout(o), *codec);
    c.connect();
    auto end = c.stream(o.selector, arg, [](const json& v) { std::cout << dump(v) << std::endl; });
    if (end.interrupted) return 128 + end.interrupted;  // as if killed, but after a clean CLOSE
    if (end.error) throw Failure(exit_failed, "stream failed: " + *end.error);
    return exit_ok;
}

int run_ping(const Options& o) {
    auto arg = parse_arg(o);
    auto c = connect(o, Socket::hub);
    auto start = std::chrono::steady_clock::now();
    auto reply = c->call("qtalk.ping", arg);
    std::chrono::duration<double, std::milli> rtt = std::chrono::steady_clock::now() - start;
    if (reply != arg) throw Failure(exit_failed, "ping reply differs from the argument: " + dump(reply));
    if (o.json) {
        std::cout << dump(reply) << std::endl;
    } else {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", rtt.count());
        std::cout << "reply from " << c->url() << ": time=" << ms << " ms" << std::endl;
    }
    return exit_ok;
}

void arg_json(CLI::App& sub, Options& o, const char* what) {
    sub.add_option("JSON", o.arg, what)->each([&o](const std::string&) { o.has_arg = true; });
}

struct Command {
    const char* name;
    const char* help;
    int (*run)(const Options&);
    void (*args)(CLI::App&, Options&);  // positional arguments (may be null)
};

const Command commands[] = {
    {"status", "is qtalkd running? uptime, sessions and services (exit 3 if not running)", run_status, nullptr},
    {"sessions", "list sessions (qtalk.admin.sessions)", run_sessions, nullptr},
    {"services", "list services with owners and call counts (qtalk.admin.services)", run_services, nullptr},
    {"stats", "hub counters (qtalk.admin.stats)", run_stats, nullptr},
    {"kick", "close a session (qtalk.admin.kick)", run_kick,
     [](CLI::App& sub, Options& o) { sub.add_option("ID", o.session, "session id (see sessions)")->required(); }},
    {"watch", "print the services, then each up/down event until interrupted (qtalk.watch)", run_watch, nullptr},
    {"call", "call any selector with a JSON argument, print the reply and any streamed values", run_call,
     [](CLI::App& sub, Options& o) {
         sub.add_option("SELECTOR", o.selector, "selector, e.g. clock.now or qtalk.services")->required();
         arg_json(sub, o, "argument as JSON (default null)");
         sub.add_option("--codec", o.codec, "json or cbor: the provider's codec (the hub does not translate)")
             ->check(CLI::IsMember({"json", "cbor"}))
             ->capture_default_str();
     }},
    {"ping", "qtalk.ping the hub and print the round-trip time", run_ping,
     [](CLI::App& sub, Options& o) { arg_json(sub, o, "argument to echo, as JSON (default null)"); }},
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"qtalkctl: inspect and control the qtalkd hub"};
    app.footer(
        "Admin commands (status, sessions, services, stats, kick) use the admin socket, the others the public\n"
        "socket: $XDG_RUNTIME_DIR/qtalk/{admin,qtalkd}.sock for users, /run/qtalk/... for root.\n"
        "Exit codes: 0 ok, 1 call failed, 2 usage, 3 hub not reachable, 4 permission denied.");
    app.fallthrough();  // global options may follow the command
    app.require_subcommand(1);
    Options o;
    // Repeating an option is allowed, the last one wins (aliases, wrapper scripts).
    app.add_option("--socket", o.socket, "unix socket path of the hub (instead of the default)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--url", o.url, "any transport URL (tcp://, unix://, ws://); overrides --socket")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_flag("--json", o.json, "machine output: the hub's JSON reply, one value per line");
    app.add_option("--timeout", o.timeout_s, "seconds to wait for connecting and for each reply")
        ->check(CLI::PositiveNumber)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->capture_default_str();
    app.add_flag("-v,--verbose", o.verbose, "log the library's debug messages to stderr");

    const Command* chosen = nullptr;
    for (const auto& cmd : commands) {
        auto* sub = app.add_subcommand(cmd.name, cmd.help);
        if (cmd.args) cmd.args(*sub, o);
        sub->callback([&chosen, &cmd] { chosen = &cmd; });
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);  // prints help or the message
        return rc == 0 ? exit_ok : exit_usage;
    }
    if (o.verbose) qtalk::log::to_stderr(spdlog::level::debug);
    try {
        return chosen->run(o);
    } catch (const Failure& f) {
        if (*f.what()) std::cerr << "qtalkctl: " << f.what() << "\n";
        if (!f.hint().empty()) std::cerr << "qtalkctl: hint: " << f.hint() << "\n";
        return f.code();
    } catch (const std::exception& e) {
        std::cerr << "qtalkctl: " << e.what() << "\n";
        return exit_failed;
    }
}
