// Tables and units for qtalkctl's human output. Tolerant of missing or extra keys: a hub newer
// than qtalkctl may add fields (stats prints unknown keys as they are), an older one omit them.
#include "ctl/format.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

namespace qtalkd::ctl {
using nlohmann::json;

namespace {
// A cell from a scalar: strings as they are, null/missing as "-", numbers without quotes.
std::string cell(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
    return dump(v);
}
std::string field(const json& obj, const char* key) { return cell(obj.is_object() ? obj.value(key, json()) : json()); }
std::uint64_t number(const json& obj, const char* key) {
    auto v = obj.is_object() ? obj.value(key, json()) : json();
    return v.is_number() ? v.get<std::uint64_t>() : 0;
}
std::string join(const json& arr) {
    if (!arr.is_array() || arr.empty()) return "-";
    std::string out;
    for (auto& v : arr) {
        if (!out.empty()) out += ',';
        out += cell(v);
    }
    return out;
}
std::string size_field(const json& obj, const char* key) {
    return obj.is_object() && obj.value(key, json()).is_number() ? human_size(number(obj, key)) : "-";
}
}  // namespace

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& r) {
        std::string out;
        for (std::size_t i = 0; i < width.size(); ++i) {
            const std::string& c = i < r.size() ? r[i] : std::string();
            std::string pad(width[i] - std::min(width[i], c.size()), ' ');
            bool last = i + 1 == width.size();
            out += i < right.size() && right[i] ? pad + c : (last ? c : c + pad);
            if (!last) out += "  ";
        }
        return out + "\n";
    };
    std::string out = line(header);
    for (auto& r : rows) out += line(r);
    return out;
}

std::string human_size(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes) / 1024;
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string human_duration(std::int64_t s) {
    if (s < 0) return "-";
    // The two most significant units, as in "1h2m" (PROTOCOL-independent, like systemctl).
    const std::int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    auto two = [](std::int64_t a, const char* ua, std::int64_t b, const char* ub) {
        return std::to_string(a) + ua + (b ? std::to_string(b) + ub : "");
    };
    if (d) return two(d, "d", h, "h");
    if (h) return two(h, "h", m, "m");
    if (m) return two(m, "m", sec, "s");
    return std::to_string(sec) + "s";
}

std::int64_t age_seconds(const std::string& text) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (*end != 'Z' && *end != 'z')) return -1;
    auto t = std::chrono::system_clock::from_time_t(::timegm(&tm));
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t).count();
}

std::string format_sessions(const json& sessions) {
    std::vector<std::vector<std::string>> rows;
    bool any_privileged = false;
    for (auto& s : sessions) {
        auto at = s.is_object() ? s.value("connected_at", json()) : json();
        std::string connected = at.is_string() ? human_duration(age_seconds(at.get<std::string>())) : "-";
        std::string id = field(s, "id");
        if (s.is_object() && s.value("privileged", false)) {
            id += "*";
            any_privileged = true;
        }
        rows.push_back({id, field(s, "transport"), field(s, "remote"), field(s, "uid"), field(s, "pid"), connected,
                        field(s, "channels"), size_field(s, "bytes_in"), size_field(s, "bytes_out"),
                        join(s.is_object() ? s.value("services", json()) : json())});
    }
    return table({"ID", "TRANSPORT", "REMOTE", "UID", "PID", "CONNECTED", "CHANNELS", "IN", "OUT", "SERVICES"}, rows,
                 {true, false, false, true, true, true, true, true, true, false}) +
           (any_privileged ? "(* privileged: connected to the admin socket)\n" : "");
}

std::string format_services(const json& services) {
    std::vector<std::vector<std::string>> rows;
    for (auto& s : services) {
        bool shared = s.is_object() && s.value("shared", false);
        rows.push_back({field(s, "name"), shared ? "shared" : "exclusive", field(s, "owner"),
                        join(s.is_object() ? s.value("sessions", json()) : json()), field(s, "calls")});
    }
    return table({"NAME", "MODE", "OWNER", "SESSIONS", "CALLS"}, rows, {false, false, true, false, true});
}

std::string format_listing(const json& services) {
    if (!services.is_array() || services.empty()) return "no services\n";
    std::vector<std::vector<std::string>> rows;
    for (auto& s : services) {
        bool shared = s.is_object() && s.value("shared", false);
        rows.push_back({field(s, "name"), shared ? "shared" : "exclusive", field(s, "providers")});
    }
    return table({"NAME", "MODE", "PROVIDERS"}, rows, {false, false, true});
}

std::string format_event(const json& e) {
    if (!e.is_object() || !e.contains("event")) return dump(e) + "\n";
    return field(e, "event") + " " + field(e, "name") + "\n";
}

std::string format_stats(const json& st) {
    if (!st.is_object()) return dump(st) + "\n";
    std::set<std::string> shown;
    std::vector<std::vector<std::string>> rows;
    auto add = [&](std::string key, std::string value, std::initializer_list<const char*> used) {
        for (auto u : used) shown.insert(u);
        rows.push_back({std::move(key), std::move(value)});
    };
    auto has = [&](const char* k) { return st.contains(k); };
    if (has("started_at")) add("started", field(st, "started_at"), {"started_at"});
    if (has("uptime_s")) add("uptime", human_duration(static_cast<std::int64_t>(number(st, "uptime_s"))), {"uptime_s"});
    if (has("sessions"))
        add("sessions",
            field(st, "sessions") + (has("sessions_total") ? " (" + field(st, "sessions_total") + " since start)" : ""),
            {"sessions", "sessions_total"});
    if (has("services")) add("services", field(st, "services"), {"services"});
    if (has("channels")) add("channels", field(st, "channels"), {"channels"});
    if (has("calls_total"))
        add("calls", field(st, "calls_total") + " total, " + field(st, "calls_active") + " active, " +
                         field(st, "calls_routed") + " routed",
            {"calls_total", "calls_active", "calls_routed"});
    if (has("errors")) add("errors", field(st, "errors"), {"errors"});
    if (has("bytes_in")) add("bytes in", size_field(st, "bytes_in"), {"bytes_in"});
    if (has("bytes_out")) add("bytes out", size_field(st, "bytes_out"), {"bytes_out"});
    if (has("memory_rss_bytes")) add("memory (rss)", size_field(st, "memory_rss_bytes"), {"memory_rss_bytes"});
    for (auto& [k, v] : st.items())
        if (!shown.count(k)) rows.push_back({k, cell(v)});
    std::string out;
    std::size_t w = 0;
    for (auto& r : rows) w = std::max(w, r[0].size());
    for (auto& r : rows) out += r[0] + std::string(w - r[0].size() + 2, ' ') + r[1] + "\n";
    return out;
}

}  // namespace qtalkd::ctl
