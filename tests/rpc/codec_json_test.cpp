// JSON value codec: Go encoding/json bytes (PROTOCOL §4.2), escaping, floats, base64, and
// decoding of every form the refs send plus malformed input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "qtalk/rpc/codec.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::test;
using nlohmann::json;

namespace {

std::string enc(const json& v) { return string_of(rpc::encode(rpc::Codec::json, v)); }
Result<json> dec(std::string_view s) { return rpc::decode(rpc::Codec::json, bytes_of(s)); }

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(RpcCodecJson, ConformanceValuesEncodeByteExact) {
    EXPECT_EQ(to_hex(rpc::encode(rpc::Codec::json, 100)), "3130300a");
    EXPECT_EQ(enc(true), "true\n");
    EXPECT_EQ(enc("hello"), "\"hello\"\n");
    EXPECT_EQ(enc(json{{"foo", "bar"}}), "{\"foo\":\"bar\"}\n");
    EXPECT_EQ(enc(json::array({1, 2, 3})), "[1,2,3]\n");
    EXPECT_EQ(enc(nullptr), "null\n");
}

TEST(RpcCodecJson, ConformanceValuesDecodeWithAndWithoutNewline) {
    for (std::string_view s : {"100", "true", "\"hello\"", "{\"foo\":\"bar\"}", "[1,2,3]", "null"}) {
        auto a = dec(s);
        auto b = dec(std::string(s) + "\n");
        ASSERT_TRUE(a && b) << s;
        EXPECT_EQ(*a, *b);
        EXPECT_EQ(enc(*a), std::string(s) + "\n");
    }
    EXPECT_EQ(*dec(" \t\r\n 100 \n\n"), json(100));
}

TEST(RpcCodecJson, EdgeValuesRoundTrip) {
    std::string deep = "x";
    json nest = deep;
    for (int i = 0; i < 100; ++i) nest = json{{"k", json::array({nest, i})}};
    const json values[] = {
        "", json::array(), json::object(), nullptr, false, 0, -1, -123456789,
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::uint64_t>::max(), 1.5, 0.1, -2.25, 1e300,
        json{{"a", json::array({1, "b", nullptr, json::object(), json::array()})}, {"z", {{"y", true}}}},
        "quote\" backslash\\ tab\t nl\n ctl\x01 del\x7f é 漢 😀", nest,
    };
    for (const auto& v : values) {
        auto back = dec(enc(v));
        ASSERT_TRUE(back) << v.dump();
        EXPECT_EQ(*back, v) << v.dump();
        EXPECT_EQ(back->type(), v.is_number_integer() && v.get<std::int64_t>() >= 0 ? json::value_t::number_unsigned
                                                                                     : v.type());
    }
}

TEST(RpcCodecJson, IntegerExtremesAreExact) {
    EXPECT_EQ(enc(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808\n");
    EXPECT_EQ(enc(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615\n");
    EXPECT_EQ(dec("18446744073709551615")->get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(dec("-9223372036854775808")->get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
}

TEST(RpcCodecJson, FloatsFormattedLikeGo) {
    EXPECT_EQ(enc(1.5), "1.5\n");
    EXPECT_EQ(enc(0.1), "0.1\n");
    EXPECT_EQ(enc(100.0), "100\n");  // Go re-encodes decoded numbers without ".0"
    EXPECT_EQ(enc(-0.0), "-0\n");
    EXPECT_EQ(enc(1e20), "100000000000000000000\n");
    EXPECT_EQ(enc(1e21), "1e+21\n");
    EXPECT_EQ(enc(0.000001), "0.000001\n");
    EXPECT_EQ(enc(1.5e-7), "1.5e-7\n");
    EXPECT_EQ(enc(1e-100), "1e-100\n");
    EXPECT_EQ(enc(std::nan("")), "null\n");
    EXPECT_EQ(enc(-std::numeric_limits<double>::infinity()), "null\n");
}

TEST(RpcCodecJson, HtmlCharactersEscapedLikeGo) {
    EXPECT_EQ(enc("<a href=\"x\">&amp;</a>"),
              R"("\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e")" "\n");
    EXPECT_EQ(enc(json{{"<k>", "&"}}), R"({"\u003ck\u003e":"\u0026"})" "\n");
    EXPECT_EQ(*dec(enc("<>&")), json("<>&"));
}

TEST(RpcCodecJson, LineAndParagraphSeparatorsEscaped) {
    EXPECT_EQ(enc("a\u2028b\u2029c\u2027"), "\"a\\u2028b\\u2029c\u2027\"\n");
    EXPECT_EQ(*dec(enc("\u2028\u2029")), json("\u2028\u2029"));
}

TEST(RpcCodecJson, ControlCharactersEscaped) {
    EXPECT_EQ(enc(std::string("\b\f\n\r\t\x01\x1f\0", 8)), R"("\b\f\n\r\t\u0001\u001f\u0000")" "\n");
}

TEST(RpcCodecJson, InvalidUtf8BecomesReplacementEscapePerByte) {
    EXPECT_EQ(enc("a\xff" "b"), R"("a\ufffdb")" "\n");
    EXPECT_EQ(enc("\xe2\x82"), R"("\ufffd\ufffd")" "\n");  // truncated sequence, as Go: one per byte
    EXPECT_EQ(enc("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")" "\n");  // surrogate
    EXPECT_EQ(enc("\xc0\xaf"), R"("\ufffd\ufffd")" "\n");  // overlong
    EXPECT_EQ(*dec(enc("x\xff")), json("x\xef\xbf\xbd"));
}

TEST(RpcCodecJson, BinaryEncodesAsPaddedStandardBase64) {
    auto bin = [](std::string_view s) { return json::binary(std::vector<std::uint8_t>(s.begin(), s.end())); };
    EXPECT_EQ(enc(bin("")), "\"\"\n");
    EXPECT_EQ(enc(bin("f")), "\"Zg==\"\n");
    EXPECT_EQ(enc(bin("fo")), "\"Zm8=\"\n");
    EXPECT_EQ(enc(bin("foo")), "\"Zm9v\"\n");
    EXPECT_EQ(enc(bin("foobar")), "\"Zm9vYmFy\"\n");
    EXPECT_EQ(enc(bin("\xfb\xff\xbf")), "\"+/+/\"\n");
    EXPECT_EQ(enc(json{{"b", bin(std::string_view("\x00\x01", 2))}}), "{\"b\":\"AAE=\"}\n");
}

TEST(RpcCodecJson, ObjectKeysInGoMapOrder) {
    EXPECT_EQ(enc(json{{"b", 1}, {"a", 2}, {"B", 3}, {"é", 4}}), "{\"B\":3,\"a\":2,\"b\":1,\"é\":4}\n");
}

TEST(RpcCodecJson, MegabyteStringRoundTrips) {
    std::string big(1 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
    auto bytes = rpc::encode(rpc::Codec::json, big);
    EXPECT_EQ(bytes.size(), big.size() + 3);
    auto back = rpc::decode(rpc::Codec::json, bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->get_ref<const std::string&>(), big);
}

TEST(RpcCodecJson, NestingUpToLimitDecodes) {
    EXPECT_TRUE(dec(nested(256)));
    EXPECT_EQ(dec(nested(257)).error(), rpc::Errc::decode_failed);
    std::string in_string = "[\"";
    in_string.append(1000, '[').append("\"]");
    EXPECT_TRUE(dec(in_string));  // brackets inside strings do not count
}

TEST(RpcCodecJson, MalformedInputIsDecodeFailed) {
    const std::string cases[] = {
        "", " ", "\n", "{", "[1,", "nul", "1 2", "{\"a\":}", "{'a':1}", "[1,]", "01", "\"abc",
        "\"\\x\"", "\"\xff\"", "\"\\ud800\"", "{\"a\" 1}", std::string(1, '\0'), "1e400", nested(100000),
        std::string(100000, '['), std::string(100000, '{'),
    };
    for (const auto& s : cases) {
        auto r = dec(s);
        ASSERT_FALSE(r) << s.substr(0, 20);
        EXPECT_EQ(r.error(), rpc::Errc::decode_failed);
    }
}

}  // namespace
