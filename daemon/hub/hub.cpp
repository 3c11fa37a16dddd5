// Hub: sessions, call dispatch and routing (PROTOCOL §5.1, §5.2, §5.4, §5.5).
#include "hub/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "hub/errors.hpp"
#include "hub/intake.hpp"
#include "hub/methods.hpp"
#include "hub/watcher.hpp"
#include "qtalk/log.hpp"
#include "qtalk/mux/splice.hpp"
#include "qtalk/mux/recycled.hpp"

namespace qtalkd {
namespace net = boost::asio;
using qtalk::mux::Channel;
using qtalk::rpc::Task;

Hub::Hub(net::any_io_executor ex, HubOptions opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), pool_(ex_, opts_.provider_spare_hold) {
    stats_.started_at = std::chrono::system_clock::now();
}

Hub::~Hub() = default;

void Hub::serve(std::unique_ptr<qtalk::transport::Listener> l, bool privileged, std::string key) {
    std::shared_ptr<qtalk::transport::Listener> lp(std::move(l));
    if (key.empty()) key = lp->url();
    listeners_.push_back({std::move(key), lp, privileged});
    std::weak_ptr<Hub> weak = weak_from_this();
    net::co_spawn(ex_, [weak, lp, privileged]() -> Task<void> {
        for (;;) {
            auto s = co_await lp->accept();
            auto self = weak.lock();
            if (!self || !s) {
                if (self && s.error() != qtalk::transport::Errc::closed)
                    qtalk::log::get("hub")->error("accept failed url={} reason=\"{}\"", lp->url(), s.error().message());
                co_return;
            }
            self->add_session(std::move(*s), privileged);
        }
    }, net::detached);
}

std::vector<std::string> Hub::listener_urls() const {
    std::vector<std::string> out;
    for (auto& l : listeners_) out.push_back(l.listener->url());
    return out;
}

std::vector<std::string> Hub::listener_keys() const {
    std::vector<std::string> out;
    for (auto& l : listeners_) out.push_back(l.key);
    return out;
}

bool Hub::has_listener(const std::string& key) const {
    return std::any_of(listeners_.begin(), listeners_.end(), [&](auto& l) { return l.key == key; });
}

bool Hub::close_listener(const std::string& key) {
    auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](auto& l) { return l.key == key; });
    if (it == listeners_.end()) return false;
    qtalk::log::get("hub")->info("listener closed url={}", it->listener->url());
    it->listener->close();
    listeners_.erase(it);
    return true;
}

void Hub::stop_listening() {
    for (auto& l : listeners_) l.listener->close();
}

void Hub::close_all() {
    std::vector<std::shared_ptr<qtalk::mux::Session>> all;
    for (auto& [_, r] : sessions_) all.push_back(r.session);
    for (auto& s : all) s->close();
}

SessionId Hub::add_session(std::unique_ptr<qtalk::transport::Stream> s, bool privileged) {
    auto log = qtalk::log::get("hub");
    if (sessions_.size() >= opts_.max_sessions) {
        log->warn("session refused remote={} reason=max_sessions limit={}", s->peer().remote, opts_.max_sessions);
        s->close();
        return 0;
    }
    auto id = next_id_++;
    ++stats_.sessions_total;
    auto mopts = opts_.mux;
    mopts.name = std::to_string(id);
    SessionRecord rec;
    rec.id = id;
    rec.peer = s->peer();
    rec.privileged = privileged;
    rec.connected_at = std::chrono::system_clock::now();
    rec.session = qtalk::mux::Session::start(std::move(s), mopts);
    log->info("session opened session={} transport={} remote={}{}", id, rec.peer.transport, rec.peer.remote,
              privileged ? " privileged=true" : "");
    std::weak_ptr<Hub> weak = weak_from_this();
    rec.session->set_acceptor([weak, id](Channel ch) {
        if (auto self = weak.lock()) self->accept_call(id, std::move(ch));
    });
    rec.session->on_closed([weak, id](std::error_code why) {
        if (auto self = weak.lock()) self->drop_session(id, why);
    });
    sessions_.emplace(id, std::move(rec));
    return id;
}

Task<void> Hub::drain(std::chrono::milliseconds grace) {
    auto self = shared_from_this();
    auto log = qtalk::log::get("hub");
    stop_listening();
    auto deadline = std::chrono::steady_clock::now() + grace;
    net::steady_timer t(ex_);
    log->info("draining sessions={} calls_active={} grace_ms={}", sessions_.size(), stats_.calls_active, grace.count());
    // Watch subscriptions are not counted as active calls: they never finish on their own.
    auto busy = [&] { return stats_.calls_active > 0; };
    while (busy() && std::chrono::steady_clock::now() < deadline) {
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (busy()) log->warn("drain timeout calls_active={}", stats_.calls_active);
    close_all();
}

bool Hub::kick(SessionId id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    qtalk::log::get("hub")->info("session kicked session={}", id);
    it->second.session->close();
    return true;
}

void Hub::drop_session(SessionId id, std::error_code why) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    auto st = it->second.session->stats();
    stats_.bytes_in_closed += st.bytes_in;
    stats_.bytes_out_closed += st.bytes_out;
    for (auto& w : it->second.watchers) w->close();
    pool_.drop(id);  // spares hold the session: none may outlive it
    qtalk::log::get("hub")->info("session closed session={} remote={} reason=\"{}\" bytes_in={} bytes_out={}", id,
                                 it->second.peer.remote, why.message(), st.bytes_in, st.bytes_out);
    sessions_.erase(it);
    publish(registry_.drop_session(id));  // failover, group shrink, `down` events (§5.5)
}

void Hub::update_spares(SessionId id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || registry_.names_of(id).empty()) {
        pool_.drop(id);
        return;
    }
    pool_.keep(id, it->second.session, opts_.provider_spare_channels, opts_.provider_open_timeout);
}

void Hub::publish(const std::vector<ServiceEvent>& events) {
    for (auto& ev : events) {
        nlohmann::json j{{"event", ev.kind == ServiceEvent::up ? "up" : "down"}, {"name", ev.name}};
        for (auto& [_, rec] : sessions_) {
            std::erase_if(rec.watchers, [](auto& w) { return w->closed(); });
            for (auto& w : rec.watchers) w->push(j);
        }
    }
}


// One call through the hub: reads its header as the bytes arrive (PROTOCOL §5.2), then reports
// to the splice that joins it to its provider.
class Hub::Call final : public qtalk::mux::Watcher,
                        public qtalk::mux::SpliceObserver,
                        public std::enable_shared_from_this<Hub::Call> {
public:
    Call(std::shared_ptr<Hub> hub, SessionId from, Channel ch)
        : hub(std::move(hub)), from(from), caller(std::move(ch)), parser(this->hub->opts_.max_call_header) {}

    Intake& intake() { return parser.intake(); }

    void on_channel_event() override {
        if (dispatched) return;
        if (!parser.take_buffered(caller)) {
            if (!caller.eof_received() && !caller.closed() && !caller.session().is_closed()) return;  // more to come
            intake().ended = true;  // the caller went away before a whole header arrived
        }
        dispatched = true;
        caller.unwatch();  // this call still holds us
        hub->dispatch(shared_from_this());
    }

    // The replacement spare is opened behind the call, in the same write to the provider.
    void started() override {
        hub->pool_.refill(provider_id, hub->opts_.provider_spare_channels, hub->opts_.provider_open_timeout);
    }

    void done(const qtalk::mux::SpliceResult& r) override {
        provider.close();
        if (!r.lost_silent[1]) {
            caller.close();
            hub->call_done();
            return;
        }
        // The provider's session ended before it sent a byte: the caller still waits (§5.5).
        net::co_spawn(hub->ex_, [hub = hub, ch = caller, codec = intake().codec]() mutable -> Task<void> {
            co_await reply_error(ch, codec, provider_unavailable(), false);
            ch.close();
            hub->call_done();
        }, net::detached);
    }

    std::shared_ptr<Hub> hub;
    SessionId from;
    Channel caller, provider;
    SessionId provider_id = 0;
    IntakeParser parser;
    bool dispatched = false;
};

void Hub::accept_call(SessionId from, Channel ch) {
    ++stats_.calls_total;
    ++stats_.calls_active;
    ch.set_manual_credit(true);  // routed calls return credit only for forwarded bytes (§5.4)
    auto call = qtalk::mux::make_recycled<Call>(shared_from_this(), from, ch);
    ch.watch(call);
    // A channel that already holds bytes (accepted from a backlog) gets no event for them.
    if (ch.buffered() > 0 || ch.eof_received()) call->on_channel_event();
}

void Hub::dispatch(std::shared_ptr<Call> call) {
    auto& in = call->intake();
    if (in.ended) {
        call->caller.close();
        call_done();
        return;
    }
    if (!in.error && !in_hub_namespace(in.normalized)) {
        auto target = registry_.route(in.normalized);
        if (target && sessions_.contains(target->provider)) {
            if (auto out = pool_.take(target->provider)) {
                forward(std::move(call), std::move(*out), *target);
                return;
            }
        }
    }
    net::co_spawn(ex_, finish_call(std::move(call)), net::detached);
}

Task<void> Hub::finish_call(std::shared_ptr<Call> call) {
    auto self = shared_from_this();
    struct Active {
        Hub& hub;
        bool handed_on = false;  // to forward(), which ends the call
        ~Active() {
            if (!handed_on) hub.call_done();
        }
    } active{*this};
    auto& ch = call->caller;
    auto& in = call->intake();
    auto from = call->from;
    auto fail = [&](std::string msg, bool read_args) -> Task<void> {
        ++stats_.errors;
        ch.grant(static_cast<std::uint32_t>(in.header.size()));
        ch.set_manual_credit(false);
        co_await reply_error(ch, in.codec, std::move(msg), read_args);
    };
    if (in.error) {
        ++stats_.errors;
        co_await reply_error(ch, in.codec, *in.error, false);
        co_return;
    }
    if (in_hub_namespace(in.normalized)) {
        ch.grant(static_cast<std::uint32_t>(in.header.size()));
        ch.set_manual_credit(false);
        Methods methods{*this, from};
        co_await methods.dispatch(ch, std::move(in));
        if (methods.services_changed) {
            // Spares are opened behind the reply and this channel's CLOSE, so the provider sees
            // its registration finished before the first spare arrives.
            ch.close();
            update_spares(from);
        }
        co_return;
    }
    auto target = registry_.route(in.normalized);
    if (!target) {
        co_await fail(service_not_found(in.normalized), true);
        co_return;
    }
    auto it = sessions_.find(target->provider);
    if (it == sessions_.end()) {
        co_await fail(provider_unavailable(), true);
        co_return;
    }
    // A spare channel saves the OPEN/CONFIRM round trip; without one, open a channel now.
    auto out = pool_.take(target->provider);
    if (!out) {
        auto opened = co_await it->second.session->open(opts_.provider_open_timeout);
        if (!opened) {
            qtalk::log::get("router")->info("provider unavailable session={} service={} provider={} reason={}", from,
                                            target->name, target->provider, open_failure_reason(opened.error()));
            co_await fail(provider_unavailable(), true);
            co_return;
        }
        out = std::move(*opened);
    }
    active.handed_on = true;
    forward(std::move(call), std::move(*out), *target);
}

void Hub::forward(std::shared_ptr<Call> call, Channel out, const Route& target) {
    ++stats_.calls_routed;
    auto& in = call->intake();
    qtalk::log::get("router")->debug("call routed session={} selector={} service={} provider={}", call->from,
                                     in.normalized, target.name, target.provider);
    call->provider_id = target.provider;
    call->provider = std::move(out);
    if (!call->provider.try_write(in.header)) {  // no room at once (a full send budget): wait for it
        net::co_spawn(ex_, [self = shared_from_this(), call]() -> Task<void> {
            if (co_await call->provider.write(call->intake().header)) {
                self->join(call);
                co_return;
            }
            call->started();
            call->provider.close();
            co_await reply_error(call->caller, call->intake().codec, provider_unavailable(), false);
            self->call_done();
        }, net::detached);
        return;
    }
    join(std::move(call));
}

// The header is queued to the provider: credit it to the caller and join the two channels
// (credit is manual on both from here on: the splice returns only what it forwarded, §5.4).
void Hub::join(std::shared_ptr<Call> call) {
    call->caller.grant(static_cast<std::uint32_t>(call->intake().header.size()));
    auto caller = call->caller, provider = call->provider;  // before `call` is moved from
    qtalk::mux::splice(std::move(caller), std::move(provider), std::move(call));
}

}  // namespace qtalkd
