// An allocator over the per-thread block cache of chunk.cpp, for containers whose blocks come and
// go with the traffic (the send queue's deque allocates and frees a block every few frames).
#pragma once
#include <bit>
#include <cstddef>

#include "qtalk/mux/chunk.hpp"

namespace qtalk::mux::detail {

template <class T>
struct RecycledAllocator {
    using value_type = T;
    RecycledAllocator() = default;
    template <class U>
    RecycledAllocator(const RecycledAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        std::size_t cap;
        return reinterpret_cast<T*>(chunk_alloc(n * sizeof(T), cap));
    }
    void deallocate(T* p, std::size_t n) noexcept { chunk_free(reinterpret_cast<std::byte*>(p), chunk_capacity(n * sizeof(T))); }

    template <class U>
    bool operator==(const RecycledAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace qtalk::mux::detail
