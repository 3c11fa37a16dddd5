// CBOR value codec: fxamacker-default bytes (PROTOCOL §4.2), decoding of the JS ref's forms
// (b9 maps, f7, tag 64, indefinite lengths, short floats) and rejection of malformed input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "qtalk/rpc/codec.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::test;
using nlohmann::json;

namespace {

std::string enc(const json& v) { return to_hex(rpc::encode(rpc::Codec::cbor, v)); }
Result<json> dec(std::span<const std::byte> b) { return rpc::decode(rpc::Codec::cbor, b); }
Result<json> dec(std::string_view hex_text) { return dec(hex(hex_text)); }

json bin(std::vector<std::uint8_t> b) { return json::binary(std::move(b)); }

TEST(RpcCodecCbor, ConformanceValuesEncodeByteExact) {
    EXPECT_EQ(enc(100), "1864");
    EXPECT_EQ(enc(true), "f5");
    EXPECT_EQ(enc("hello"), "6568656c6c6f");
    EXPECT_EQ(enc(json{{"foo", "bar"}}), "a163666f6f63626172");
    EXPECT_EQ(enc(json::array({1, 2, 3})), "83010203");
    EXPECT_EQ(enc(nullptr), "f6");
}

TEST(RpcCodecCbor, ConformanceValuesDecode) {
    EXPECT_EQ(*dec("18 64"), json(100));
    EXPECT_EQ(*dec("f5"), json(true));
    EXPECT_EQ(*dec("65 68656c6c6f"), json("hello"));
    EXPECT_EQ(*dec("a1 63 666f6f 63 626172"), json({{"foo", "bar"}}));
    EXPECT_EQ(*dec("83 01 02 03"), json::array({1, 2, 3}));
    EXPECT_EQ(*dec("f6"), json(nullptr));
}

TEST(RpcCodecCbor, IntegerHeadsAreShortest) {
    EXPECT_EQ(enc(0), "00");
    EXPECT_EQ(enc(23), "17");
    EXPECT_EQ(enc(24), "1818");
    EXPECT_EQ(enc(255), "18ff");
    EXPECT_EQ(enc(256), "190100");
    EXPECT_EQ(enc(65535), "19ffff");
    EXPECT_EQ(enc(65536), "1a00010000");
    EXPECT_EQ(enc(4294967295u), "1affffffff");
    EXPECT_EQ(enc(4294967296), "1b0000000100000000");
    EXPECT_EQ(enc(std::numeric_limits<std::uint64_t>::max()), "1bffffffffffffffff");
    EXPECT_EQ(enc(-1), "20");
    EXPECT_EQ(enc(-24), "37");
    EXPECT_EQ(enc(-25), "3818");
    EXPECT_EQ(enc(-500), "3901f3");
    EXPECT_EQ(enc(std::numeric_limits<std::int64_t>::min()), "3b7fffffffffffffff");
}

TEST(RpcCodecCbor, FloatsAlwaysEightBytes) {
    EXPECT_EQ(enc(1.5), "fb3ff8000000000000");
    EXPECT_EQ(enc(0.1), "fb3fb999999999999a");
    EXPECT_EQ(enc(100.0), "fb4059000000000000");
    EXPECT_EQ(enc(-0.0), "fb8000000000000000");
}

TEST(RpcCodecCbor, NanAndInfinityAsHalfFloatsLikeFxamacker) {
    EXPECT_EQ(enc(std::nan("")), "f97e00");
    EXPECT_EQ(enc(std::numeric_limits<double>::infinity()), "f97c00");
    EXPECT_EQ(enc(-std::numeric_limits<double>::infinity()), "f9fc00");
}

TEST(RpcCodecCbor, StringsAndCollectionsUseLengthHeads) {
    EXPECT_EQ(enc(""), "60");
    EXPECT_EQ(enc(std::string(24, 'a')).substr(0, 4), "7818");
    EXPECT_EQ(enc(std::string(1 << 20, 'a')).substr(0, 10), "7a00100000");
    EXPECT_EQ(enc(json::array()), "80");
    EXPECT_EQ(enc(json::object()), "a0");
    EXPECT_EQ(enc(json(std::vector<int>(24, 0))).substr(0, 4), "9818");
    EXPECT_EQ(enc(bin({})), "40");
    EXPECT_EQ(enc(bin({1, 2, 3})), "43010203");
    EXPECT_EQ(enc(json{{"b", 1}, {"a", 2}}), "a2616102616201");  // nlohmann's sorted order
}

TEST(RpcCodecCbor, EdgeValuesRoundTrip) {
    json nest = "leaf";
    for (int i = 0; i < 100; ++i) nest = json{{"k", json::array({nest, -i, bin({std::uint8_t(i)})})}};
    std::vector<std::uint8_t> mib(1 << 20);
    for (std::size_t i = 0; i < mib.size(); ++i) mib[i] = static_cast<std::uint8_t>(i * 7);
    const json values[] = {
        "", json::array(), json::object(), nullptr, true, false, 0, -1, -123456789,
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::uint64_t>::max(), 1.5, 0.1, -2.25, 1e300, 5e-324,
        bin({}), bin({0, 255, 1}), bin(mib), std::string(1 << 20, 'q'), "é 漢 😀 \u2028 <&>",
        json{{"a", json::array({1, "b", nullptr, json::object(), json::array()})}, {"z", {{"y", true}}}}, nest,
    };
    for (const auto& v : values) {
        auto bytes = rpc::encode(rpc::Codec::cbor, v);
        auto back = dec(bytes);
        ASSERT_TRUE(back) << v.dump().substr(0, 80);
        EXPECT_EQ(*back, v) << v.dump().substr(0, 80);
        EXPECT_EQ(rpc::encode(rpc::Codec::cbor, *back), bytes);  // type-preserving: ints stay ints
    }
}

TEST(RpcCodecCbor, NegativeIntegerLimits) {
    EXPECT_EQ(dec("3b 7fffffffffffffff")->get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(dec("3b 8000000000000000").error(), rpc::Errc::decode_failed);
    EXPECT_EQ(dec("3b ffffffffffffffff").error(), rpc::Errc::decode_failed);
}

TEST(RpcCodecCbor, DecodesJsRefMapsWithSixteenBitHeads) {
    auto v = dec("b9 0002 68 53656c6563746f72 65 556e617279 61 78 b9 0000");
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, json({{"Selector", "Unary"}, {"x", json::object()}}));
}

TEST(RpcCodecCbor, DecodesNonPreferredHeads) {
    EXPECT_EQ(*dec("1b 0000000000000064"), json(100));
    EXPECT_EQ(*dec("19 0001"), json(1));
    EXPECT_EQ(*dec("39 0000"), json(-1));
    EXPECT_EQ(*dec("7a 00000002 6869"), json("hi"));
    EXPECT_EQ(*dec("98 02 01 02"), json::array({1, 2}));
    EXPECT_EQ(*dec("59 0001 ff"), bin({255}));
}

TEST(RpcCodecCbor, UndefinedDecodesAsNull) {
    EXPECT_EQ(*dec("f7"), json(nullptr));
    EXPECT_EQ(*dec("b9 0002 65 4572726f72 f7 68 436f6e74696e7565 f4"), json({{"Error", nullptr}, {"Continue", false}}));
    EXPECT_EQ(*dec("82 f7 f6"), json::array({nullptr, nullptr}));
}

TEST(RpcCodecCbor, TagsAreSkipped) {
    EXPECT_EQ(*dec("d8 40 43 010203"), bin({1, 2, 3}));  // JS Uint8Array
    EXPECT_EQ(*dec("d8 40 40"), bin({}));
    EXPECT_EQ(*dec("c1 1a 514b67b0"), json(1363896240));
    EXPECT_EQ(*dec("d9 d9f7 a1 61 61 01"), json({{"a", 1}}));  // self-described CBOR
    EXPECT_EQ(*dec("db 0000000000000001 c2 41 01"), bin({1}));
    EXPECT_EQ(*dec("81 d8 40 42 0102"), json::array({bin({1, 2})}));
}

TEST(RpcCodecCbor, DecodesIndefiniteLengths) {
    EXPECT_EQ(*dec("5f 41 01 42 0203 40 ff"), bin({1, 2, 3}));
    EXPECT_EQ(*dec("5f ff"), bin({}));
    EXPECT_EQ(*dec("7f 62 6865 63 6c6c6f ff"), json("hello"));
    EXPECT_EQ(*dec("9f 01 9f ff 82 02 03 ff"), json::array({1, json::array(), json::array({2, 3})}));
    EXPECT_EQ(*dec("bf 61 61 01 61 62 9f f5 ff ff"), json({{"a", 1}, {"b", json::array({true})}}));
    EXPECT_EQ(*dec("bf ff"), json::object());
}

TEST(RpcCodecCbor, DecodesShortFloats) {
    EXPECT_EQ(*dec("f9 3e00"), json(1.5));
    EXPECT_EQ(*dec("f9 c400"), json(-4.0));
    EXPECT_EQ(*dec("f9 0001"), json(std::ldexp(1.0, -24)));  // subnormal
    EXPECT_EQ(*dec("f9 7bff"), json(65504.0));
    EXPECT_EQ(dec("f9 7c00")->get<double>(), std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(dec("f9 7e00")->get<double>()));
    EXPECT_EQ(*dec("fa 3fc00000"), json(1.5));
    EXPECT_EQ(*dec("fa 47c35000"), json(100000.0));
    EXPECT_EQ(*dec("fb 3fb999999999999a"), json(0.1));
    EXPECT_TRUE(dec("f9 3e00")->is_number_float());
}

TEST(RpcCodecCbor, SimpleValuesDecodeAsNull) {
    EXPECT_EQ(*dec("e0"), json(nullptr));
    EXPECT_EQ(*dec("f3"), json(nullptr));
    EXPECT_EQ(*dec("f8 20"), json(nullptr));
}

TEST(RpcCodecCbor, IntegerMapKeysBecomeDecimalText) {
    EXPECT_EQ(*dec("a3 01 61 61 20 61 62 1b ffffffffffffffff f6"),
              json({{"1", "a"}, {"-1", "b"}, {"18446744073709551615", nullptr}}));
}

TEST(RpcCodecCbor, RepeatedMapKeyKeepsLastValue) {
    EXPECT_EQ(*dec("a2 61 61 01 61 61 02"), json({{"a", 2}}));
}

TEST(RpcCodecCbor, NestingUpToLimitDecodes) {
    auto nested = [](std::size_t depth) {
        std::vector<std::byte> b(depth, std::byte{0x81});
        b.push_back(std::byte{0x01});
        return b;
    };
    EXPECT_TRUE(dec(nested(256)));
    EXPECT_EQ(dec(nested(257)).error(), rpc::Errc::decode_failed);
}

TEST(RpcCodecCbor, DepthBombsRejected) {
    for (std::byte b : {std::byte{0x81}, std::byte{0x9f}, std::byte{0xc1}, std::byte{0xa1}}) {
        std::vector<std::byte> bomb(100000, b);
        EXPECT_EQ(dec(bomb).error(), rpc::Errc::decode_failed);
    }
    std::vector<std::byte> maps;  // {"": {"": ...}}
    for (int i = 0; i < 50000; ++i) maps.insert(maps.end(), {std::byte{0xa1}, std::byte{0x60}});
    maps.push_back(std::byte{0xf6});
    EXPECT_EQ(dec(maps).error(), rpc::Errc::decode_failed);
}

TEST(RpcCodecCbor, MalformedInputIsDecodeFailed) {
    const char* cases[] = {
        "",                      // nothing
        "18", "19 01", "1a 000000", "1b 00000000000000",  // truncated heads
        "62 61", "42 01", "83 01 02", "a1 61 61", "a2 61 61 01",  // truncated payloads
        "5b ffffffffffffffff", "7b ffffffffffffffff",  // huge declared lengths
        "9b ffffffffffffffff", "bb ffffffffffffffff", "5a ffffffff 00", "9a 7fffffff 00",
        "bb 8000000000000000 00",
        "1c", "1d", "1e", "3c", "5c", "7c", "9c", "bc", "dc", "fc", "fd", "fe",  // reserved
        "1f", "3f", "df 01",     // indefinite where not allowed
        "ff", "81 ff", "a1 ff", "a1 61 61 ff",  // stray break
        "5f 01 ff", "5f 61 61 ff", "5f 5f ff ff", "7f 41 61 ff", "7f 7f ff ff",  // bad chunks
        "5f 41", "7f", "9f 01", "bf 61 61", "bf 61 61 01",  // unterminated
        "f8", "f9 00", "fa 0000", "fb 00000000",  // truncated simple/float
        "d8", "d8 40", "c1",     // tag without content
        "62 c328", "63 eda080", "61 ff", "7f 61 c3 61 28 ff",  // invalid UTF-8 text
        "a1 f5 01", "a1 80 01", "a1 a0 01", "a1 fb 3ff8000000000000 01", "a1 40 01",  // non-text keys
        "a1 f6 01", "a1 3b 8000000000000000 01",
        "f6 f6", "01 00", "83 01 02 03 04", "a0 ff",  // trailing bytes
    };
    for (const char* c : cases) {
        auto r = dec(std::string_view(c));
        ASSERT_FALSE(r) << c;
        EXPECT_EQ(r.error(), rpc::Errc::decode_failed) << c;
    }
}

TEST(RpcCodecCbor, EveryTruncationOfAValidValueFails) {
    auto bytes = rpc::encode(rpc::Codec::cbor, json{{"a", json::array({1, -300, 1.5, "xyz", bin({1, 2}), nullptr})},
                                                    {"b", {{"c", std::numeric_limits<std::uint64_t>::max()}}}});
    ASSERT_TRUE(dec(bytes));
    for (std::size_t n = 0; n < bytes.size(); ++n)
        EXPECT_FALSE(dec(std::span(bytes).first(n))) << n;
}

TEST(RpcCodecCbor, RandomBytesNeverCrash) {
    std::mt19937 rng(12345);
    // Bias towards heads and small counts so the decoder reaches deep paths, not just errors.
    const std::uint8_t alphabet[] = {0x00, 0x01, 0x18, 0x19, 0x1b, 0x20, 0x41, 0x5f, 0x61, 0x7f, 0x81, 0x82,
                                     0x9f, 0xa1, 0xa2, 0xbf, 0xb9, 0xd8, 0x40, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa,
                                     0xfb, 0xff, 0x7a, 0x9b, 0x3b, 0x80, 0xc3, 0xe0};
    std::size_t decoded = 0;
    for (int round = 0; round < 20000; ++round) {
        std::vector<std::byte> b(rng() % 48);
        for (auto& x : b)
            x = std::byte(rng() % 4 == 0 ? static_cast<std::uint8_t>(rng()) : alphabet[rng() % sizeof alphabet]);
        auto r = dec(b);
        if (r) {
            ++decoded;
            EXPECT_TRUE(dec(rpc::encode(rpc::Codec::cbor, *r)));  // whatever decodes re-encodes
        } else {
            EXPECT_EQ(r.error(), rpc::Errc::decode_failed);
        }
    }
    EXPECT_GT(decoded, 0u);
}

}  // namespace
