// Reads a reference capture (tests/vectors: NAME-checker.bin, NAME-interop.bin, NAME.timeline)
// into per-channel histories, pairing channel ids on both sides in relay order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qtalk::test {

enum class Side { checker, interop };

// One checker action on a channel, with how many interop payload bytes on that channel the
// checker had received when it acted (its causal prerequisite).
struct Action {
    enum Kind { data, eof, close } kind;
    std::vector<std::byte> payload;
    std::size_t after_interop_bytes = 0;
};

struct CapturedChannel {
    Side opener;
    std::vector<Action> checker_actions;
    std::vector<std::byte> checker_payload;  // all DATA the checker sent on it
    std::vector<std::byte> interop_payload;  // all DATA the interop peer sent on it
    bool interop_eof = false;
};

struct Capture {
    std::vector<CapturedChannel> channels;  // in order of opening
};

// `name`: "json", "cbor" or "cbor-full".
Capture load_capture(const std::string& name);

}  // namespace qtalk::test
