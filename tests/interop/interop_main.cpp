// qtalk-interop: the peer under test of the conformance suite (PROTOCOL §4.10). Speaks qmux on
// stdin/stdout, or serves every session accepted on --listen URLs. Nothing but qmux on stdout.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "interop/codec_env.hpp"
#include "interop/services.hpp"
#include "qtalk/log.hpp"
#include "qtalk/rpc/peer.hpp"

namespace net = boost::asio;
using namespace qtalk;

int main(int argc, char** argv) {
    CLI::App app{"qtalk-interop: InteropService peer for the qtalk conformance suite"};
    std::vector<std::string> listens;
    std::string level = "warn", hub_url, hub_name = "interop", callback_prefix = "checker";
    app.add_option("-l,--listen", listens, "serve sessions accepted on URL (repeatable); default: stdio");
    app.add_option("--hub", hub_url, "dial a qtalkd hub and register the service there instead");
    app.add_option("--name", hub_name, "service name at the hub (with --hub)");
    app.add_option("--callback-prefix", callback_prefix, "where callbacks go through the hub (with --hub)");
    app.add_option("--log-level", level, "log level (stderr)");
    CLI11_PARSE(app, argc, argv);
    qtalk::log::to_stderr(spdlog::level::from_str(level));

    rpc::Codec codec;
    try {
        codec = interop::codec_from_env();
    } catch (const std::exception& e) {
        std::cerr << "qtalk-interop: " << e.what() << "\n";
        return 2;
    }
    net::io_context io(1);
    auto service = interop::interop_service();
    std::vector<std::unique_ptr<transport::Listener>> listeners;
    if (!hub_url.empty()) {
        auto mux = std::make_shared<rpc::RespondMux>();
        mux->handle(hub_name, interop::interop_service(callback_prefix));
        net::co_spawn(io, [&, mux]() -> net::awaitable<void> {
            auto peer = co_await rpc::Peer::dial(hub_url, codec, mux);
            if (!peer) {
                std::cerr << "qtalk-interop: hub " << hub_url << ": " << peer.error().message() << "\n";
                io.stop();
                co_return;
            }
            nlohmann::json args{{"name", hub_name}};
            auto r = co_await peer->call("qtalk.register", args);
            if (!r) {
                std::cerr << "qtalk-interop: register: " << r.error().to_string() << "\n";
                io.stop();
                co_return;
            }
            std::cerr << "qtalk-interop: registered " << r->value.dump() << "\n";
            peer->session()->on_closed([&](std::error_code) { io.stop(); });
        }, net::detached);
    } else if (listens.empty()) {
        auto s = transport::stdio_stream(io.get_executor());
        if (!s) {
            std::cerr << "qtalk-interop: stdio: " << s.error().message() << "\n";
            return 1;
        }
        auto session = mux::Session::start(std::move(*s));
        rpc::Peer peer(session, codec, service);
        session->on_closed([&](std::error_code) { io.stop(); });  // stdin EOF ends the program
    } else {
        for (auto& url : listens) {
            auto l = transport::listen(io.get_executor(), url);
            if (!l) {
                std::cerr << "qtalk-interop: listen " << url << ": " << l.error().message() << "\n";
                return 1;
            }
            std::cerr << "qtalk-interop: listening " << (*l)->url() << "\n";
            net::co_spawn(io, [lp = l->get(), codec, service]() -> net::awaitable<void> {
                for (;;) {
                    auto s = co_await lp->accept();
                    if (!s) co_return;
                    rpc::Peer(mux::Session::start(std::move(*s)), codec, service);
                }
            }, net::detached);
            listeners.push_back(std::move(*l));
        }
    }
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { io.stop(); });
    io.run();
    for (auto& l : listeners) l->close();
    return 0;
}
