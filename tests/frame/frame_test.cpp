// frame layer: exact bytes of every message (PROTOCOL §2.2, §2.11), incremental decoding at
// every split point, limits, and the reference captures decoded and re-encoded byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"
#include "support/hex.hpp"

using namespace qtalk;
using namespace qtalk::frame;
using qtalk::test::hex;
using qtalk::test::to_hex;

namespace {
std::vector<std::byte> enc(const Message& m) {
    std::vector<std::byte> out;
    encode(m, out);
    return out;
}
const std::vector<std::byte> payload = hex("00000015 7b2253656c6563746f72223a224572726f72227d0a");

struct Case {
    Message msg;
    const char* wire;
};
std::vector<Case> cases() {
    return {
        {Open{0, 0x40000000, 0x01000000}, "64 00000000 40000000 01000000"},
        {OpenConfirm{0, 0, 0x40000000, 0x01000000}, "65 00000000 00000000 40000000 01000000"},
        {OpenFailure{7}, "66 00000007"},
        {WindowAdjust{0, 21}, "67 00000000 00000015"},
        {Data{0, payload}, "68 00000000 00000019 00000015 7b2253656c6563746f72223a224572726f72227d0a"},
        {Eof{0}, "69 00000000"},
        {Close{0x29b7f4aa}, "6a 29b7f4aa"},
    };
}
bool same(const Message& a, const Message& b) {
    if (a.index() != b.index()) return false;
    if (auto* da = std::get_if<Data>(&a)) {
        auto& db = std::get<Data>(b);
        return da->recipient == db.recipient && std::equal(da->payload.begin(), da->payload.end(), db.payload.begin(),
                                                           db.payload.end());
    }
    return enc(a) == enc(b);
}
}  // namespace

TEST(FrameEncoder, EveryMessageTypeHasTheReferenceBytes) {
    for (auto& c : cases()) EXPECT_EQ(to_hex(enc(c.msg)), to_hex(hex(c.wire))) << type_name(type_of(c.msg));
}

TEST(FrameDecoder, EveryMessageTypeRoundTripsAtEverySplitPoint) {
    for (auto& c : cases()) {
        auto wire = hex(c.wire);
        for (std::size_t cut = 0; cut < wire.size(); ++cut) {
            auto r = decode(std::span(wire).first(cut), 1u << 24);
            ASSERT_TRUE(r.has_value());
            EXPECT_FALSE(r->has_value()) << type_name(type_of(c.msg)) << " complete at " << cut << " bytes";
        }
        auto r = decode(wire, 1u << 24);
        ASSERT_TRUE(r.has_value() && r->has_value());
        EXPECT_EQ((*r)->consumed, wire.size());
        EXPECT_TRUE(same((*r)->message, c.msg)) << type_name(type_of(c.msg));
    }
}

TEST(FrameDecoder, ConsumesOneMessageAtATime) {
    auto wire = hex("69 00000001 6a 00000002 67 00000003 00000004");
    std::span<const std::byte> rest(wire);
    std::vector<Type> types;
    while (!rest.empty()) {
        auto r = decode(rest, 100);
        ASSERT_TRUE(r && *r);
        types.push_back(type_of((*r)->message));
        rest = rest.subspan((*r)->consumed);
    }
    EXPECT_EQ(types, (std::vector<Type>{Type::eof, Type::close, Type::window_adjust}));
}

TEST(FrameDecoder, UnknownMessageTypeIsFatal) {
    EXPECT_EQ(decode(hex("63"), 32768).error(), make_error_code(Errc::unknown_type));
    EXPECT_EQ(decode(hex("6b 00000000"), 32768).error(), make_error_code(Errc::unknown_type));
    EXPECT_EQ(decode(hex("00"), 32768).error(), make_error_code(Errc::unknown_type));
}

TEST(FrameDecoder, OversizedDataIsRefusedBeforeThePayloadArrives) {
    EXPECT_EQ(decode(hex("68 00000003 00008001"), 32768).error(), make_error_code(Errc::payload_too_large));
    EXPECT_EQ(decode(hex("68 00000003 ffffffff"), 1u << 24).error(), make_error_code(Errc::payload_too_large));
    auto ok = decode(hex("68 00000003 00008000"), 32768);  // exactly max: wait for the payload
    ASSERT_TRUE(ok);
    EXPECT_FALSE(ok->has_value());
}

TEST(FrameDecoder, ZeroLengthDataIsLegal) {
    auto r = decode(hex("68 00000009 00000000"), 16);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(std::get<Data>((*r)->message).payload.size(), 0u);
    EXPECT_EQ((*r)->consumed, 9u);
}

TEST(FrameDecoder, DataPayloadPointsIntoTheInput) {
    auto wire = hex("68 00000003 00000002 6869");
    auto r = decode(wire, 32768);
    ASSERT_TRUE(r && *r);
    auto& d = std::get<Data>((*r)->message);
    EXPECT_EQ(d.payload.data(), wire.data() + 9);  // no copy
}

namespace {
std::vector<std::string> captures() {
    std::vector<std::string> out;
    for (auto& dir : {std::string(QTALK_VECTORS_DIR), std::string(QTALK_VECTORS_DIR) + "/quirks"})
        for (auto& e : std::filesystem::directory_iterator(dir))
            if (e.path().extension() == ".bin") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

TEST(FrameVectors, EveryCaptureDecodesAndReencodesByteForByte) {
    auto files = captures();
    ASSERT_GE(files.size(), 10u);
    for (auto& path : files) {
        auto bin = test::read_file(path);
        std::vector<std::byte> again;
        std::map<Type, int> counts;
        std::size_t off = 0;
        while (off < bin.size()) {
            auto r = decode(std::span(bin).subspan(off), 1u << 24);
            ASSERT_TRUE(r && *r) << path << " at offset " << off;
            encode((*r)->message, again);
            ++counts[type_of((*r)->message)];
            off += (*r)->consumed;
        }
        EXPECT_EQ(off, bin.size()) << path;
        EXPECT_TRUE(again == bin) << path << ": re-encoding differs";
        EXPECT_GT(counts[Type::open] + counts[Type::open_confirm], 0) << path;
        EXPECT_GT(counts[Type::data], 0) << path;
        EXPECT_GT(counts[Type::close], 0) << path;
    }
}

TEST(FrameVectors, FirstCheckerMessageIsTheReferenceOpen) {
    auto bin = test::read_file(test::vector_path("json-checker.bin"));
    auto r = decode(bin, 1u << 24);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(std::get<Open>((*r)->message), (Open{0, 1073741824, 16777216}));
}

TEST(FrameVectors, RandomChunkingYieldsTheSameMessages) {
    auto bin = test::read_file(test::vector_path("cbor-full-interop.bin"));
    std::mt19937 rng(42);
    std::vector<std::byte> buf, again;
    std::size_t fed = 0;
    while (fed < bin.size()) {
        auto n = std::min<std::size_t>(bin.size() - fed, 1 + rng() % 3000);
        buf.insert(buf.end(), bin.begin() + fed, bin.begin() + fed + n);
        fed += n;
        for (;;) {
            auto r = decode(buf, 1u << 24);
            ASSERT_TRUE(r);
            if (!*r) break;
            encode((*r)->message, again);
            buf.erase(buf.begin(), buf.begin() + (*r)->consumed);
        }
    }
    EXPECT_TRUE(buf.empty());
    EXPECT_TRUE(again == bin);
}
