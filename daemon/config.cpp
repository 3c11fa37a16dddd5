// Strict parsing of qtalkd.json over the embedded defaults: every problem is collected (not just
// the first) as "<field path>: <reason>", so --check-config shows them all at once. Which values
// take effect on SIGHUP is the launcher's business (config/README.md).
#include "config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include "qtalk/transport/url.hpp"

namespace qtalkd {
namespace {

using nlohmann::json;
using Keys = std::initializer_list<std::string_view>;

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string octal(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0%03o", mode);
    return buf;
}

class Parser {
public:
    Parser(std::vector<std::string>& errors, std::string prefix) : errors_(errors), prefix_(std::move(prefix)) {}

    void error(const std::string& path, std::string_view reason) {
        errors_.push_back(prefix_ + path + ": " + std::string(reason));
    }
    std::size_t error_count() const { return errors_.size(); }

    // Type-checks `j` as an object and reports keys outside `allowed`.
    bool object(const json& j, const std::string& path, Keys allowed) {
        if (!j.is_object()) {
            error(path.empty() ? "config" : path, "must be an object");
            return false;
        }
        for (auto& [key, _] : j.items())
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) error(join(path, key), "unknown key");
        return true;
    }

    template <class T>
    void integer(const json& obj, const std::string& path, std::string_view key, T& out, std::uint64_t lo, std::uint64_t hi) {
        auto it = obj.find(key);
        if (it == obj.end()) return;
        if (it->is_number_unsigned() || (it->is_number_integer() && it->template get<std::int64_t>() >= 0)) {
            auto v = it->template get<std::uint64_t>();
            if (v >= lo && v <= hi) {
                out = static_cast<T>(v);
                return;
            }
        }
        error(join(path, key), "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
    }

    void seconds(const json& obj, const std::string& path, std::string_view key, std::chrono::seconds& out,
                 std::uint64_t lo, std::uint64_t hi) {
        std::uint64_t v = static_cast<std::uint64_t>(out.count());
        integer(obj, path, key, v, lo, hi);
        out = std::chrono::seconds(v);
    }

    bool string(const json& obj, const std::string& path, std::string_view key, std::string& out) {
        auto it = obj.find(key);
        if (it == obj.end()) return false;
        if (!it->is_string()) {
            error(join(path, key), "must be a string");
            return false;
        }
        out = it->get<std::string>();
        return true;
    }

    void optional_string(const json& obj, const std::string& path, std::string_view key, std::optional<std::string>& out) {
        auto it = obj.find(key);
        if (it == obj.end()) return;
        if (it->is_null()) out.reset();
        else if (it->is_string()) out = it->get<std::string>();
        else error(join(path, key), "must be a string or null");
    }

    void one_of(const json& obj, const std::string& path, std::string_view key, std::string& out, Keys allowed) {
        std::string v;
        if (!string(obj, path, key, v)) return;
        if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) {
            out = v;
            return;
        }
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(join(path, key), "must be one of " + list);
    }

    // Permissions as an octal string ("0660"): JSON has no octal literals, and 432 reads badly.
    bool mode(const json& obj, const std::string& path, std::string_view key, unsigned& out) {
        auto it = obj.find(key);
        if (it == obj.end()) return false;
        if (it->is_string()) {
            auto s = it->get<std::string>();
            unsigned v = 0;
            bool ok = s.size() >= 3 && s.size() <= 4;
            for (char c : s) {
                ok = ok && c >= '0' && c <= '7';
                v = v * 8 + unsigned(c - '0');
            }
            if (ok && v <= 0777) {
                out = v;
                return true;
            }
        }
        error(join(path, key), "must be an octal permission string between \"0000\" and \"0777\"");
        return false;
    }

private:
    std::vector<std::string>& errors_;
    std::string prefix_;  // "<file>: " when parsing a file
};

// systemd's rule for FileDescriptorName= (sd_listen_fds_with_names(3)).
bool valid_fd_name(const std::string& n) {
    if (n.empty() || n.size() > 255) return false;
    for (unsigned char c : n)
        if (c < 0x20 || c > 0x7e || c == ':') return false;
    return true;
}

void parse_listeners(Parser& p, const json& j, Config& c) {
    const std::string path = "listeners";
    if (!j.is_array()) return p.error(path, "must be an array");
    if (j.empty()) return p.error(path, "must not be empty");
    std::vector<ListenerConfig> out;
    for (std::size_t i = 0; i < j.size(); ++i) {
        const auto at = index(path, i);
        if (!p.object(j[i], at, {"url", "name", "mode"})) continue;
        ListenerConfig l;
        bool has_mode = p.mode(j[i], at, "mode", l.mode);
        p.optional_string(j[i], at, "name", l.name);
        if (l.name && !valid_fd_name(*l.name))
            p.error(join(at, "name"), "must be 1 to 255 printable ASCII characters without ':'");
        if (!j[i].contains("url")) {
            p.error(join(at, "url"), "required");
        } else if (p.string(j[i], at, "url", l.url)) {
            auto u = qtalk::transport::parse_url(l.url);
            using qtalk::transport::Scheme;
            if (!u) p.error(join(at, "url"), "invalid transport URL");
            else if (u->scheme != Scheme::tcp && u->scheme != Scheme::unix_socket && u->scheme != Scheme::ws)
                p.error(join(at, "url"), "not a listening transport (tcp, unix or ws)");
            else if (has_mode && u->scheme != Scheme::unix_socket)
                p.error(join(at, "mode"), "only valid for unix:// listeners");
        }
        for (std::size_t k = 0; k < out.size(); ++k) {
            if (!l.url.empty() && out[k].url == l.url) p.error(join(at, "url"), "duplicate of " + index(path, k) + ".url");
            if (l.name && out[k].name == l.name) p.error(join(at, "name"), "duplicate of " + index(path, k) + ".name");
        }
        out.push_back(std::move(l));
    }
    c.listeners = std::move(out);
}

void parse_admin(Parser& p, const json& j, Config& c) {
    if (!p.object(j, "admin", {"url", "mode", "group"})) return;
    if (p.string(j, "admin", "url", c.admin.url) && c.admin.url != "none") {
        auto u = qtalk::transport::parse_url(c.admin.url);
        if (!u) p.error("admin.url", "invalid transport URL");
        else if (u->scheme != qtalk::transport::Scheme::unix_socket) p.error("admin.url", "must be a unix:// URL or \"none\"");
    }
    p.mode(j, "admin", "mode", c.admin.mode);
    p.optional_string(j, "admin", "group", c.admin.group);
    if (c.admin.group && c.admin.group->empty()) p.error("admin.group", "must not be empty (use null for none)");
}

void parse_root(Parser& p, const json& j, Config& c) {
    if (!p.object(j, "", {"listeners", "admin", "log", "limits", "timeouts", "ws"})) return;
    if (auto it = j.find("listeners"); it != j.end()) parse_listeners(p, *it, c);
    if (auto it = j.find("admin"); it != j.end()) parse_admin(p, *it, c);
    if (auto it = j.find("log"); it != j.end() && p.object(*it, "log", {"level", "format"})) {
        p.one_of(*it, "log", "level", c.log.level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
        p.one_of(*it, "log", "format", c.log.format, {"text", "json"});
    }
    constexpr std::uint64_t u32 = 0xffffffffu;
    if (auto it = j.find("limits"); it != j.end() &&
        p.object(*it, "limits", {"max_sessions", "max_channels_per_session", "window", "max_packet", "max_call_header",
                                 "watcher_backlog", "provider_spare_channels"})) {
        auto& l = c.limits;
        p.integer(*it, "limits", "max_sessions", l.max_sessions, 1, u32);
        p.integer(*it, "limits", "max_channels_per_session", l.max_channels_per_session, 1, u32);
        // 9 = the smallest DATA message (PROTOCOL §2.2) a peer could ever send in one go.
        p.integer(*it, "limits", "window", l.window, 9, u32);
        p.integer(*it, "limits", "max_packet", l.max_packet, 9, u32);
        // A call header must hold a selector; beyond 16 MiB the limit no longer protects anything.
        p.integer(*it, "limits", "max_call_header", l.max_call_header, 64, 16u << 20);
        p.integer(*it, "limits", "watcher_backlog", l.watcher_backlog, 1, u32);
        // Spares beyond the calls a provider has in flight save nothing; 64 bounds what the hub
        // holds open to every provider.
        p.integer(*it, "limits", "provider_spare_channels", l.provider_spare_channels, 0, 64);
    }
    if (auto it = j.find("timeouts"); it != j.end() && p.object(*it, "timeouts", {"provider_open_s", "drain_s", "ws_idle_s"})) {
        p.seconds(*it, "timeouts", "provider_open_s", c.timeouts.provider_open, 1, 3600);
        p.seconds(*it, "timeouts", "drain_s", c.timeouts.drain, 0, 3600);  // 0: close at once
        p.seconds(*it, "timeouts", "ws_idle_s", c.timeouts.ws_idle, 1, 86400);
    }
    if (auto it = j.find("ws"); it != j.end() && p.object(*it, "ws", {"allowed_origins", "max_message_size"})) {
        if (auto o = it->find("allowed_origins"); o != it->end()) {
            if (!o->is_array()) {
                p.error("ws.allowed_origins", "must be an array");
            } else {
                c.ws.allowed_origins.clear();
                for (std::size_t i = 0; i < o->size(); ++i) {
                    if ((*o)[i].is_string()) c.ws.allowed_origins.push_back((*o)[i].get<std::string>());
                    else p.error(index("ws.allowed_origins", i), "must be a string");
                }
            }
        }
        p.integer(*it, "ws", "max_message_size", c.ws.max_message_size, 1, u32);
    }
}

// Cross-field rules, checked once each field is valid on its own.
void check_consistency(Parser& p, const Config& c) {
    // A peer may put one whole DATA message of max_packet bytes into one WebSocket message (§3).
    if (c.ws.max_message_size < std::uint64_t(c.limits.max_packet) + 9)
        p.error("ws.max_message_size", "must be at least limits.max_packet + 9 (" +
                                           std::to_string(std::uint64_t(c.limits.max_packet) + 9) + ")");
    for (std::size_t i = 0; i < c.listeners.size(); ++i)
        if (c.admin.enabled() && c.listeners[i].url == c.admin.url) p.error("admin.url", "same as " + index("listeners", i) + ".url");
}

// Reports keys that appear twice in one object: nlohmann keeps the last silently.
struct DuplicateKeys {
    struct Frame {
        std::string path;
        bool array = false;
        std::size_t next = 0;
        std::set<std::string> keys;
    };
    Parser& p;
    std::vector<Frame> stack;
    std::string pending;  // path of the value about to start

    bool operator()(int, json::parse_event_t ev, json& parsed) {
        using E = json::parse_event_t;
        auto child = [&] {
            if (!stack.empty() && stack.back().array) pending = index(stack.back().path, stack.back().next++);
        };
        switch (ev) {
        case E::object_start:
        case E::array_start:
            child();
            stack.push_back({stack.empty() ? "" : pending, ev == E::array_start, 0, {}});
            break;
        case E::key: {
            auto k = parsed.get<std::string>();
            pending = join(stack.back().path, k);
            if (!stack.back().keys.insert(k).second) p.error(pending, "duplicate key");
            break;
        }
        case E::value: child(); break;
        case E::object_end:
        case E::array_end: stack.pop_back(); break;
        }
        return true;
    }
};

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
        if (text[i] == '\n') ++line, col = 1;
        else ++col;
    }
    return {line, col};
}

// `source` names the text in syntax errors; `prefix` precedes every field error.
ConfigResult parse(std::string_view text, const Config& defaults, const std::string& source, std::string prefix) {
    ConfigResult r;
    Parser p(r.errors, std::move(prefix));
    json j;
    try {
        j = json::parse(text, DuplicateKeys{p, {}, {}});
    } catch (const json::parse_error& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: <what>"
        std::string what = e.what();
        if (auto at = what.find(": "); at != std::string::npos) what = what.substr(at + 2);
        auto [line, col] = line_column(text, e.byte);
        r.errors = {source + ":" + std::to_string(line) + ":" + std::to_string(col) + ": invalid JSON: " + what};
        return r;
    }
    Config c = defaults;
    parse_root(p, j, c);
    if (p.error_count() == 0) check_consistency(p, c);
    if (p.error_count() == 0) r.config = std::move(c);
    return r;
}

}  // namespace

Config default_config(bool user_instance, std::string runtime_dir) {
    Config c;
    c.listeners = {
        {limits::default_tcp, "tcp"},
        {limits::default_ws, "ws"},
        {"unix://" + runtime_dir + "/qtalkd.sock", "unix"},
    };
    c.admin.url = "unix://" + runtime_dir + "/admin.sock";
    c.admin.mode = user_instance ? 0600 : 0660;
    return c;
}

ConfigResult parse_config(std::string_view json_text, const Config& defaults) {
    return parse(json_text, defaults, "config", "");
}

ConfigResult load_config_file(const std::string& path, const Config& defaults) {
    auto fail = [&](int err) {
        return ConfigResult{std::nullopt, {path + ": cannot read: " + std::generic_category().message(err)}};
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    std::string text;
    char buf[8192];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return fail(err);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return parse(text, defaults, path, path + ": ");
}

nlohmann::json to_json(const Config& c) {
    json listeners = json::array();
    for (auto& l : c.listeners) {
        json j = {{"url", l.url}, {"name", l.name ? json(*l.name) : json(nullptr)}};
        if (l.url.starts_with("unix://")) j["mode"] = octal(l.mode);
        listeners.push_back(std::move(j));
    }
    return {
        {"listeners", std::move(listeners)},
        {"admin", {{"url", c.admin.url}, {"mode", octal(c.admin.mode)},
                   {"group", c.admin.group ? json(*c.admin.group) : json(nullptr)}}},
        {"log", {{"level", c.log.level}, {"format", c.log.format}}},
        {"limits", {{"max_sessions", c.limits.max_sessions},
                    {"max_channels_per_session", c.limits.max_channels_per_session},
                    {"window", c.limits.window},
                    {"max_packet", c.limits.max_packet},
                    {"max_call_header", c.limits.max_call_header},
                    {"watcher_backlog", c.limits.watcher_backlog},
                    {"provider_spare_channels", c.limits.provider_spare_channels}}},
        {"timeouts", {{"provider_open_s", c.timeouts.provider_open.count()},
                      {"drain_s", c.timeouts.drain.count()},
                      {"ws_idle_s", c.timeouts.ws_idle.count()}}},
        {"ws", {{"allowed_origins", c.ws.allowed_origins}, {"max_message_size", c.ws.max_message_size}}},
    };
}

HubOptions hub_options(const Config& c) {
    HubOptions o;
    o.mux.window = c.limits.window;
    o.mux.max_packet = c.limits.max_packet;
    o.mux.max_channels = c.limits.max_channels_per_session;
    o.max_call_header = c.limits.max_call_header;
    o.provider_open_timeout = c.timeouts.provider_open;
    o.watcher_backlog = static_cast<std::size_t>(c.limits.watcher_backlog);
    o.provider_spare_channels = static_cast<std::size_t>(c.limits.provider_spare_channels);
    o.max_sessions = static_cast<std::size_t>(c.limits.max_sessions);
    return o;
}

qtalk::transport::ListenOptions listen_options(const Config& c, const ListenerConfig& l) {
    qtalk::transport::ListenOptions o;
    o.allowed_origins = c.ws.allowed_origins;
    o.max_message_size = static_cast<std::size_t>(c.ws.max_message_size);
    o.ws_idle_timeout = c.timeouts.ws_idle;
    if (l.url.starts_with("unix://")) o.unix_mode = l.mode;
    return o;
}

qtalk::transport::ListenOptions admin_listen_options(const Config& c) {
    qtalk::transport::ListenOptions o;
    o.unix_mode = c.admin.mode;
    return o;
}

}  // namespace qtalkd
