// QTALK_CODEC=json|cbor (default cbor, as the reference interop/check programs, PROTOCOL §4.9).
#pragma once
#include <cstdlib>
#include <stdexcept>

#include "qtalk/rpc/codec.hpp"

namespace qtalk::interop {

inline rpc::Codec codec_from_env() {
    const char* v = std::getenv("QTALK_CODEC");
    if (!v || !*v) return rpc::Codec::cbor;
    auto c = rpc::parse_codec(v);
    if (!c) throw std::invalid_argument(std::string("QTALK_CODEC must be json or cbor, got ") + v);
    return *c;
}

}  // namespace qtalk::interop
