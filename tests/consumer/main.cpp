// Installed-library smoke: a socketpair session, one call answered by a RespondMux.
#include <qtalk/rpc/peer.hpp>
#include <qtalk/transport/listener.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

int main() {
    boost::asio::io_context io;
    auto pair = qtalk::transport::socket_pair(io.get_executor());
    auto mux = std::make_shared<qtalk::rpc::RespondMux>();
    mux->handle("hello", [](qtalk::rpc::Responder& r, qtalk::rpc::Call& c) -> qtalk::rpc::Task<void> {
        (void)co_await r.reply("hello, " + c.args.get<std::string>());
    });
    qtalk::rpc::Peer server(qtalk::mux::Session::start(std::move(pair->first)), qtalk::rpc::Codec::json, mux);
    qtalk::rpc::Peer client(qtalk::mux::Session::start(std::move(pair->second)), qtalk::rpc::Codec::json);
    int rc = 1;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        auto r = co_await client.call("hello", "installed qtalk");
        if (r) std::cout << r->value.get<std::string>() << "\n";
        rc = r && r->value == "hello, installed qtalk" ? 0 : 1;
        server.close();
        client.close();
    }, boost::asio::detached);
    io.run_for(std::chrono::seconds(10));
    return rc;
}
