// RespondMux matching, PROTOCOL §4.7 (Go ref semantics).
#include "qtalk/rpc/respond_mux.hpp"

#include "qtalk/rpc/selector.hpp"

namespace qtalk::rpc {

bool RespondMux::handle(std::string_view pattern, Handler handler) {
    return entries_.emplace(normalize_selector(pattern), Entry{std::move(handler), nullptr}).second;
}

bool RespondMux::handle(std::string_view pattern, std::shared_ptr<RespondMux> sub) {
    auto p = normalize_selector(pattern);
    if (!p.ends_with('/')) p.push_back('/');
    return entries_.emplace(std::move(p), Entry{nullptr, std::move(sub)}).second;
}

bool RespondMux::remove(std::string_view pattern) {
    auto p = normalize_selector(pattern);
    if (entries_.erase(p)) return true;
    return !p.ends_with('/') && entries_.erase(p + "/");
}

const Handler* RespondMux::match(std::string_view selector) const {
    if (auto it = entries_.find(selector); it != entries_.end() && !it->second.sub) return &it->second.handler;
    const std::pair<const std::string, Entry>* best = nullptr;
    for (auto& e : entries_) {
        if (e.first.ends_with('/') && selector.starts_with(e.first) && (!best || e.first.size() > best->first.size()))
            best = &e;
    }
    if (!best) return nullptr;
    if (best->second.sub) return best->second.sub->match(normalize_selector(selector.substr(best->first.size())));
    return &best->second.handler;
}

Task<void> not_found(Responder& r, Call& c) { (void)co_await r.error("not found: " + c.selector); }

Task<void> RespondMux::operator()(Responder& r, Call& c) const {
    if (auto* h = match(c.selector)) {
        co_await (*h)(r, c);
        co_return;
    }
    co_await not_found(r, c);
}

Handler RespondMux::as_handler() const {
    return [this](Responder& r, Call& c) -> Task<void> { return (*this)(r, c); };
}

}  // namespace qtalk::rpc
