// Peer: a session that serves a RespondMux and calls the other side (PROTOCOL §4.8).
#include "qtalk/rpc/peer.hpp"

namespace qtalk::rpc {

Peer::Peer(std::shared_ptr<mux::Session> session, Codec codec, std::shared_ptr<RespondMux> mux, ServeOptions opts)
    : session_(std::move(session)), mux_(std::move(mux)), client_(session_, codec) {
    opts.codec = codec;
    if (!mux_) mux_ = std::make_shared<RespondMux>();  // unknown selectors get not-found replies
    auto m = mux_;
    serve(session_, [m](Responder& r, Call& c) -> Task<void> { return (*m)(r, c); }, opts);
}

Task<Result<Peer>> Peer::dial(std::string url, Codec codec, std::shared_ptr<RespondMux> mux, mux::Options mopts) {
    auto ex = co_await boost::asio::this_coro::executor;
    auto s = co_await transport::dial(ex, url);
    if (!s) co_return s.error();
    co_return Peer(mux::Session::start(std::move(*s), std::move(mopts)), codec, std::move(mux));
}

}  // namespace qtalk::rpc
