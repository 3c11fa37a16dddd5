// An owned, movable byte buffer for DATA payloads. Its storage is not zero-filled (the transport
// or a copy fills it at once), bytes consumed from the front are skipped rather than moved, and
// large buffers are recycled through a small per-thread cache (bulk transfers allocate and free
// one per message; without the cache the allocator returns and re-faults the pages each time).
#pragma once
#include <cstddef>
#include <cstring>
#include <span>

namespace qtalk::mux {

namespace detail {
// Storage of at least n bytes; `cap` receives its real size. chunk_free takes it back.
std::byte* chunk_alloc(std::size_t n, std::size_t& cap);
void chunk_free(std::byte* p, std::size_t cap) noexcept;
// The `cap` chunk_alloc(n, cap) gives.
std::size_t chunk_capacity(std::size_t n) noexcept;
}  // namespace detail

class Chunk {
public:
    Chunk() = default;
    explicit Chunk(std::size_t n) : end_(n) {
        if (n) buf_ = detail::chunk_alloc(n, cap_);  // in the body: cap_ is initialised by now
    }
    explicit Chunk(std::span<const std::byte> bytes) : Chunk(bytes.size()) {
        if (!bytes.empty()) std::memcpy(buf_, bytes.data(), bytes.size());
    }
    ~Chunk() { reset(); }
    Chunk(Chunk&& o) noexcept : buf_(o.buf_), cap_(o.cap_), begin_(o.begin_), end_(o.end_) { o.release(); }
    Chunk& operator=(Chunk&& o) noexcept {
        if (this != &o) {
            reset();
            buf_ = o.buf_;
            cap_ = o.cap_;
            begin_ = o.begin_;
            end_ = o.end_;
            o.release();
        }
        return *this;
    }

    std::byte* data() noexcept { return buf_ + begin_; }
    const std::byte* data() const noexcept { return buf_ + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    std::span<std::byte> span() noexcept { return {data(), size()}; }
    std::span<const std::byte> span() const noexcept { return {data(), size()}; }
    operator std::span<const std::byte>() const noexcept { return span(); }

    // Drops n bytes from the front (n <= size()).
    void consume(std::size_t n) noexcept { begin_ += n; }

private:
    void release() noexcept {
        buf_ = nullptr;
        cap_ = begin_ = end_ = 0;
    }
    void reset() noexcept {
        if (buf_) detail::chunk_free(buf_, cap_);
        release();
    }

    std::byte* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0, end_ = 0;
};

}  // namespace qtalk::mux
