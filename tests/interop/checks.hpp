// The checker's sequence of the conformance suite (PROTOCOL §4.10), stricter than upstream:
// values compared type-preservingly, stream order and byte contents checked.
#pragma once
#include <iosfwd>

#include "qtalk/rpc/peer.hpp"

namespace qtalk::interop {

struct CheckTotals {
    int passed = 0, failed = 0;
};

// Runs every check against the peer on `peer`'s session; one line per check on `out`.
// `prefix` (through a hub): call "<prefix>.Unary" etc. instead of "Unary".
rpc::Task<CheckTotals> run_checks(rpc::Peer& peer, std::ostream& out, std::string prefix = "");

}  // namespace qtalk::interop
