// Call and response headers (PROTOCOL §4.3): Go's exact bytes in both codecs, and tolerant
// decoding of what Go and JS peers send (key case, missing keys, undefined, b9 maps).
#include <gtest/gtest.h>

#include "qtalk/rpc/codec.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::test;
using rpc::Codec;
using rpc::ResponseHeader;

namespace {

std::string json_text(const std::vector<std::byte>& b) { return string_of(b); }

TEST(RpcHeader, CallHeaderMatchesGoBytes) {
    EXPECT_EQ(json_text(rpc::encode_call_header(Codec::json, "Unary")), "{\"Selector\":\"Unary\"}\n");
    EXPECT_EQ(to_hex(rpc::encode_call_header(Codec::cbor, "Unary")), to_hex(hex("a1 68 53656c6563746f72 65 556e617279")));
}

TEST(RpcHeader, CallHeaderEscapesAndLengthsLikeGo) {
    EXPECT_EQ(json_text(rpc::encode_call_header(Codec::json, "a<b>&\"c\"")),
              R"({"Selector":"a\u003cb\u003e\u0026\"c\""})" "\n");
    const std::string longsel(30, 's');
    EXPECT_EQ(to_hex(rpc::encode_call_header(Codec::cbor, longsel)),
              "a1" "68" "53656c6563746f72" "78" "1e" + to_hex(bytes_of(longsel)));
    EXPECT_EQ(to_hex(rpc::encode_call_header(Codec::cbor, "")), "a16853656c6563746f7260");
}

TEST(RpcHeader, ResponseHeaderMatchesGoBytes) {
    EXPECT_EQ(json_text(rpc::encode_response_header(Codec::json, {})), "{\"Error\":null,\"Continue\":false}\n");
    EXPECT_EQ(json_text(rpc::encode_response_header(Codec::json, {"test", false})),
              "{\"Error\":\"test\",\"Continue\":false}\n");
    EXPECT_EQ(json_text(rpc::encode_response_header(Codec::json, {std::nullopt, true})),
              "{\"Error\":null,\"Continue\":true}\n");
    EXPECT_EQ(rpc::encode_response_header(Codec::json, {}).size(), 32u);
    EXPECT_EQ(rpc::encode_response_header(Codec::json, {std::nullopt, true}).size(), 31u);

    EXPECT_EQ(to_hex(rpc::encode_response_header(Codec::cbor, {})), to_hex(hex("a2 65 4572726f72 f6 68 436f6e74696e7565 f4")));
    EXPECT_EQ(to_hex(rpc::encode_response_header(Codec::cbor, {std::nullopt, true})),
              to_hex(hex("a2 65 4572726f72 f6 68 436f6e74696e7565 f5")));
    EXPECT_EQ(to_hex(rpc::encode_response_header(Codec::cbor, {"test", false})),
              to_hex(hex("a2 65 4572726f72 64 74657374 68 436f6e74696e7565 f4")));
    EXPECT_EQ(rpc::encode_response_header(Codec::cbor, {}).size(), 18u);
}

TEST(RpcHeader, ErrorTextEscapedLikeGo) {
    EXPECT_EQ(json_text(rpc::encode_response_header(Codec::json, {"not found: /a<b>", false})),
              R"({"Error":"not found: /a\u003cb\u003e","Continue":false})" "\n");
}

TEST(RpcHeader, HeadersRoundTripInBothCodecs) {
    for (Codec c : {Codec::json, Codec::cbor}) {
        for (const std::string& sel : {std::string("Unary"), std::string(), std::string("/foo/bar"),
                                       std::string("a<&>\u2028é"), std::string(300, 'x')}) {
            auto back = rpc::decode_call_header(c, rpc::encode_call_header(c, sel));
            ASSERT_TRUE(back) << rpc::codec_name(c);
            EXPECT_EQ(*back, sel);
        }
        for (const ResponseHeader& h : {ResponseHeader{}, ResponseHeader{"boom", false}, ResponseHeader{"", false},
                                        ResponseHeader{std::nullopt, true}, ResponseHeader{"both", true}}) {
            auto back = rpc::decode_response_header(c, rpc::encode_response_header(c, h));
            ASSERT_TRUE(back) << rpc::codec_name(c);
            EXPECT_EQ(*back, h);
        }
    }
}

TEST(RpcHeader, CallHeaderKeysMatchCaseInsensitivelyExactFirst) {
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"selector":"x"})")), "x");
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"SELECTOR":"x","other":1})")), "x");
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"selector":"a","Selector":"b"})")), "b");
    EXPECT_EQ(*rpc::decode_call_header(Codec::cbor, hex("a1 68 73656c6563746f72 61 78")), "x");  // "selector"
}

TEST(RpcHeader, CallHeaderFromJsPeersDecodes) {
    EXPECT_EQ(*rpc::decode_call_header(Codec::cbor, hex("b9 0001 68 53656c6563746f72 65 556e617279")), "Unary");
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"Selector":"Unary"})")), "Unary");
    EXPECT_EQ(*rpc::decode_call_header(Codec::cbor, hex("bf 68 53656c6563746f72 7f 63 556e61 62 7279 ff ff")), "Unary");
}

TEST(RpcHeader, CallHeaderWithoutTextSelectorIsInvalid) {
    const char* json_cases[] = {R"({})", R"({"Selector":1})", R"({"Selector":null})", R"({"Selector":["a"]})",
                                R"(["Selector","x"])", R"("Unary")", R"({"Sel":"x"})", "null"};
    for (const char* s : json_cases) EXPECT_EQ(rpc::decode_call_header(Codec::json, bytes_of(s)).error(), rpc::Errc::invalid_header) << s;
    const char* cbor_cases[] = {"a0", "a1 68 53656c6563746f72 01", "a1 68 53656c6563746f72 f6",
                                "a1 68 53656c6563746f72 43 556e61", "82 01 02", "f6", "65 556e617279"};
    for (const char* h : cbor_cases) EXPECT_EQ(rpc::decode_call_header(Codec::cbor, hex(h)).error(), rpc::Errc::invalid_header) << h;
}

TEST(RpcHeader, UndecodableHeaderIsDecodeFailed) {
    EXPECT_EQ(rpc::decode_call_header(Codec::json, bytes_of("{\"Selector\":")).error(), rpc::Errc::decode_failed);
    EXPECT_EQ(rpc::decode_call_header(Codec::cbor, hex("a1 68 53656c")).error(), rpc::Errc::decode_failed);
    EXPECT_EQ(rpc::decode_response_header(Codec::json, {}).error(), rpc::Errc::decode_failed);
    EXPECT_EQ(rpc::decode_response_header(Codec::cbor, hex("a2 65")).error(), rpc::Errc::decode_failed);
    // The other codec's bytes: a JSON header read as CBOR, and the reverse.
    EXPECT_FALSE(rpc::decode_call_header(Codec::cbor, rpc::encode_call_header(Codec::json, "Unary")));
    EXPECT_FALSE(rpc::decode_call_header(Codec::json, rpc::encode_call_header(Codec::cbor, "Unary")));
}

TEST(RpcHeader, ResponseHeaderFromJsPeersDecodes) {
    auto plain = rpc::decode_response_header(Codec::json, bytes_of(R"({"Continue":false})"));
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, ResponseHeader{});
    auto cont = rpc::decode_response_header(Codec::json, bytes_of(R"({"Continue":true})"));
    ASSERT_TRUE(cont);
    EXPECT_EQ(*cont, (ResponseHeader{std::nullopt, true}));
    auto undef = rpc::decode_response_header(Codec::cbor, hex("b9 0002 65 4572726f72 f7 68 436f6e74696e7565 f5"));
    ASSERT_TRUE(undef);
    EXPECT_EQ(*undef, (ResponseHeader{std::nullopt, true}));
    auto err = rpc::decode_response_header(Codec::cbor, hex("b9 0002 65 4572726f72 64 74657374 68 436f6e74696e7565 f4"));
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, (ResponseHeader{"test", false}));
}

TEST(RpcHeader, ResponseHeaderToleratesMissingKeysCaseAndExtras) {
    EXPECT_EQ(*rpc::decode_response_header(Codec::json, bytes_of("{}")), ResponseHeader{});
    EXPECT_EQ(*rpc::decode_response_header(Codec::json, bytes_of(R"({"error":"e","continue":true,"x":[1]})")),
              (ResponseHeader{"e", true}));
    EXPECT_EQ(*rpc::decode_response_header(Codec::json, bytes_of(R"({"Error":"e"})")), (ResponseHeader{"e", false}));
    EXPECT_EQ(*rpc::decode_response_header(Codec::json, bytes_of(R"({"Error":null,"Continue":null})")), ResponseHeader{});
    EXPECT_EQ(*rpc::decode_response_header(Codec::json, bytes_of(" {\"Error\":null,\"Continue\":false}\n\n")),
              ResponseHeader{});
    EXPECT_EQ(*rpc::decode_response_header(Codec::cbor, hex("a1 68 436f6e74696e7565 f5")), (ResponseHeader{std::nullopt, true}));
    EXPECT_EQ(*rpc::decode_response_header(Codec::cbor, hex("a0")), ResponseHeader{});
}

TEST(RpcHeader, ResponseHeaderWithWrongTypesIsInvalid) {
    const char* json_cases[] = {R"({"Error":1})", R"({"Error":{}})", R"({"Error":false})", R"({"Continue":"yes"})",
                                R"({"Continue":1})", "[]", "null", "true", "\"Error\""};
    for (const char* s : json_cases)
        EXPECT_EQ(rpc::decode_response_header(Codec::json, bytes_of(s)).error(), rpc::Errc::invalid_header) << s;
    const char* cbor_cases[] = {"a1 65 4572726f72 01", "a1 65 4572726f72 43 616263", "a1 68 436f6e74696e7565 01",
                                "80", "f6", "f7"};
    for (const char* h : cbor_cases)
        EXPECT_EQ(rpc::decode_response_header(Codec::cbor, hex(h)).error(), rpc::Errc::invalid_header) << h;
}

TEST(RpcHeader, CodecNamesParseCaseInsensitively) {
    EXPECT_EQ(rpc::parse_codec("json"), Codec::json);
    EXPECT_EQ(rpc::parse_codec("CBOR"), Codec::cbor);
    EXPECT_EQ(rpc::parse_codec("Json"), Codec::json);
    EXPECT_EQ(rpc::parse_codec(""), std::nullopt);
    EXPECT_EQ(rpc::parse_codec("msgpack"), std::nullopt);
    EXPECT_EQ(rpc::parse_codec("json "), std::nullopt);
    EXPECT_STREQ(rpc::codec_name(Codec::json), "json");
    EXPECT_STREQ(rpc::codec_name(Codec::cbor), "cbor");
}

}  // namespace

// Headers in the exact form peers emit are read without decoding a value; every cut or
// extension of such a header must still be judged as the full decoder judges it.
TEST(RpcHeader, CanonicalCallHeadersCutOrExtendedAreJudgedAsByTheDecoder) {
    for (Codec c : {Codec::json, Codec::cbor}) {
        for (const std::string& sel : {std::string("Unary"), std::string(), std::string(23, 'x'), std::string(24, 'y'),
                                       std::string(255, 'z'), std::string("é\u2028"), std::string("a\"b\\c")}) {
            const auto full = rpc::encode_call_header(c, sel);
            EXPECT_EQ(*rpc::decode_call_header(c, full), sel) << rpc::codec_name(c) << " " << sel;
            for (std::size_t cut = 0; cut < full.size(); ++cut) {
                std::span<const std::byte> part(full.data(), cut);
                auto got = rpc::decode_call_header(c, part);
                if (c == Codec::json && cut == full.size() - 1) {  // only the trailing newline gone
                    EXPECT_EQ(*got, sel);
                    continue;
                }
                EXPECT_FALSE(got) << rpc::codec_name(c) << " cut at " << cut << " of " << full.size();
            }
            auto longer = full;
            longer.push_back(std::byte{'x'});
            EXPECT_FALSE(rpc::decode_call_header(c, longer)) << rpc::codec_name(c) << " " << sel;
        }
    }
    // Near the canonical form, but not it: the decoder's answers.
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"Selector":"a"}  )")), "a");
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"Selector":"a\u0041"})")), "aA");
    EXPECT_EQ(*rpc::decode_call_header(Codec::json, bytes_of(R"({"Selector":"a","Selector":"b"})")), "b");
    EXPECT_FALSE(rpc::decode_call_header(Codec::json, bytes_of("{\"Selector\":\"a\tb\"}")));  // raw control char
    EXPECT_EQ(*rpc::decode_call_header(Codec::cbor, hex("a1 68 53656c6563746f72 79 0001 61")), "a");  // longer head
    EXPECT_FALSE(rpc::decode_call_header(Codec::cbor, hex("a1 68 53656c6563746f72 62 c328")));       // bad UTF-8
    EXPECT_FALSE(rpc::decode_call_header(Codec::cbor, hex("a1 68 53656c6563746f72 42 6161")));       // bytes, not text
}
