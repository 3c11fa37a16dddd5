// An allocator over the per-thread block cache that Chunk storage uses, for what comes and goes
// with the traffic: the send queue's deque blocks, and the objects each channel or routed call
// allocates (make_recycled). Blocks are recycled by the thread that frees them.
#pragma once
#include <cstddef>
#include <memory>
#include <utility>

#include "qtalk/mux/chunk.hpp"

namespace qtalk::mux {
namespace detail {

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

}  // namespace detail

// std::make_shared through the cache: object and reference counts in one recycled block.
template <class T, class... Args>
std::shared_ptr<T> make_recycled(Args&&... args) {
    return std::allocate_shared<T>(detail::RecycledAllocator<T>{}, std::forward<Args>(args)...);
}

}  // namespace qtalk::mux
