// An owned, movable byte buffer for received DATA payloads. Its storage is allocated without
// being zero-filled (the transport or a copy fills it at once), and bytes consumed from the
// front are skipped rather than moved.
#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace qtalk::mux {

class Chunk {
public:
    Chunk() = default;
    explicit Chunk(std::size_t n) : buf_(n ? std::make_unique_for_overwrite<std::byte[]>(n) : nullptr), end_(n) {}
    explicit Chunk(std::span<const std::byte> bytes) : Chunk(bytes.size()) {
        if (!bytes.empty()) std::memcpy(buf_.get(), bytes.data(), bytes.size());
    }

    Chunk(Chunk&& o) noexcept : buf_(std::move(o.buf_)), begin_(o.begin_), end_(o.end_) { o.begin_ = o.end_ = 0; }
    Chunk& operator=(Chunk&& o) noexcept {
        buf_ = std::move(o.buf_);
        begin_ = o.begin_;
        end_ = o.end_;
        o.begin_ = o.end_ = 0;
        return *this;
    }

    std::byte* data() noexcept { return buf_.get() + begin_; }
    const std::byte* data() const noexcept { return buf_.get() + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    std::span<std::byte> span() noexcept { return {data(), size()}; }
    std::span<const std::byte> span() const noexcept { return {data(), size()}; }
    operator std::span<const std::byte>() const noexcept { return span(); }

    // Drops n bytes from the front (n <= size()).
    void consume(std::size_t n) noexcept { begin_ += n; }

private:
    std::unique_ptr<std::byte[]> buf_;
    std::size_t begin_ = 0, end_ = 0;
};

}  // namespace qtalk::mux
