// Chunk storage: sizes from 16 bytes to 1 MiB are rounded up to a power of two and recycled
// through a per-thread cache that holds at most 2 MiB (64 blocks a size, one from 256 KiB up); everything else
// goes straight to the allocator. (A bulk writer keeps a send budget's worth of 64 KiB copies in
// flight: the cache must hold that many, or the allocator trims and re-faults the heap top on
// every batch. Small payloads, an rpc call's frames, are copied once each as they arrive.)
#include "qtalk/mux/chunk.hpp"

#include <array>
#include <bit>
#include <new>

namespace qtalk::mux::detail {
namespace {
constexpr std::size_t min_cached = 16;
constexpr std::size_t max_cached = 1024 * 1024;
constexpr std::size_t classes = std::countr_zero(max_cached) - std::countr_zero(min_cached) + 1;
constexpr std::size_t per_class = 64;
constexpr std::size_t max_cached_bytes = 2 * 1024 * 1024;
// One block a size from here up: these are whole DATA messages a splice forwards (up to the hub's
// 1 MiB max packet), live at most a window's worth at a time; a cache of several would add
// megabytes to what a stream holds.
constexpr std::size_t large_block = 256 * 1024;

struct Cache {
    std::array<std::array<std::byte*, per_class>, classes> blocks{};
    std::array<std::size_t, classes> count{};
    std::size_t bytes = 0;
    ~Cache() {
        for (std::size_t c = 0; c < classes; ++c)
            for (std::size_t i = 0; i < count[c]; ++i) ::operator delete(blocks[c][i]);
    }
};
thread_local Cache cache;

std::size_t class_of(std::size_t cap) { return std::countr_zero(cap) - std::countr_zero(min_cached); }
}  // namespace

std::size_t chunk_capacity(std::size_t n) noexcept { return n < min_cached || n > max_cached ? n : std::bit_ceil(n); }

std::byte* chunk_alloc(std::size_t n, std::size_t& cap) {
    cap = chunk_capacity(n);
    if (n < min_cached || n > max_cached) return static_cast<std::byte*>(::operator new(n));
    auto c = class_of(cap);
    if (cache.count[c] > 0) {
        cache.bytes -= cap;
        return cache.blocks[c][--cache.count[c]];
    }
    return static_cast<std::byte*>(::operator new(cap));
}

void chunk_free(std::byte* p, std::size_t cap) noexcept {
    // A power of two (not std::has_single_bit: without -mpopcnt that is a libgcc call).
    if (cap >= min_cached && cap <= max_cached && (cap & (cap - 1)) == 0) {
        auto c = class_of(cap);
        const std::size_t limit = cap >= large_block ? 1 : per_class;
        if (cache.count[c] < limit && cache.bytes + cap <= max_cached_bytes) {
            cache.blocks[c][cache.count[c]++] = p;
            cache.bytes += cap;
            return;
        }
    }
    ::operator delete(p);
}

}  // namespace qtalk::mux::detail
