// Spare channels to provider sessions: background opens bounded by a per-session target, and a
// watch per spare that drops it as soon as the provider closes it.
#include "hub/channel_pool.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "qtalk/log.hpp"

namespace qtalkd {
namespace net = boost::asio;
using qtalk::mux::Channel;
using qtalk::mux::Session;
using qtalk::mux::Task;

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
    };
    net::any_io_executor ex;
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
Task<void> open_spare(std::weak_ptr<State> weak, SessionId id, std::uint64_t generation,
                      std::chrono::milliseconds timeout) {
    // Runs inline up to the OPEN (co_spawn dispatches): a routed call refills once its header
    // and arguments are queued, so the OPEN goes out behind the call in the same transport
    // write; the provider reads the call first and its CONFIRM travels with the reply.
    std::shared_ptr<Session> session;
    if (auto st = weak.lock())
        if (auto* e = st->find(id, generation)) session = e->session.lock();
    std::optional<Channel> ch;
    std::string failure = "session closed";
    if (session) {
        auto opened = co_await std::exchange(session, nullptr)->open(timeout);  // the pool keeps no session alive
        if (opened) ch = std::move(*opened);
        else failure = open_failure_reason(opened.error());
    }
    auto st = weak.lock();
    auto* e = st ? st->find(id, generation) : nullptr;
    if (!e) {  // dropped meanwhile
        if (ch) ch->close();
        co_return;
    }
    --e->opening;
    if (!ch || !usable(*ch)) {
        ++st->failures;
        // No retry here: the next routed call to this provider asks for a refill.
        qtalk::log::get("router")->debug("spare channel open failed provider={} reason={}", id, failure);
        if (ch) ch->close();
        co_return;
    }
    auto serial = st->next_serial++;
    e->spares.push_back({*ch, serial});
    st.reset();  // the pool keeps no state alive while its spare waits
    // Drops the spare once it is finished while still pooled (the provider closed it, or the
    // session ended); a spare taken for a call is the call's to close.
    co_await ch->wait_closed();
    st = weak.lock();
    e = st ? st->find(id, generation) : nullptr;
    if (!e) co_return;
    if (std::erase_if(e->spares, [&](const State::Spare& s) { return s.serial == serial; })) {
        ch->close();  // answers the provider's CLOSE
        qtalk::log::get("router")->debug("spare channel closed provider={}", id);
    }
}

}  // namespace

std::string open_failure_reason(std::error_code ec) {
    return ec == qtalk::mux::Errc::open_timeout ? "timeout" : ec.message();
}

ChannelPool::ChannelPool(net::any_io_executor ex) : state_(std::make_shared<State>()) { state_->ex = std::move(ex); }

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
    while (e.spares.size() + e.opening < target) {
        ++e.opening;
        net::co_spawn(state_->ex, open_spare(state_, id, e.generation, open_timeout), net::detached);
    }
}

std::optional<Channel> ChannelPool::take(SessionId id) {
    auto it = state_->entries.find(id);
    if (it == state_->entries.end()) return std::nullopt;
    auto& spares = it->second.spares;
    while (!spares.empty()) {
        auto ch = std::move(spares.front().ch);
        spares.pop_front();
        if (usable(ch)) return ch;
        ch.close();
    }
    return std::nullopt;
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
