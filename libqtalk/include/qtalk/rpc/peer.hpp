// Peer: one session that both calls and responds (PROTOCOL §4.8) — the usual way to use rpc.
#pragma once
#include <memory>
#include <string_view>

#include "qtalk/rpc/client.hpp"
#include "qtalk/rpc/respond_mux.hpp"
#include "qtalk/transport/listener.hpp"

namespace qtalk::rpc {

class Peer {
public:
    // Starts serving `mux` (may be null: calls only) on `session`.
    Peer(std::shared_ptr<mux::Session> session, Codec codec, std::shared_ptr<RespondMux> mux = nullptr,
         ServeOptions opts = {});

    static Task<Result<Peer>> dial(std::string url, Codec codec, std::shared_ptr<RespondMux> mux,
                                   mux::Options mopts);
    static Task<Result<Peer>> dial(std::string url, Codec codec, std::shared_ptr<RespondMux> mux = nullptr) {
        return dial(std::move(url), codec, std::move(mux), mux::Options{});
    }

    Client& client() { return client_; }
    Task<CallResult<Response>> call(std::string selector, nlohmann::json args = nullptr) {
        return client_.call(std::move(selector), std::move(args));
    }
    const std::shared_ptr<mux::Session>& session() const { return session_; }
    const std::shared_ptr<RespondMux>& responder() const { return mux_; }
    void close() { session_->close(); }

private:
    std::shared_ptr<mux::Session> session_;
    std::shared_ptr<RespondMux> mux_;
    Client client_;
};

}  // namespace qtalk::rpc
