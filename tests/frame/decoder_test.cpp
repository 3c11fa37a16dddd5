// frame::decode and frame::message_size (PROTOCOL §2.2): the fields of every message type, incomplete
// input at every split point, the two fatal errors, zero-length DATA and back-to-back messages.
// Exact encoder bytes are in encoder_test.cpp, the reference captures in vectors_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "qtalk/frame/decoder.hpp"
#include "support/hex.hpp"

using namespace qtalk::frame;
using qtalk::test::hex;
using qtalk::test::to_hex;

namespace {

constexpr std::uint32_t ref_max = 1u << 24;  // Go/JS ref maximum packet (§2.9)

// The §2.11 worked example (JSON codec), one message of each type; OPEN_FAILURE is not in it.
struct Case {
    const char* wire;
    Type type;
    std::uint32_t channel;
};
const Case cases[] = {
    {"64 00000000 40000000 01000000", Type::open, 0},
    {"65 00000000 00000000 40000000 01000000", Type::open_confirm, 0},
    {"66 00000007", Type::open_failure, 7},
    {"67 00000000 00000015", Type::window_adjust, 0},
    {"68 00000000 00000019 00000015 7b2253656c6563746f72223a224572726f72227d0a", Type::data, 0},
    {"68 00000000 0000000b 00000007 2274657374220a", Type::data, 0},
    {"68 00000000 00000009 00000005 6e756c6c0a", Type::data, 0},
    {"69 00000000", Type::eof, 0},
    {"6a 00000000", Type::close, 0},
};

// Decodes a complete message or fails the test.
Decoded must_decode(std::span<const std::byte> in, std::uint32_t max = ref_max) {
    auto r = decode(in, max);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r || !*r) {
        ADD_FAILURE() << "incomplete: " << to_hex(in);
        return Decoded{Close{~0u}, 0};
    }
    return **r;
}

bool incomplete(std::span<const std::byte> in, std::uint32_t max = ref_max) {
    auto r = decode(in, max);
    return r.has_value() && !r->has_value();
}

}  // namespace

TEST(FrameDecoder, WorkedExampleMessagesDecodeToTheirFields) {
    auto open = must_decode(hex("64 00000000 40000000 01000000"));
    EXPECT_EQ(std::get<Open>(open.message), (Open{0, 0x40000000, 0x01000000}));
    auto confirm = must_decode(hex("65 00000001 00000002 40000000 01000000"));
    EXPECT_EQ(std::get<OpenConfirm>(confirm.message), (OpenConfirm{1, 2, 0x40000000, 0x01000000}));
    EXPECT_EQ(std::get<OpenFailure>(must_decode(hex("66 00000007")).message), OpenFailure{7});
    EXPECT_EQ(std::get<WindowAdjust>(must_decode(hex("67 00000000 00000015")).message), (WindowAdjust{0, 21}));
    EXPECT_EQ(std::get<Eof>(must_decode(hex("69 00000003")).message), Eof{3});
    EXPECT_EQ(std::get<Close>(must_decode(hex("6a 29b7f4aa")).message), Close{699921578});  // §2.1 example

    auto wire = hex("68 00000000 0000000b 00000007 2274657374220a");
    auto data = must_decode(wire);
    auto& d = std::get<Data>(data.message);
    EXPECT_EQ(d.recipient, 0u);
    EXPECT_EQ(to_hex(d.payload), "000000072274657374220a");  // rpc frame(7) "test"\n
    EXPECT_EQ(data.consumed, wire.size());
}

TEST(FrameDecoder, EveryStrictPrefixOfAMessageIsIncomplete) {
    for (const auto& c : cases) {
        auto wire = hex(c.wire);
        for (std::size_t cut = 0; cut < wire.size(); ++cut)
            EXPECT_TRUE(incomplete(std::span(wire).first(cut))) << c.wire << " cut at " << cut;
        auto whole = must_decode(wire);
        EXPECT_EQ(whole.consumed, wire.size()) << c.wire;
        EXPECT_EQ(type_of(whole.message), c.type) << c.wire;
        EXPECT_EQ(channel_of(whole.message), c.channel) << c.wire;
    }
}

TEST(FrameDecoder, MessageSizeIsKnownFromTheTypeByteOrTheDataHeader) {
    for (const auto& c : cases) {
        auto wire = hex(c.wire);
        // DATA needs its length field; every other type is sized by its first byte.
        std::size_t known_from = c.type == Type::data ? data_header_size : 1;
        for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
            auto size = message_size(std::span(wire).first(cut), ref_max);
            ASSERT_TRUE(size.has_value()) << c.wire;
            if (cut < known_from) EXPECT_FALSE(size->has_value()) << c.wire << " cut at " << cut;
            else EXPECT_EQ(size->value_or(0), wire.size()) << c.wire << " cut at " << cut;
        }
    }
}

TEST(FrameDecoder, DataSplitAcrossReadsWaitsForWholePayload) {
    const auto wire = hex("68 00000003 00000002 6869");  // DATA to channel 3: "hi"
    EXPECT_TRUE(incomplete(std::span(wire).first(10), 32768));
    auto whole = must_decode(wire, 32768);
    EXPECT_EQ(whole.consumed, wire.size());
    EXPECT_EQ(qtalk::test::string_of(std::get<Data>(whole.message).payload), "hi");
}

TEST(FrameDecoder, EveryTypeByteOutside100To106IsFatal) {
    for (int t = 0; t < 256; ++t) {
        std::vector<std::byte> one{std::byte(t)};
        auto r = decode(one, ref_max);
        auto size = message_size(one, ref_max);
        if (t >= 100 && t <= 106) {
            EXPECT_TRUE(r.has_value() && !r->has_value()) << t;  // a lone type byte is incomplete
            EXPECT_TRUE(size.has_value()) << t;
        } else {
            EXPECT_EQ(r.error(), Errc::unknown_type) << t;
            EXPECT_EQ(size.error(), Errc::unknown_type) << t;
        }
    }
}

TEST(FrameDecoder, UnknownTypeIsReportedOnlyWhenItReachesTheFront) {
    auto wire = hex("69 00000001 63 00000000");
    auto first = must_decode(wire);
    EXPECT_EQ(first.consumed, 5u);
    EXPECT_EQ(decode(std::span(wire).subspan(first.consumed), ref_max).error(), Errc::unknown_type);
}

TEST(FrameDecoder, OversizedDataFailsAsSoonAsItsHeaderIsVisible) {
    auto header = hex("68 00000003 00008001");  // 32769 > 32768, no payload sent yet
    EXPECT_TRUE(incomplete(std::span(header).first(8), 32768));  // length not yet readable
    EXPECT_EQ(decode(header, 32768).error(), Errc::payload_too_large);
    EXPECT_EQ(message_size(header, 32768).error(), Errc::payload_too_large);
    EXPECT_EQ(decode(hex("68 00000003 ffffffff"), ref_max).error(), Errc::payload_too_large);
    EXPECT_EQ(decode(hex("68 00000000 00000001 00"), 0).error(), Errc::payload_too_large);
}

TEST(FrameDecoder, DataOfExactlyMaxPayloadIsAccepted) {
    auto wire = hex("68 00000003 00000004 01020304");
    EXPECT_TRUE(incomplete(std::span(wire).first(9), 4));  // header alone: wait for the payload
    EXPECT_EQ(must_decode(wire, 4).consumed, wire.size());
}

TEST(FrameDecoder, MaxPayloadDoesNotLimitFixedSizeMessages) {
    auto adjust = must_decode(hex("67 00000000 ffffffff"), 0);
    EXPECT_EQ(std::get<WindowAdjust>(adjust.message).bytes, 0xffffffffu);
    auto open = must_decode(hex("64 00000000 40000000 80000000"), 16);  // validating maxpkt is mux's (§2.4)
    EXPECT_EQ(std::get<Open>(open.message).max_packet, 0x80000000u);
}

TEST(FrameDecoder, ZeroLengthDataDecodesWithAnEmptyPayload) {
    auto wire = hex("68 00000009 00000000 6a 00000009");  // legal, though neither ref sends one (§2.5)
    for (std::uint32_t max : {0u, 16u, ref_max}) {
        auto r = must_decode(wire, max);
        EXPECT_EQ(r.consumed, data_header_size);
        EXPECT_EQ(std::get<Data>(r.message).recipient, 9u);
        EXPECT_TRUE(std::get<Data>(r.message).payload.empty());
    }
}

TEST(FrameDecoder, DataPayloadIsAViewIntoTheInput) {
    auto wire = hex("68 00000003 00000002 6869 6a 00000003");
    auto r = must_decode(wire);
    auto& d = std::get<Data>(r.message);
    EXPECT_EQ(d.payload.data(), wire.data() + data_header_size);  // no copy
    EXPECT_EQ(d.payload.size(), 2u);
}

TEST(FrameDecoder, BackToBackMessagesAreConsumedOneAtATime) {
    // C→S of §2.11: OPEN, DATA 25, DATA 11, ADJUST +4, ADJUST +34, CLOSE; then half an EOF.
    auto wire = hex("64 00000000 40000000 01000000"
                    "68 00000000 00000019 00000015 7b2253656c6563746f72223a224572726f72227d0a"
                    "68 00000000 0000000b 00000007 2274657374220a"
                    "67 00000000 00000004 67 00000000 00000022"
                    "6a 00000000"
                    "69 0000");
    std::span<const std::byte> rest(wire);
    std::vector<std::size_t> consumed;
    std::vector<Type> types;
    for (;;) {
        auto r = decode(rest, ref_max);
        ASSERT_TRUE(r.has_value()) << r.error().message();
        if (!*r) break;
        consumed.push_back((*r)->consumed);
        types.push_back(type_of((*r)->message));
        rest = rest.subspan((*r)->consumed);
    }
    EXPECT_EQ(consumed, (std::vector<std::size_t>{13, 34, 20, 9, 9, 5}));
    EXPECT_EQ(types, (std::vector<Type>{Type::open, Type::data, Type::data, Type::window_adjust,
                                        Type::window_adjust, Type::close}));
    EXPECT_EQ(to_hex(rest), "690000");  // the partial EOF stays with the caller
}

TEST(FrameDecoder, ErrorsBelongToTheFrameCategory) {
    std::error_code unknown = Errc::unknown_type, too_large = Errc::payload_too_large;
    EXPECT_STREQ(unknown.category().name(), "qtalk.frame");
    EXPECT_EQ(unknown.message(), "unknown qmux message type");
    EXPECT_EQ(too_large.message(), "DATA payload exceeds maximum packet");
    EXPECT_NE(unknown, too_large);
}
