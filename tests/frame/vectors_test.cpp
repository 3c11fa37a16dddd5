// The Go reference captures in tests/vectors (PROTOCOL §7): every stream decodes frame by frame and
// re-encodes byte for byte, with the per-type counts of the capture's own decoder (wirecap summaries),
// and decodes to the same message sequence when fed in random chunks or in the captured read sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "qtalk/frame/decoder.hpp"
#include "qtalk/frame/encoder.hpp"
#include "support/hex.hpp"

using namespace qtalk::frame;
using qtalk::test::hex;
using qtalk::test::read_file;
using qtalk::test::to_hex;
using qtalk::test::vector_path;

namespace {

constexpr std::uint32_t ref_max = 16777216;  // Go/JS ref maximum packet (§2.9)

// Messages per type, in Type order OPEN..CLOSE, from the `# summary:` line of each NAME.frames.txt.
using Counts = std::array<int, 7>;
const std::map<std::string, Counts> expected_counts = {
    {"json-checker.bin", {10, 8, 0, 62, 50, 3, 18}},
    {"json-interop.bin", {8, 10, 0, 63, 50, 3, 18}},
    {"cbor-checker.bin", {10, 8, 0, 69, 50, 3, 18}},
    {"cbor-interop.bin", {8, 10, 0, 72, 50, 3, 18}},
    {"cbor-full-checker.bin", {11, 9, 0, 128, 87, 4, 20}},
    {"cbor-full-interop.bin", {9, 11, 0, 130, 118, 4, 20}},
    {"quirks/stray-args-cbor-checker.bin", {10, 0, 0, 0, 4, 0, 2}},
    {"quirks/stray-args-cbor-interop.bin", {0, 2, 0, 6, 4, 0, 2}},
    {"quirks/stray-reply-json-checker.bin", {3, 0, 0, 2, 3, 0, 1}},
    {"quirks/stray-reply-json-interop.bin", {0, 2, 0, 4, 2, 0, 1}},
};

// Every .bin under tests/vectors and tests/vectors/quirks, relative to tests/vectors.
std::vector<std::string> captures() {
    std::vector<std::string> out;
    for (std::string sub : {"", "quirks/"})
        for (auto& e : std::filesystem::directory_iterator(vector_path(sub)))
            if (e.path().extension() == ".bin") out.push_back(sub + e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// What one pass of the decoder saw. Data payloads are re-encoded at once, as feeding in chunks
// moves the buffer they point into.
struct Stream {
    std::vector<std::size_t> sizes;   // consumed per message
    std::vector<std::byte> reencoded;
    Counts counts{};
    std::size_t consumed = 0;
    std::error_code error;

    void add(const Decoded& d) {
        sizes.push_back(d.consumed);
        encode(d.message, reencoded);
        ++counts[static_cast<std::size_t>(type_of(d.message)) - 100];
        consumed += d.consumed;
    }
};

Stream decode_whole(std::span<const std::byte> bin, std::uint32_t max = ref_max) {
    Stream s;
    while (s.consumed < bin.size()) {
        auto r = decode(bin.subspan(s.consumed), max);
        if (!r) { s.error = r.error(); break; }
        if (!*r) break;
        s.add(**r);
    }
    return s;
}

// Feeds `bin` to the decoder in chunks of the given sizes, as a read loop would.
class ChunkFeeder {
public:
    void feed(std::span<const std::byte> chunk) {
        buf_.insert(buf_.end(), chunk.begin(), chunk.end());
        std::size_t off = 0;
        for (;;) {
            auto r = decode(std::span(buf_).subspan(off), ref_max);
            if (!r) { s_.error = r.error(); break; }
            if (!*r) break;
            s_.add(**r);
            off += (*r)->consumed;
        }
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(off));
    }
    const Stream& stream() const { return s_; }
    std::size_t buffered() const { return buf_.size(); }

private:
    std::vector<std::byte> buf_;
    Stream s_;
};

void expect_same_sequence(const Stream& got, const Stream& want, std::size_t buffered) {
    EXPECT_FALSE(got.error) << got.error.message();
    EXPECT_EQ(buffered, 0u);
    EXPECT_EQ(got.sizes, want.sizes);
    EXPECT_TRUE(got.reencoded == want.reencoded);
}

}  // namespace

TEST(FrameVectors, AllTenCapturesArePresent) {
    std::vector<std::string> names;
    for (auto& [name, counts] : expected_counts) names.push_back(name);
    EXPECT_EQ(captures(), names);
}

TEST(FrameVectors, EveryCaptureReencodesByteIdentical) {
    for (const auto& name : captures()) {
        SCOPED_TRACE(name);
        auto bin = read_file(vector_path(name));
        auto s = decode_whole(bin);
        EXPECT_FALSE(s.error) << s.error.message() << " at offset " << s.consumed;
        EXPECT_EQ(s.consumed, bin.size());
        EXPECT_EQ(s.reencoded.size(), bin.size());
        EXPECT_TRUE(s.reencoded == bin) << "first difference at byte "
                                        << std::mismatch(s.reencoded.begin(), s.reencoded.end(), bin.begin(),
                                                         bin.end()).first - s.reencoded.begin();
    }
}

TEST(FrameVectors, MessageCountsPerTypeMatchTheCaptureSummaries) {
    for (const auto& [name, want] : expected_counts) {
        SCOPED_TRACE(name);
        auto s = decode_whole(read_file(vector_path(name)));
        EXPECT_EQ(s.counts, want);
        if (name.starts_with("quirks/")) continue;  // short failed runs: not every type occurs
        for (auto t : {Type::open, Type::open_confirm, Type::window_adjust, Type::data, Type::close})
            EXPECT_GT(s.counts[static_cast<std::size_t>(t) - 100], 0) << type_name(t);
    }
}

TEST(FrameVectors, JsonCapturesStartWithTheWorkedExample) {
    auto checker = read_file(vector_path("json-checker.bin"));
    auto first = decode(checker, ref_max);
    ASSERT_TRUE(first && *first);
    EXPECT_EQ(std::get<Open>((*first)->message), (Open{0, 1073741824, 16777216}));

    // §2.11 C→S and S→C, up to and including each side's CLOSE, are the first bytes of the captures.
    auto c_to_s = hex("64 00000000 40000000 01000000"
                      "68 00000000 00000019 00000015 7b2253656c6563746f72223a224572726f72227d0a"
                      "68 00000000 0000000b 00000007 2274657374220a"
                      "67 00000000 00000004 67 00000000 00000022 6a 00000000");
    auto s_to_c = hex("65 00000000 00000000 40000000 01000000"
                      "67 00000000 00000004 67 00000000 00000015 67 00000000 00000004 67 00000000 00000007"
                      "68 00000000 00000026 00000022 7b224572726f72223a2274657374222c22436f6e74696e7565223a66616c73657d0a"
                      "68 00000000 00000009 00000005 6e756c6c0a 6a 00000000");
    auto interop = read_file(vector_path("json-interop.bin"));
    EXPECT_EQ(to_hex(std::span(checker).first(c_to_s.size())), to_hex(c_to_s));
    EXPECT_EQ(to_hex(std::span(interop).first(s_to_c.size())), to_hex(s_to_c));
}

TEST(FrameVectors, LargestDataMessagesNeedTheReferenceMaximumPacket) {
    // The checker writes the 1 MiB Bytes stream as one DATA (§2.5); the interop peer relays it in
    // 32 KiB DATA messages (its copy buffer), so 32768 suffices for that direction.
    auto checker = read_file(vector_path("cbor-full-checker.bin"));
    auto at_32k = decode_whole(checker, 32768);
    EXPECT_EQ(at_32k.error, Errc::payload_too_large);
    EXPECT_EQ(decode_whole(checker, 1u << 20).consumed, checker.size());
    EXPECT_EQ(decode_whole(checker, (1u << 20) - 1).error, Errc::payload_too_large);
    auto interop = read_file(vector_path("cbor-full-interop.bin"));
    EXPECT_EQ(decode_whole(interop, 32768).consumed, interop.size());
}

TEST(FrameVectors, StrayDataOfTheQuirkRunsIsAValidFrame) {
    // The anomaly (§6 tolerate 2) is channel state, not framing: the stray args DATA at @118 decodes.
    auto bin = read_file(vector_path("quirks/stray-args-cbor-checker.bin"));
    auto r = decode(std::span(bin).subspan(118), ref_max);
    ASSERT_TRUE(r && *r);
    ASSERT_TRUE(std::holds_alternative<Data>((*r)->message));
    EXPECT_EQ(channel_of((*r)->message), 0u);
    EXPECT_EQ(to_hex(std::get<Data>((*r)->message).payload), "000000056474657374");  // CBOR "test"
}

TEST(FrameVectors, RandomChunksYieldTheSameMessageSequence) {
    std::mt19937 rng(20240611);  // fixed seed: reproducible splits
    for (const auto& name : captures()) {
        SCOPED_TRACE(name);
        auto bin = read_file(vector_path(name));
        auto want = decode_whole(bin);
        for (std::size_t max_chunk : {std::size_t(1), std::size_t(7), std::size_t(64), std::size_t(70000)}) {
            SCOPED_TRACE("max chunk " + std::to_string(max_chunk));
            if (max_chunk < 7 && bin.size() > 100000) continue;  // byte-by-byte over 2 MB adds nothing
            ChunkFeeder feeder;
            for (std::size_t off = 0; off < bin.size();) {
                auto n = std::min<std::size_t>(bin.size() - off, 1 + rng() % max_chunk);
                feeder.feed(std::span(bin).subspan(off, n));
                off += n;
            }
            expect_same_sequence(feeder.stream(), want, feeder.buffered());
        }
    }
}

TEST(FrameVectors, CapturedReadSizesYieldTheSameMessageSequence) {
    // NAME.timeline: `seq dir offset len`, each chunk as it crossed the pipe (dir 0 = checker).
    // In cbor-full some chunks end inside the 1 MiB DATA.
    for (std::string capture : {"json", "cbor", "cbor-full"}) {
        SCOPED_TRACE(capture);
        std::array<std::vector<std::byte>, 2> bins = {read_file(vector_path(capture + "-checker.bin")),
                                                       read_file(vector_path(capture + "-interop.bin"))};
        std::array<ChunkFeeder, 2> feeders;
        std::array<std::size_t, 2> next{0, 0};
        std::ifstream timeline(vector_path(capture + ".timeline"));
        ASSERT_TRUE(timeline) << "missing " << capture << ".timeline";
        std::string line;
        int chunks = 0;
        while (std::getline(timeline, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream fields(line);
            std::size_t seq, dir, offset, len;
            ASSERT_TRUE(fields >> seq >> dir >> offset >> len) << line;
            ASSERT_LT(dir, 2u) << line;
            ASSERT_EQ(offset, next[dir]) << "gap in the timeline at " << line;
            ASSERT_LE(offset + len, bins[dir].size()) << line;
            feeders[dir].feed(std::span(bins[dir]).subspan(offset, len));
            next[dir] = offset + len;
            ++chunks;
        }
        EXPECT_GT(chunks, 100);
        for (std::size_t dir : {0u, 1u}) {
            EXPECT_EQ(next[dir], bins[dir].size());
            expect_same_sequence(feeders[dir].stream(), decode_whole(bins[dir]), feeders[dir].buffered());
        }
    }
}
