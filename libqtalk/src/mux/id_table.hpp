// Local channel ids (PROTOCOL §2.3, §6): increasing allocation, wrapping and skipping live ids,
// so a late frame for a just-closed id is recognisably stale instead of hitting a new channel.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "mux/channel_state.hpp"
#include "qtalk/mux/recycled.hpp"

namespace qtalk::mux::detail {

class IdTable {
public:
    // Caller checks the live-count limit first, so a free id exists.
    std::uint32_t allocate() {
        while (live_.contains(next_)) advance();
        auto id = next_;
        advance();
        return id;
    }
    void insert(std::shared_ptr<ChannelState> ch) { live_.emplace(ch->local_id, std::move(ch)); }
    // An ended channel lets go of its watcher (whose call for the end is already on its way).
    void erase(std::uint32_t id) {
        if (auto it = live_.find(id); it != live_.end()) {
            it->second->watch.watcher.reset();
            live_.erase(it);
        }
    }
    ChannelState* find(std::uint32_t id) const {
        auto it = live_.find(id);
        return it == live_.end() ? nullptr : it->second.get();
    }
    std::shared_ptr<ChannelState> get(std::uint32_t id) const {
        auto it = live_.find(id);
        return it == live_.end() ? nullptr : it->second;
    }
    // Not live, but handed out before: a frame for it is in flight from an ended channel.
    bool is_stale(std::uint32_t id) const { return !live_.contains(id) && (wrapped_ || id < next_); }
    std::size_t size() const { return live_.size(); }
    template <class F>
    void for_each(F&& f) const {
        for (auto& [_, ch] : live_) f(*ch);
    }
    void clear() {
        for (auto& [_, ch] : live_) ch->watch.watcher.reset();
        live_.clear();
    }

private:
    void advance() {
        if (++next_ == 0) wrapped_ = true;
    }
    using Entry = std::pair<const std::uint32_t, std::shared_ptr<ChannelState>>;
    std::unordered_map<std::uint32_t, std::shared_ptr<ChannelState>, std::hash<std::uint32_t>, std::equal_to<>,
                       RecycledAllocator<Entry>>
        live_;  // nodes from the per-thread block cache: a channel's comes and goes with it
    std::uint32_t next_ = 0;
    bool wrapped_ = false;
};

}  // namespace qtalk::mux::detail
