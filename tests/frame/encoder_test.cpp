// frame::encode_header and frame::encode (PROTOCOL §2.1, §2.2): the exact bytes of every message
// type as captured from the Go ref (§2.11), header-only DATA encoding, and encode -> decode round
// trips. Also the Message accessors (type_of, channel_of, type_name).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"
#include "support/hex.hpp"

using namespace qtalk::frame;
using qtalk::test::hex;
using qtalk::test::to_hex;

namespace {

std::string encoded(const Message& m) {
    std::vector<std::byte> out;
    encode(m, out);
    return to_hex(out);
}

const auto header_frame = hex("00000015 7b2253656c6563746f72223a224572726f72227d0a");  // {"Selector":"Error"}\n
const auto args_frame = hex("00000007 2274657374220a");                             // "test"\n
const auto null_frame = hex("00000005 6e756c6c0a");                                 // null\n

struct Case {
    Message message;
    const char* wire;
    std::size_t header;  // what encode_header() returns
};
std::vector<Case> worked_example() {
    return {
        {Open{0, 0x40000000, 0x01000000}, "64 00000000 40000000 01000000", 13},
        {OpenConfirm{0, 0, 0x40000000, 0x01000000}, "65 00000000 00000000 40000000 01000000", 17},
        {Data{0, header_frame}, "68 00000000 00000019 00000015 7b2253656c6563746f72223a224572726f72227d0a", 9},
        {Data{0, args_frame}, "68 00000000 0000000b 00000007 2274657374220a", 9},
        {WindowAdjust{0, 4}, "67 00000000 00000004", 9},
        {WindowAdjust{0, 21}, "67 00000000 00000015", 9},
        {Data{0, null_frame}, "68 00000000 00000009 00000005 6e756c6c0a", 9},
        {Close{0}, "6a 00000000", 5},
        {Eof{0}, "69 00000000", 5},
        {OpenFailure{0}, "66 00000000", 5},  // not in §2.11: type + recipient only (§2.2)
    };
}

}  // namespace

TEST(FrameEncoder, WorkedExampleBytesAreReproducedExactly) {
    for (const auto& c : worked_example())
        EXPECT_EQ(encoded(c.message), to_hex(hex(c.wire))) << type_name(type_of(c.message));
}

TEST(FrameEncoder, EncodeHeaderWritesOnlyTheFixedPart) {
    for (const auto& c : worked_example()) {
        std::array<std::byte, max_header_size> out{};
        auto n = encode_header(c.message, out);
        EXPECT_EQ(n, c.header) << type_name(type_of(c.message));
        auto wire = hex(c.wire);
        EXPECT_EQ(to_hex(std::span(out).first(n)), to_hex(std::span(wire).first(n)));
        for (std::size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0}) << "wrote past the header";
    }
}

TEST(FrameEncoder, FieldsAreBigEndianUint32) {
    EXPECT_EQ(encoded(OpenConfirm{699921578, 0xffffffff, 1, 0x80000000}),
              "6529b7f4aaffffffff0000000180000000");  // 699921578 = 29 b7 f4 aa (§2.1)
    EXPECT_EQ(encoded(WindowAdjust{0x01020304, 0xa0b0c0d0}), "6701020304a0b0c0d0");
    EXPECT_EQ(encoded(Open{0xfffffffe, 0, 9}), "64fffffffe0000000000000009");
}

TEST(FrameEncoder, DataLengthFieldIsThePayloadSize) {
    std::vector<std::byte> big(70000, std::byte{0x5a});
    std::vector<std::byte> out;
    encode(Data{3, big}, out);
    ASSERT_EQ(out.size(), data_header_size + big.size());
    EXPECT_EQ(to_hex(std::span(out).first(data_header_size)), "680000000300011170");
    EXPECT_TRUE(std::equal(big.begin(), big.end(), out.begin() + data_header_size));
}

TEST(FrameEncoder, ZeroLengthDataIsJustTheHeader) {
    EXPECT_EQ(encoded(Data{5, {}}), "680000000500000000");
}

TEST(FrameEncoder, EncodeAppendsAfterExistingBytes) {
    std::vector<std::byte> out = hex("ff");
    encode(Eof{1}, out);
    encode(Data{2, args_frame}, out);
    encode(Close{1}, out);
    EXPECT_EQ(to_hex(out), "ff" "6900000001" "68000000020000000b000000072274657374220a" "6a00000001");
}

TEST(FrameEncoder, EveryMessageRoundTripsThroughTheDecoder) {
    auto cases = worked_example();
    cases.push_back({Open{0xffffffff, 0xffffffff, 0xffffffff}, "", 13});
    cases.push_back({OpenConfirm{1, 2, 3, 4}, "", 17});
    cases.push_back({Data{0x7fffffff, {}}, "", 9});
    for (const auto& c : cases) {
        std::vector<std::byte> wire;
        encode(c.message, wire);
        auto r = decode(wire, 1u << 24);
        ASSERT_TRUE(r && *r) << type_name(type_of(c.message));
        EXPECT_EQ((*r)->consumed, wire.size());
        EXPECT_EQ(type_of((*r)->message), type_of(c.message));
        EXPECT_EQ(channel_of((*r)->message), channel_of(c.message));
        EXPECT_EQ(encoded((*r)->message), to_hex(wire));  // Data has no operator==; compare by bytes
    }
}

TEST(FrameEncoder, AccessorsDescribeEveryMessageType) {
    struct Expect {
        Message m;
        Type type;
        const char* name;
        std::uint32_t channel;
    };
    const Expect all[] = {
        {Open{11, 1, 2}, Type::open, "OPEN", 11},  // OPEN names its sender id
        {OpenConfirm{12, 99, 1, 2}, Type::open_confirm, "OPEN_CONFIRM", 12},
        {OpenFailure{13}, Type::open_failure, "OPEN_FAILURE", 13},
        {WindowAdjust{14, 99}, Type::window_adjust, "WINDOW_ADJUST", 14},
        {Data{15, {}}, Type::data, "DATA", 15},
        {Eof{16}, Type::eof, "EOF", 16},
        {Close{17}, Type::close, "CLOSE", 17},
    };
    for (const auto& e : all) {
        EXPECT_EQ(type_of(e.m), e.type);
        EXPECT_STREQ(type_name(type_of(e.m)), e.name);
        EXPECT_EQ(channel_of(e.m), e.channel) << e.name;
        EXPECT_EQ(encoded(e.m).substr(0, 2), to_hex(std::vector{std::byte(static_cast<std::uint8_t>(e.type))}));
    }
    EXPECT_STREQ(type_name(static_cast<Type>(99)), "UNKNOWN");
}
