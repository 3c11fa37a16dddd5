// qtalk-check: the checker side of the conformance suite (PROTOCOL §4.10). Runs a peer command
// over its stdin/stdout (`qtalk-check -- CMD ARGS...`) or dials a URL, serves CallbackService,
// prints one line per check and exits non-zero on any failure.
#include <signal.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "interop/checks.hpp"
#include "interop/child_process.hpp"
#include "interop/codec_env.hpp"
#include "interop/services.hpp"
#include "qtalk/log.hpp"

namespace net = boost::asio;
using namespace qtalk;

int main(int argc, char** argv) {
    CLI::App app{"qtalk-check: run the qtalk conformance checks against a peer"};
    std::string dial_url;
    std::vector<std::string> command;
    int repeat = 1;
    int timeout_s = 60;
    bool quiet = false;
    std::string level = "warn";
    app.add_option("--dial", dial_url, "dial the peer at URL (tcp://, unix://, ws://) instead of running a command");
    std::string service, register_as;
    app.add_option("--service", service, "call \"<service>.Unary\" etc. (a peer reached through a hub)");
    app.add_option("--register", register_as, "register CallbackService at the hub under this name first");
    app.add_option("--repeat", repeat, "run the whole suite N times, each on a new session")->check(CLI::PositiveNumber);
    app.add_option("--timeout", timeout_s, "seconds allowed per run")->check(CLI::PositiveNumber);
    app.add_flag("-q,--quiet", quiet, "print only failures and the summary");
    app.add_option("--log-level", level, "log level (stderr)");
    app.add_option("command", command, "peer command (after --)");
    CLI11_PARSE(app, argc, argv);
    if (dial_url.empty() == command.empty()) {
        std::cerr << "qtalk-check: give either --dial URL or -- COMMAND ARGS...\n";
        return 2;
    }
    qtalk::log::to_stderr(spdlog::level::from_str(level));
    ::signal(SIGPIPE, SIG_IGN);
    rpc::Codec codec;
    try {
        codec = interop::codec_from_env();
    } catch (const std::exception& e) {
        std::cerr << "qtalk-check: " << e.what() << "\n";
        return 2;
    }

    int failed_runs = 0;
    for (int run = 0; run < repeat; ++run) {
        net::io_context io(1);
        interop::Child child;
        std::unique_ptr<transport::Stream> stream;
        if (!command.empty()) {
            if (auto ec = interop::spawn(command, child)) {
                std::cerr << "qtalk-check: cannot start " << command[0] << ": " << ec.message() << "\n";
                return 2;
            }
            auto s = transport::fd_stream(io.get_executor(), child.from_child, child.to_child, "stdio");
            if (!s) return 2;
            stream = std::move(*s);
        }
        std::ostringstream quiet_out;
        std::ostream& out = quiet ? static_cast<std::ostream&>(quiet_out) : std::cout;
        std::optional<interop::CheckTotals> totals;
        std::string setup_error;
        net::co_spawn(io, [&]() -> net::awaitable<void> {
            if (!stream) {
                auto s = co_await transport::dial(co_await net::this_coro::executor, dial_url);
                if (!s) {
                    setup_error = "dial " + dial_url + ": " + s.error().message();
                    co_return;
                }
                stream = std::move(*s);
            }
            auto mux = interop::callback_service();
            if (!register_as.empty()) {
                mux = std::make_shared<rpc::RespondMux>();
                mux->handle(register_as, interop::callback_service());
            }
            rpc::Peer peer(mux::Session::start(std::move(stream)), codec, mux);
            if (!register_as.empty()) {
                nlohmann::json args{{"name", register_as}};
                auto r = co_await peer.call("qtalk.register", args);
                if (!r) {
                    setup_error = "register " + register_as + ": " + r.error().to_string();
                    co_return;
                }
            }
            totals = co_await interop::run_checks(peer, out, service);
            peer.close();
        }, [&](std::exception_ptr e) {
            if (e) setup_error = "internal error";
            io.stop();
        });
        io.run_for(std::chrono::seconds(timeout_s));
        if (!command.empty()) interop::stop(child);
        bool ok = totals && totals->failed == 0 && setup_error.empty();
        if (!ok) {
            ++failed_runs;
            if (quiet) std::cout << quiet_out.str();
            if (!setup_error.empty()) std::cout << "FAIL " << setup_error << "\n";
            else if (!totals) std::cout << "FAIL run " << run + 1 << " timed out after " << timeout_s << " s\n";
        }
        if (totals && (!quiet || !ok))
            std::cout << "run " << run + 1 << ": " << totals->passed << " passed, " << totals->failed << " failed ("
                      << rpc::codec_name(codec) << ")\n";
    }
    if (repeat > 1 || quiet)
        std::cout << repeat << " runs, " << failed_runs << " failed (" << rpc::codec_name(codec) << ")\n";
    return failed_runs == 0 ? 0 : 1;
}
