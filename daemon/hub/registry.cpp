// Registry rules of PROTOCOL §5.3 (register/unregister), §5.4 (match, pick provider) and §5.5
// (a session's end removes its registrations).
#include "hub/registry.hpp"

#include <algorithm>

#include "hub/errors.hpp"
#include "hub/limits.hpp"

namespace qtalkd {

std::string normalize_name(std::string_view name) {
    std::string s;
    if (name.empty() || name.front() != '/') s.push_back('/');
    s.append(name);
    std::replace(s.begin(), s.end(), '.', '/');
    return s;
}

NameCheck check_name(std::string_view n) {
    if (n.size() < limits::min_name || n.size() > limits::max_name || n.front() != '/') return NameCheck::invalid;
    if (n.back() == '/' || n.find("//") != std::string_view::npos) return NameCheck::invalid;
    for (unsigned char c : n)
        if (c <= 0x20 || c == 0x7f) return NameCheck::invalid;
    if (in_hub_namespace(n)) return NameCheck::reserved;
    return NameCheck::ok;
}

bool in_hub_namespace(std::string_view n) { return n == "/qtalk" || n.starts_with("/qtalk/"); }

RegisterOutcome Registry::register_service(SessionId s, std::string_view given, bool shared) {
    RegisterOutcome out;
    out.name = normalize_name(given);
    switch (check_name(out.name)) {
    case NameCheck::invalid: out.error = invalid_service_name(given); return out;
    case NameCheck::reserved: out.error = reserved_service_name(out.name); return out;
    case NameCheck::ok: break;
    }
    auto it = entries_.find(out.name);
    if (it != entries_.end() && it->second.shared != shared) {
        out.error = service_mode_conflict(out.name);
        return out;
    }
    if (it == entries_.end()) {
        it = entries_.emplace(out.name, Entry{shared, {}, 0, 0}).first;
        out.event = ServiceEvent{ServiceEvent::up, out.name};
    }
    auto& e = it->second;
    // The per-session index answers "already held?" without scanning the group; a session
    // re-registering in the same mode keeps its place (no change, current status).
    if (by_session_[s].insert(out.name).second) e.members.push_back(s);
    out.owner = shared || e.members.front() == s;
    return out;
}

std::optional<ServiceEvent> Registry::remove_member(const std::string& name, SessionId s) {
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    auto& m = it->second.members;
    auto pos = std::find(m.begin(), m.end(), s);
    if (pos == m.end()) return std::nullopt;
    auto index = static_cast<std::size_t>(pos - m.begin());
    m.erase(pos);  // exclusive: the head of the queue becomes owner (failover)
    if (index < it->second.next) --it->second.next;  // keep the round-robin order fair
    if (!m.empty()) return std::nullopt;
    entries_.erase(it);  // the mode is forgotten with the last registration
    return ServiceEvent{ServiceEvent::down, name};
}

UnregisterOutcome Registry::unregister_service(SessionId s, std::string_view given) {
    UnregisterOutcome out;
    out.name = normalize_name(given);
    auto owned = by_session_.find(s);
    if (owned == by_session_.end() || !owned->second.erase(out.name)) {
        out.error = not_registered(out.name);
        return out;
    }
    if (owned->second.empty()) by_session_.erase(owned);
    out.removed = true;
    out.event = remove_member(out.name, s);
    return out;
}

std::vector<ServiceEvent> Registry::drop_session(SessionId s) {
    std::vector<ServiceEvent> events;
    auto owned = by_session_.find(s);
    if (owned == by_session_.end()) return events;
    for (auto& name : owned->second)  // std::set: sorted by name
        if (auto ev = remove_member(name, s)) events.push_back(std::move(*ev));
    by_session_.erase(owned);
    return events;
}

std::optional<Route> Registry::route(std::string_view sel) {
    // Try the whole selector, then each prefix ending before a '/', longest first.
    std::size_t len = sel.size();
    for (;;) {
        auto it = entries_.find(sel.substr(0, len));
        if (it != entries_.end()) {
            auto& e = it->second;
            ++e.calls;
            SessionId provider;
            if (e.shared) {
                if (e.next >= e.members.size()) e.next = 0;
                provider = e.members[e.next++];
            } else {
                provider = e.members.front();
            }
            return Route{it->first, provider};
        }
        auto slash = sel.substr(0, len).rfind('/');
        if (slash == std::string_view::npos || slash == 0) return std::nullopt;
        len = slash;
    }
}

std::vector<ServiceSummary> Registry::services() const {
    std::vector<ServiceSummary> out;
    out.reserve(entries_.size());
    for (auto& [name, e] : entries_) out.push_back({name, e.members.size(), e.shared});
    return out;
}

std::vector<ServiceDetail> Registry::details() const {
    std::vector<ServiceDetail> out;
    out.reserve(entries_.size());
    for (auto& [name, e] : entries_) {
        // Shared groups are listed in registration order (the round-robin cycle), not rotated to
        // the cursor, so the admin view does not change with every routed call.
        ServiceDetail d{name, e.shared, std::nullopt, {e.members.begin(), e.members.end()}, e.calls};
        if (!e.shared) d.owner = e.members.front();
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<std::string> Registry::names_of(SessionId s) const {
    auto it = by_session_.find(s);
    if (it == by_session_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

}  // namespace qtalkd
