// Splicing two channels inside their sessions' loops (see qtalk/mux/splice.hpp). Each direction
// is a pump, run inline whenever something it depends on changes: its source channel's read
// event (data, EOF, CLOSE, session end), its destination's write event (window, CLOSE, session
// end) and, while it waits for send budget, the destination session's write loop.
#include "qtalk/mux/splice.hpp"

#include <algorithm>

#include "mux/session_impl.hpp"

namespace qtalk::mux {
using detail::ChannelAccess;
using detail::ChannelState;
using detail::DeferredWakes;
using detail::Event;

namespace {

class Link;

// Runs one direction's pump when an event it listens to fires.
struct PumpHook final : Event::Hook {
    Link* link = nullptr;
    int dir = 0;
    void on_event() override;
};
// The same, for the destination session's write loop freeing send budget (one-shot).
struct BudgetHook final : Event::Hook {
    Link* link = nullptr;
    int dir = 0;
    void on_event() override;
};

class Link {
public:
    Link(Channel a, Channel b, boost::asio::any_io_executor ex) : ch_{std::move(a), std::move(b)}, finished_(ex) {
        for (int i = 0; i < 2; ++i) {
            st_[i] = ChannelAccess::state(ch_[i]).get();
            s_[i] = &ChannelAccess::session(ch_[i]);
            st_[i]->manual_credit = true;  // credit only for forwarded bytes
            st_[i]->watch.watcher.reset();  // the splice's hooks replace a watcher's
            pump_hook_[i].link = budget_hook_[i].link = this;
            pump_hook_[i].dir = budget_hook_[i].dir = i;
        }
        for (int dir = 0; dir < 2; ++dir) {
            st_[dir]->read_ev.set_hook(&pump_hook_[dir]);
            st_[1 - dir]->write_ev.set_hook(&pump_hook_[dir]);
        }
    }
    ~Link() { unhook(); }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    void start() {
        for (int dir = 0; dir < 2; ++dir) {
            // Only open channels can be joined: anything else ends the splice at once.
            if (st_[dir]->phase != detail::Phase::open) {
                done_[0] = done_[1] = true;
                break;
            }
        }
        pump(0);
        pump(1);
        check_complete();
    }

    bool complete() const { return complete_; }
    // The write event of a channel whose session still has frames queued that reference held
    // payload bytes (they must stay alive until written, or until that session drops its
    // queue), or nullptr when there is none.
    Event* pending_writes() const {
        for (int dir = 0; dir < 2; ++dir) {
            auto& dst = *st_[1 - dir];
            if (held_sent_[dir] && dst.writes_done != dst.writes_queued && !dst.session_dead) return &dst.write_ev;
        }
        return nullptr;
    }
    Event& finished() { return finished_; }
    const SpliceResult& result() const { return result_; }

    // Both directions are done: close what is still open (a channel whose peer lost its session
    // silently stays open for the caller).
    void close_channels() {
        unhook();
        for (int i = 0; i < 2; ++i)
            if (!result_.lost_silent[1 - i]) ch_[i].close();
    }

    void pump(int dir) {
        if (done_[dir]) return;
        if (pumping_[dir]) {  // an event fired while this pump runs: go round once more
            again_[dir] = true;
            return;
        }
        pumping_[dir] = true;
        do {
            again_[dir] = false;
            run(dir);
        } while (again_[dir] && !done_[dir]);
        pumping_[dir] = false;
        check_complete();
    }

    void budget_freed(int dir) {
        budget_wait_[dir] = false;
        pump(dir);
    }

private:
    static bool gone(const ChannelState& ch) {
        return ch.session_dead || ch.local_closed || ch.close_received || ch.close_sent;
    }

    // Forwards what the source holds, then applies its EOF/CLOSE/end once nothing is left.
    void run(int dir) {
        auto& src = *st_[dir];
        auto& dst = *st_[1 - dir];
        auto& ss = *s_[dir];
        auto& ds = *s_[1 - dir];
        for (;;) {
            // A payload larger than the destination's window goes out by reference, so the bytes
            // stay where they are: credit returns once the transport has taken them.
            if (held_sent_[dir] && dst.writes_done == dst.writes_queued) {
                auto k = std::exchange(held_sent_[dir], 0);
                held_[dir].consume(k);
                result_.forwarded[dir] += k;
                ss.grant(src, static_cast<std::uint32_t>(k));
                if (held_[dir].empty()) held_[dir] = Chunk{};
            }
            // The destination takes nothing more: the other direction (whose source it is)
            // ends the splice, closing our source or reporting a silent loss.
            if ((!src.rx.empty() || !held_[dir].empty()) && gone(dst)) return finish(dir);
            if (!held_[dir].empty()) {
                if (held_sent_[dir]) return;  // the write completion runs us again
                auto rest = held_[dir].span();
                std::size_t n = 0;
                while (n < rest.size() && dst.remote_window > 0) {
                    auto k = std::min<std::size_t>({rest.size() - n, dst.remote_window, dst.remote_max_packet});
                    dst.remote_window -= static_cast<std::uint32_t>(k);
                    ds.send_data(ChannelAccess::state(ch_[1 - dir]), rest.subspan(n, k));
                    n += k;
                }
                held_sent_[dir] = n;
                return;  // waits for the completion, or for window
            }
            if (src.rx.empty()) break;
            if (dst.eof_sent) {  // data after the source's EOF: nowhere to go (§2.6)
                src.rx.clear();
                src.rx_bytes = 0;
                break;
            }
            auto& c = src.rx.front();
            auto k = std::min<std::size_t>({c.size(), dst.remote_window, dst.remote_max_packet});
            if (k == 0) return;  // the destination's WINDOW_ADJUST runs us again
            if (k < c.size()) {
                src.rx_bytes -= c.size();
                held_[dir] = std::move(c);
                src.rx.pop_front();
                continue;
            }
            if (!ds.budget_allows(k)) {
                if (!budget_wait_[dir]) {
                    budget_wait_[dir] = true;
                    ds.budget_waiters.push_back(&budget_hook_[dir]);
                }
                return;
            }
            ds.queue_owned(ChannelAccess::state(ch_[1 - dir]), std::move(c));
            src.rx.pop_front();
            dst.remote_window -= static_cast<std::uint32_t>(k);
            src.rx_bytes -= k;
            result_.forwarded[dir] += k;
            ss.grant(src, static_cast<std::uint32_t>(k));
        }
        if (src.close_received || src.local_closed) {
            ds.local_close(dst);
            return finish(dir);
        }
        if (src.session_dead) {
            if (result_.forwarded[dir] == 0 && !dst.eof_sent && !gone(dst)) result_.lost_silent[dir] = true;
            else ds.local_close(dst);
            return finish(dir);
        }
        if (gone(dst)) return finish(dir);
        if (src.eof_received && !dst.eof_sent) {
            dst.eof_sent = true;
            ds.send(frame::Eof{dst.remote_id});
        }
    }

    void finish(int dir) {
        done_[dir] = true;
        stop_budget_wait(dir);
    }

    void stop_budget_wait(int dir) {
        if (!budget_wait_[dir]) return;
        std::erase(s_[1 - dir]->budget_waiters, &budget_hook_[dir]);
        budget_wait_[dir] = false;
    }

    void check_complete() {
        if (complete_ || !done_[0] || !done_[1]) return;
        complete_ = true;
        finished_.notify();
        if (completion_) completion_->on_event();
    }

public:
    // A detached splice hears of the completion inline, through this hook.
    void on_complete(Event::Hook* h) { completion_ = h; }
    ChannelState& state(int i) const { return *st_[i]; }
    const boost::asio::any_io_executor& executor() const { return s_[0]->ex; }

private:
    void unhook() {
        for (int dir = 0; dir < 2; ++dir) {
            st_[dir]->read_ev.set_hook(nullptr);
            st_[dir]->write_ev.set_hook(nullptr);
            stop_budget_wait(dir);
        }
    }

    Channel ch_[2];  // the handles keep both sessions and channel states alive
    ChannelState* st_[2];
    Session::Impl* s_[2];
    PumpHook pump_hook_[2];
    BudgetHook budget_hook_[2];
    bool done_[2] = {false, false};
    bool pumping_[2] = {false, false}, again_[2] = {false, false};
    bool budget_wait_[2] = {false, false};
    Chunk held_[2];                // a payload larger than the destination's window
    std::size_t held_sent_[2] = {0, 0};  // bytes of it queued by reference, not yet written
    bool complete_ = false;
    SpliceResult result_;
    Event finished_;
    Event::Hook* completion_ = nullptr;
};

void PumpHook::on_event() { link->pump(dir); }
void BudgetHook::on_event() { link->budget_freed(dir); }

// splice() with a completion callback: the Link on the heap. Until it completes, the two channel
// states own it (ChannelState::splice_owner); the completion moves that ownership into a
// deferred call (as a coroutine's frame is owned by its parked handler), which closes the
// channels, waits while payloads are still queued by reference (owned then by the channel whose
// write it waits for), and runs `done`. A context destroyed with the call still pending frees it.
class DetachedSplice final : public Watcher, public std::enable_shared_from_this<DetachedSplice> {
public:
    DetachedSplice(Channel a, Channel b, boost::asio::any_io_executor ex, std::shared_ptr<SpliceObserver> obs)
        : link_(std::move(a), std::move(b), std::move(ex)), obs_(std::move(obs)) {
        completion_.self = written_.self = this;
    }

    static void start(const std::shared_ptr<DetachedSplice>& self) {
        auto& link = self->link_;
        link.state(0).splice_owner = link.state(1).splice_owner = self;
        link.on_complete(&self->completion_);
        link.start();
        self->obs_->started();
    }

    void on_channel_event() override {
        if (!closed_) {
            closed_ = true;
            link_.close_channels();
        }
        if (auto* ev = link_.pending_writes()) {
            // The write event's channel is that of a live session (or one being torn down,
            // which notifies it): it owns us until the write completes.
            ev->set_hook(&written_);
            waiting_ = ev;
            owner_of(ev) = shared_from_this();
            return;
        }
        if (auto obs = std::move(obs_)) obs->done(link_.result());
    }

private:
    struct Completion final : Event::Hook {
        DetachedSplice* self;
        void on_event() override { self->defer_from(self->link_.state(0), &self->link_.state(1)); }
    };
    struct Written final : Event::Hook {
        DetachedSplice* self;
        void on_event() override {
            auto* ev = std::exchange(self->waiting_, nullptr);
            ev->set_hook(nullptr);
            self->defer_from(self->owner_state(ev), nullptr);
        }
    };

    // Moves the ownership held by `st` (and drops `other`'s) into one deferred call.
    void defer_from(ChannelState& st, ChannelState* other) {
        auto me = std::static_pointer_cast<DetachedSplice>(std::move(st.splice_owner));
        if (other) other->splice_owner.reset();
        if (me) DeferredWakes::defer(link_.executor(), std::move(me));
    }
    ChannelState& owner_state(Event* ev) { return &link_.state(0).write_ev == ev ? link_.state(0) : link_.state(1); }
    std::shared_ptr<void>& owner_of(Event* ev) { return owner_state(ev).splice_owner; }

    Link link_;
    std::shared_ptr<SpliceObserver> obs_;
    Completion completion_;
    Written written_;
    Event* waiting_ = nullptr;
    bool closed_ = false;
};

}  // namespace

void splice(Channel a, Channel b, std::shared_ptr<SpliceObserver> obs) {
    auto ex = a.session().get_executor();
    if (ex != b.session().get_executor()) {
        a.close();
        b.close();
        obs->started();
        boost::asio::post(ex, [obs = std::move(obs)] { obs->done(SpliceResult{}); });
        return;
    }
    DetachedSplice::start(make_recycled<DetachedSplice>(std::move(a), std::move(b), ex, std::move(obs)));
}

namespace {
struct Callbacks final : SpliceObserver {
    std::function<void()> on_started;
    std::function<void(SpliceResult)> on_done;
    void started() override {
        if (on_started) on_started();
    }
    void done(const SpliceResult& r) override {
        if (on_done) on_done(r);
    }
};
}  // namespace

void splice(Channel a, Channel b, std::function<void()> started, std::function<void(SpliceResult)> done) {
    auto obs = std::make_shared<Callbacks>();
    obs->on_started = std::move(started);
    obs->on_done = std::move(done);
    splice(std::move(a), std::move(b), std::move(obs));
}

Task<SpliceResult> splice(Channel a, Channel b) { return splice(std::move(a), std::move(b), std::function<void()>{}); }

Task<SpliceResult> splice(Channel a, Channel b, std::function<void()> started) {
    auto ex = a.session().get_executor();
    if (ex != b.session().get_executor()) {
        a.close();
        b.close();
        if (started) started();
        co_return SpliceResult{};
    }
    Link link(std::move(a), std::move(b), ex);
    link.start();
    if (started) started();
    while (!link.complete()) co_await link.finished().wait();
    link.close_channels();
    // close_channels() unhooked the events: wait on them like any writer.
    while (auto* ev = link.pending_writes()) co_await ev->wait();
    co_return link.result();
}

}  // namespace qtalk::mux
