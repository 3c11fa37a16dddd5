// Service registry (PROTOCOL §5.3–§5.5): names -> exclusive owner + FIFO failover queue, or a
// shared round-robin group. Pure data: holds SessionIds, not sessions; every change returns the
// `up`/`down` event for the caller to publish (dbus-broker's NameChange pattern).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qtalkd {

using SessionId = std::uint64_t;

// Selector normalisation (§4.6) applied to names.
std::string normalize_name(std::string_view name);
// Validity (§5.3) is checked before the reserved namespace, so "/qtalk/" is invalid, not reserved.
enum class NameCheck { ok, invalid, reserved };
NameCheck check_name(std::string_view normalized);
// The hub's own namespace (§5.3): "/qtalk" and below, served by the hub, never routed.
bool in_hub_namespace(std::string_view normalized);

struct ServiceEvent {
    enum Kind { up, down } kind;
    std::string name;
    bool operator==(const ServiceEvent&) const = default;
};

struct RegisterOutcome {
    std::optional<std::string> error;
    std::string name;
    bool owner = false;
    std::optional<ServiceEvent> event;
};

struct UnregisterOutcome {
    std::optional<std::string> error;
    std::string name;
    bool removed = false;
    std::optional<ServiceEvent> event;
};

struct Route {
    std::string name;    // the registered name that matched, not the selector
    SessionId provider;
    bool operator==(const Route&) const = default;
};

struct ServiceSummary {
    std::string name;
    std::size_t providers;  // exclusive: owner + queued; shared: group size
    bool shared;
    bool operator==(const ServiceSummary&) const = default;
};

struct ServiceDetail {
    std::string name;
    bool shared;
    std::optional<SessionId> owner;   // nullopt when shared
    std::vector<SessionId> sessions;  // exclusive: owner, then queue; shared: registration order
    std::uint64_t calls;              // calls routed to this name while it has been registered
    bool operator==(const ServiceDetail&) const = default;
};

class Registry {
public:
    // `error` set: nothing changed. `event` is `up` only when the name went from 0 to 1.
    RegisterOutcome register_service(SessionId s, std::string_view name_as_given, bool shared);
    // Failover / group shrink; `event` is `down` only when the name went from 1 to 0.
    UnregisterOutcome unregister_service(SessionId s, std::string_view name_as_given);
    // Removes everything `s` holds; `down` events for names left without providers, by name.
    std::vector<ServiceEvent> drop_session(SessionId s);
    // Longest registered name equal to the selector or a prefix of it on a segment boundary;
    // advances the shared cursor and counts the call, so call it once per routed call.
    std::optional<Route> route(std::string_view normalized_selector);

    std::vector<ServiceSummary> services() const;
    std::vector<ServiceDetail> details() const;
    std::vector<std::string> names_of(SessionId s) const;
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        bool shared = false;
        std::deque<SessionId> members;  // exclusive: owner first, then the queue
        std::size_t next = 0;           // shared: index of the member picked next
        std::uint64_t calls = 0;
    };
    // Removes `s` from `name`; returns a `down` event if the name is now empty.
    std::optional<ServiceEvent> remove_member(const std::string& name, SessionId s);

    std::map<std::string, Entry, std::less<>> entries_;
    std::unordered_map<SessionId, std::set<std::string>> by_session_;
};

}  // namespace qtalkd
