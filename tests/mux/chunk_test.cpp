// mux::Chunk: an owned payload buffer (move-only, consumable from the front) whose storage is
// recycled per thread.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "qtalk/mux/chunk.hpp"
#include "mux/chunk_queue.hpp"

using qtalk::mux::Chunk;

TEST(MuxChunk, HoldsCopiedBytesAndConsumesFromTheFront) {
    std::vector<std::byte> src(100);
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = std::byte(i);
    Chunk c{std::span<const std::byte>(src)};
    ASSERT_EQ(c.size(), 100u);
    c.consume(40);
    EXPECT_EQ(c.size(), 60u);
    EXPECT_EQ(c.data()[0], std::byte(40));
    Chunk moved = std::move(c);
    EXPECT_TRUE(c.empty());  // NOLINT(bugprone-use-after-move): a moved-from chunk is empty
    EXPECT_EQ(moved.size(), 60u);
    EXPECT_EQ(moved.span().back(), std::byte(99));
    moved = Chunk(std::size_t{5});
    EXPECT_EQ(moved.size(), 5u);
}

TEST(MuxChunk, LargeBuffersAreRecycledOnTheSameThread) {
    std::set<const std::byte*> first;
    {
        std::vector<Chunk> v;
        for (int i = 0; i < 8; ++i) v.emplace_back(std::size_t{64 * 1024});
        for (auto& c : v) first.insert(c.data());
    }
    // Interleave unrelated allocations so plain malloc reuse would not line up by chance.
    std::vector<std::vector<char>> noise;
    for (int i = 0; i < 8; ++i) noise.emplace_back(64 * 1024 + 100);
    std::vector<Chunk> again;
    for (int i = 0; i < 8; ++i) again.emplace_back(std::size_t{60 * 1024});  // same size class
    for (auto& c : again) EXPECT_TRUE(first.count(c.data())) << "storage not taken from the cache";
}

TEST(MuxChunkQueue, KeepsOrderAcrossCompactionAndReuse) {
    qtalk::mux::detail::ChunkQueue q;
    EXPECT_TRUE(q.empty());
    std::size_t next_in = 0, next_out = 0;
    auto push = [&] {
        std::byte b{static_cast<unsigned char>(next_in++ & 0xff)};
        q.push_back(qtalk::mux::Chunk(std::span<const std::byte>(&b, 1)));
    };
    auto pop = [&] {
        ASSERT_FALSE(q.empty());
        EXPECT_EQ(std::to_integer<std::size_t>(q.front().data()[0]), next_out++ & 0xff);
        q.pop_front();
    };
    // Grows past the inline capacity, drains partly (compaction on the next pushes), empties.
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 7; ++i) push();
        for (int i = 0; i < 5; ++i) pop();
        EXPECT_EQ(q.size(), next_in - next_out);
    }
    while (!q.empty()) pop();
    EXPECT_EQ(next_in, next_out);
    push();
    q.clear();
    EXPECT_TRUE(q.empty());
}
