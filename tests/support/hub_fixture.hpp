// HubFixture: an in-process qtalkd Hub on 127.0.0.1:0, a temporary unix socket and a temporary
// admin socket, driven on the test's io_context; helpers to connect rpc peers to it.
#pragma once
#include <unistd.h>

#include <filesystem>

#include "hub/hub.hpp"
#include "qtalk/rpc/peer.hpp"
#include "support/async.hpp"

namespace qtalk::test {

struct HubFixture {
    std::shared_ptr<qtalkd::Hub> hub;
    std::string tcp_url, unix_url, admin_url;
    std::filesystem::path dir;

    explicit HubFixture(boost::asio::io_context& io, qtalkd::HubOptions opts = {}) {
        dir = std::filesystem::temp_directory_path() / ("qtalk-hub-test-" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(counter()++));
        std::filesystem::create_directories(dir);
        hub = std::make_shared<qtalkd::Hub>(io.get_executor(), opts);
        auto t = transport::listen(io.get_executor(), "tcp://127.0.0.1:0");
        auto u = transport::listen(io.get_executor(), "unix://" + (dir / "hub.sock").string());
        auto a = transport::listen(io.get_executor(), "unix://" + (dir / "admin.sock").string());
        tcp_url = (*t)->url();
        unix_url = (*u)->url();
        admin_url = (*a)->url();
        hub->serve(std::move(*t), false);
        hub->serve(std::move(*u), false);
        hub->serve(std::move(*a), true);
    }
    ~HubFixture() {
        hub->stop_listening();
        hub->close_all();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

// Dials `url` and returns a peer serving `mux` (may be null).
inline boost::asio::awaitable<std::unique_ptr<rpc::Peer>> connect(std::string url, rpc::Codec codec,
                                                                  std::shared_ptr<rpc::RespondMux> mux,
                                                                  mux::Options mopts) {
    auto p = co_await rpc::Peer::dial(url, codec, std::move(mux), mopts);
    EXPECT_TRUE(p) << url << ": " << p.error().message();
    if (!p) co_return nullptr;
    co_return std::make_unique<rpc::Peer>(std::move(*p));
}
inline boost::asio::awaitable<std::unique_ptr<rpc::Peer>> connect(std::string url, rpc::Codec codec,
                                                                  std::shared_ptr<rpc::RespondMux> mux = nullptr) {
    return connect(std::move(url), codec, std::move(mux), mux::Options{});
}

}  // namespace qtalk::test
