// libFuzzer target: the qmux frame decoder on arbitrary bytes. Every decoded message must
// re-encode to exactly the bytes it was decoded from.
#include <cstring>
#include <vector>

#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    while (!in.empty()) {
        auto r = qtalk::frame::decode(in, 1u << 20);
        if (!r || !*r) break;
        std::vector<std::byte> again;
        qtalk::frame::encode((*r)->message, again);
        if (again.size() != (*r)->consumed || std::memcmp(again.data(), in.data(), again.size()) != 0) __builtin_trap();
        in = in.subspan((*r)->consumed);
    }
    return 0;
}
