// Two rpc peers over a socketpair, each serving its own RespondMux.
#pragma once
#include "qtalk/rpc/peer.hpp"
#include "support/mux_pair.hpp"

namespace qtalk::test {

struct PeerPair {
    std::unique_ptr<rpc::Peer> a, b;
    void close() {
        a->close();
        b->close();
    }
};

inline PeerPair peer_pair(boost::asio::any_io_executor ex, rpc::Codec codec, std::shared_ptr<rpc::RespondMux> a_mux,
                          std::shared_ptr<rpc::RespondMux> b_mux, mux::Options ao = {}, mux::Options bo = {}) {
    auto [sa, sb] = session_pair(ex, ao, bo);
    return {std::make_unique<rpc::Peer>(sa, codec, std::move(a_mux)),
            std::make_unique<rpc::Peer>(sb, codec, std::move(b_mux))};
}

}  // namespace qtalk::test
