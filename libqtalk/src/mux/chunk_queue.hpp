// The chunks a channel has received and not yet handed on: a FIFO that allocates nothing for
// up to two chunks (a std::deque allocates its map and a block on construction, for every
// channel; an rpc call's channel rarely holds more than two payloads) and keeps its storage
// once it has grown. Pops advance a head index; the vector is compacted when
// it drains, so a queue that never empties is compacted once the dead front is half of it.
#pragma once
#include <cstddef>

#include <boost/container/small_vector.hpp>

#include "qtalk/mux/chunk.hpp"

namespace qtalk::mux::detail {

class ChunkQueue {
public:
    bool empty() const noexcept { return head_ == items_.size(); }
    std::size_t size() const noexcept { return items_.size() - head_; }
    Chunk& front() noexcept { return items_[head_]; }
    void push_back(Chunk c) {
        if (head_ > 0 && head_ * 2 >= items_.size()) compact();
        items_.push_back(std::move(c));
    }
    void pop_front() noexcept {
        items_[head_] = Chunk{};  // the storage goes back now, not at compaction
        if (++head_ == items_.size()) {
            items_.clear();
            head_ = 0;
        }
    }
    void clear() noexcept {
        items_.clear();
        head_ = 0;
    }
    auto begin() noexcept { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    auto end() noexcept { return items_.end(); }

private:
    void compact() {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    boost::container::small_vector<Chunk, 2> items_;
    std::size_t head_ = 0;
};

}  // namespace qtalk::mux::detail
