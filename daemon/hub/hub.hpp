// The hub (PROTOCOL §5): session table, per-call dispatch (intake -> qtalk.* method or route
// -> splice), watchers and counters. Reads no files and no environment: the launcher (main)
// hands it listeners and options. Everything runs on one executor (single-threaded).
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "hub/channel_pool.hpp"
#include "hub/intake.hpp"
#include "hub/limits.hpp"
#include "hub/registry.hpp"
#include "qtalk/mux/session.hpp"
#include "qtalk/transport/listener.hpp"

namespace qtalkd {

struct HubOptions {
    qtalk::mux::Options mux;                 // window/max packet advertised to every session (§5.8)
    std::uint32_t max_call_header = limits::max_call_header;
    std::chrono::milliseconds provider_open_timeout = limits::provider_open_timeout;
    std::size_t provider_spare_channels = limits::provider_spare_channels;  // per provider session; 0: none
    std::chrono::milliseconds provider_spare_hold = limits::provider_spare_hold;  // before grown spares halve
    std::size_t watcher_backlog = limits::watcher_backlog;
    std::size_t max_sessions = 100000;
    HubOptions() {
        mux.window = limits::hub_window;
        mux.max_packet = limits::hub_max_packet;
    }
};

struct HubStats {
    std::chrono::system_clock::time_point started_at;
    std::uint64_t sessions_total = 0, calls_total = 0, calls_active = 0, calls_routed = 0, errors = 0;
    std::uint64_t bytes_in_closed = 0, bytes_out_closed = 0;  // of sessions that have ended
};

class Watcher;

class Hub : public std::enable_shared_from_this<Hub> {
public:
    Hub(boost::asio::any_io_executor ex, HubOptions opts);
    ~Hub();

    // Accepts sessions from `l` until it is closed. Privileged listeners serve qtalk.admin.*.
    // `key` names the listener for close_listener() (default: its URL).
    void serve(std::unique_ptr<qtalk::transport::Listener> l, bool privileged, std::string key = {});
    // Stops one listener (SIGHUP reload); its sessions stay. False if there is none by that key.
    bool close_listener(const std::string& key);
    bool has_listener(const std::string& key) const;
    std::vector<std::string> listener_keys() const;
    SessionId add_session(std::unique_ptr<qtalk::transport::Stream> s, bool privileged);
    // Stops accepting (listeners closed); sessions stay.
    void stop_listening();
    // Closes every session.
    void close_all();
    // Graceful stop (SIGTERM): stop accepting, let in-flight calls finish up to `grace`, then
    // close every session. Completes when done.
    qtalk::rpc::Task<void> drain(std::chrono::milliseconds grace);
    bool kick(SessionId id);

    std::size_t session_count() const { return sessions_.size(); }
    const Registry& registry() const { return registry_; }
    const HubStats& stats() const { return stats_; }
    const ChannelPool& pool() const { return pool_; }
    const HubOptions& options() const { return opts_; }
    // New limits apply to sessions accepted from now on (SIGHUP); existing ones keep theirs.
    void set_options(HubOptions opts) { opts_ = std::move(opts); }
    std::vector<std::string> listener_urls() const;

    // Admin views (PROTOCOL §5.6).
    nlohmann::json admin_sessions() const;
    nlohmann::json admin_services() const;
    nlohmann::json admin_stats() const;

    struct SessionRecord {
        SessionId id;
        std::shared_ptr<qtalk::mux::Session> session;
        qtalk::transport::PeerInfo peer;
        bool privileged = false;
        std::chrono::system_clock::time_point connected_at;
        std::vector<std::shared_ptr<Watcher>> watchers;
    };

private:
    friend struct Methods;
    class Call;
    // A call's life, in one Call object: the intake runs without a coroutine (a channel
    // watcher), then dispatch() routes it at once when the provider has a spare channel;
    // errors, qtalk.* methods and routes that must open a channel first go on as a coroutine
    // (finish_call), which hands a routed call to forward() too.
    void accept_call(SessionId from, qtalk::mux::Channel ch);
    void dispatch(std::shared_ptr<Call> call);
    qtalk::rpc::Task<void> finish_call(std::shared_ptr<Call> call);
    // Joins the caller's channel to `out`, the header first; the call counts as active until
    // the splice is done.
    void forward(std::shared_ptr<Call> call, qtalk::mux::Channel out, const Route& target);
    void join(std::shared_ptr<Call> call);
    void call_done() { --stats_.calls_active; }
    void drop_session(SessionId id, std::error_code why);
    // After `id` registered or unregistered: keeps spare channels to it while it provides a
    // service, closes them when it provides none.
    void update_spares(SessionId id);
    void publish(const std::vector<ServiceEvent>& events);

    boost::asio::any_io_executor ex_;
    HubOptions opts_;
    Registry registry_;
    std::map<SessionId, SessionRecord> sessions_;
    ChannelPool pool_;
    struct ListenerEntry {
        std::string key;
        std::shared_ptr<qtalk::transport::Listener> listener;  // the accept loop holds a copy
        bool privileged;
    };
    std::vector<ListenerEntry> listeners_;
    SessionId next_id_ = 1;
    HubStats stats_;
};

}  // namespace qtalkd
