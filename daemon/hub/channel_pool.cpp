// Spare channels to provider sessions: background opens bounded by a per-session target, and a
// watch per spare that drops it as soon as the provider closes it. No coroutine: each spare is a
// channel watcher from its OPEN until it is taken for a call or dropped.
#include "hub/channel_pool.hpp"

#include <algorithm>
#include <utility>

#include "hub/limits.hpp"
#include "qtalk/log.hpp"
#include "qtalk/mux/recycled.hpp"

namespace qtalkd {
namespace net = boost::asio;
using qtalk::mux::Channel;
using qtalk::mux::Session;
using Clock = std::chrono::steady_clock;

struct ChannelPool::State {
    struct Spare {
        Channel ch;
        std::uint64_t serial;
    };
    struct Entry {
        std::weak_ptr<Session> session;
        std::uint64_t generation;  // a kept/dropped/kept-again session is a new entry
        std::deque<Spare> spares;
        std::size_t opening = 0;
        // Spares above the configured count: one more for every call that found none while
        // others were being opened, halved after each growth_hold without such a call.
        std::size_t extra = 0;
        Clock::time_point last_miss{};
    };
    net::any_io_executor ex;
    std::weak_ptr<State> self;  // what spares hold of the pool
    std::chrono::milliseconds growth_hold{};
    std::map<SessionId, Entry> entries;
    std::uint64_t next_serial = 1;
    std::uint64_t failures = 0;

    Entry* find(SessionId id, std::uint64_t generation) {
        auto it = entries.find(id);
        return it != entries.end() && it->second.generation == generation ? &it->second : nullptr;
    }
};

namespace {
using State = ChannelPool::State;

bool usable(const Channel& ch) {
    return !ch.closed() && !ch.eof_received() && ch.buffered() == 0 && !ch.session().is_closed();
}

// One spare's life in the pool: opened, pooled, and watched while pooled.
class SpareWatch final : public qtalk::mux::Watcher {
public:
    SpareWatch(std::weak_ptr<State> pool, SessionId id, std::uint64_t generation)
        : pool_(std::move(pool)), id_(id), generation_(generation) {}

    // Sends the OPEN (queued behind whatever the session already has to send: a routed call
    // refills once its header and arguments are queued, so the OPEN goes out with the call and
    // the provider's CONFIRM travels with the reply).
    static void open(State& st, SessionId id, State::Entry& e, std::chrono::milliseconds timeout) {
        auto w = qtalk::mux::make_recycled<SpareWatch>(st.self, id, e.generation);
        ++e.opening;
        auto session = e.session.lock();
        if (!session) {
            w->failed(st, e, "session closed");
            return;
        }
        w->ch_ = session->open_watched(timeout, w);
        if (auto ec = w->ch_.open_error()) w->failed(st, e, open_failure_reason(ec));
    }

    void on_channel_event() override {
        if (!ch_) return;
        auto st = pool_.lock();
        auto* e = st ? st->find(id_, generation_) : nullptr;
        if (!pooled_) {
            if (ch_.opening()) return;
            if (!e) {  // dropped meanwhile
                ch_.close();
                return;
            }
            if (auto ec = ch_.open_error()) return failed(*st, *e, open_failure_reason(ec));
            if (!usable(ch_)) return failed(*st, *e, "closed");
            --e->opening;
            pooled_ = true;
            serial_ = st->next_serial++;
            e->spares.push_back({ch_, serial_});
            return;
        }
        // Dropped once finished while still pooled (the provider closed it, or the session
        // ended); a spare taken for a call is the call's to close (take() unwatches it).
        if (!ch_.closed() && !ch_.session().is_closed()) return;
        auto ch = std::move(ch_);
        if (e && std::erase_if(e->spares, [&](const State::Spare& s) { return s.serial == serial_; })) {
            qtalk::log::get("router")->debug("spare channel closed provider={}", id_);
        }
        ch.close();  // answers the provider's CLOSE
    }

private:
    // No retry here: the next routed call to this provider asks for a refill.
    void failed(State& st, State::Entry& e, std::string_view why) {
        --e.opening;
        ++st.failures;
        qtalk::log::get("router")->debug("spare channel open failed provider={} reason={}", id_, why);
        if (auto ch = std::move(ch_)) ch.close();
    }

    std::weak_ptr<State> pool_;
    SessionId id_;
    std::uint64_t generation_;
    Channel ch_;
    bool pooled_ = false;
    std::uint64_t serial_ = 0;
};

}  // namespace

std::string open_failure_reason(std::error_code ec) {
    return ec == qtalk::mux::Errc::open_timeout ? "timeout" : ec.message();
}

ChannelPool::ChannelPool(net::any_io_executor ex, std::chrono::milliseconds growth_hold)
    : state_(std::make_shared<State>()) {
    state_->ex = std::move(ex);
    state_->growth_hold = growth_hold;
    state_->self = state_;
}

ChannelPool::~ChannelPool() {
    for (auto& [_, e] : state_->entries)
        for (auto& s : e.spares) s.ch.close();
}

void ChannelPool::keep(SessionId id, std::weak_ptr<Session> session, std::size_t target,
                       std::chrono::milliseconds open_timeout) {
    if (!state_->entries.contains(id)) {
        State::Entry e;
        e.session = std::move(session);
        e.generation = state_->next_serial++;
        state_->entries.emplace(id, std::move(e));
    }
    refill(id, target, open_timeout);
}

void ChannelPool::refill(SessionId id, std::size_t target, std::chrono::milliseconds open_timeout) {
    auto it = state_->entries.find(id);
    if (it == state_->entries.end()) return;
    auto& e = it->second;
    if (e.extra > 0 && Clock::now() - e.last_miss > state_->growth_hold) {
        e.extra /= 2;
        e.last_miss = Clock::now();  // the next halving after another hold
    }
    const auto want = target == 0 ? 0 : std::max(target, std::min(target + e.extra, limits::provider_spare_channels_max));
    while (e.spares.size() + e.opening < want) SpareWatch::open(*state_, id, e, open_timeout);
}

std::optional<Channel> ChannelPool::take(SessionId id) {
    auto it = state_->entries.find(id);
    if (it == state_->entries.end()) return std::nullopt;
    auto& e = it->second;
    while (!e.spares.empty()) {
        auto ch = std::move(e.spares.front().ch);
        e.spares.pop_front();
        ch.unwatch();
        if (usable(ch)) return ch;
        ch.close();
    }
    // None left while replacements are on their way: calls arrive faster than spares come
    // back, so keep one more from the next refill on.
    if (e.opening > 0) {
        e.extra = std::min(e.extra + 1, limits::provider_spare_channels_max);
        e.last_miss = Clock::now();
    }
    return std::nullopt;
}

std::size_t ChannelPool::target(SessionId id, std::size_t configured) const {
    auto it = state_->entries.find(id);
    if (it == state_->entries.end() || configured == 0) return 0;
    return std::max(configured, std::min(configured + it->second.extra, limits::provider_spare_channels_max));
}

void ChannelPool::drop(SessionId id) {
    auto it = state_->entries.find(id);
    if (it == state_->entries.end()) return;
    for (auto& s : it->second.spares) s.ch.close();
    state_->entries.erase(it);
}

std::size_t ChannelPool::spares(SessionId id) const {
    auto it = state_->entries.find(id);
    return it == state_->entries.end() ? 0 : it->second.spares.size();
}

std::size_t ChannelPool::opening(SessionId id) const {
    auto it = state_->entries.find(id);
    return it == state_->entries.end() ? 0 : it->second.opening;
}

std::size_t ChannelPool::spares() const {
    std::size_t n = 0;
    for (auto& [_, e] : state_->entries) n += e.spares.size();
    return n;
}

std::uint64_t ChannelPool::failures() const { return state_->failures; }

}  // namespace qtalkd
