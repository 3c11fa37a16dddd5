// libFuzzer target: both rpc codecs and both header decoders on arbitrary bytes. A CBOR value
// that decodes must survive encode -> decode -> encode unchanged (bytes, so NaN compares).
#include "qtalk/rpc/codec.hpp"

using namespace qtalk::rpc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    for (auto c : {Codec::json, Codec::cbor}) {
        (void)decode_call_header(c, in);
        (void)decode_response_header(c, in);
        auto v = decode(c, in);
        if (v && c == Codec::cbor) {
            auto bytes = encode(c, *v);
            auto again = decode(c, bytes);
            if (!again || encode(c, *again) != bytes) __builtin_trap();
        }
    }
    return 0;
}
