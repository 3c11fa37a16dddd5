// qtalkd configuration: the embedded defaults (PROTOCOL §5.8), strict parsing of the JSON file
// (unknown keys, wrong types and bad values are errors, each "<field path>: <reason>"), and the
// mapping onto HubOptions / ListenOptions. Only the launcher reads files; the Hub gets the result.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/hub.hpp"
#include "qtalk/transport/listener.hpp"

namespace qtalkd {

struct ListenerConfig {
    std::string url;                  // tcp://, unix:// or ws:// (PROTOCOL §3)
    std::optional<std::string> name;  // FileDescriptorName= of a socket-activated fd to adopt instead
    unsigned mode = 0666;             // unix only: socket file permissions
    bool operator==(const ListenerConfig&) const = default;
};

struct AdminConfig {
    std::string url;                   // unix:// only; "none" disables the admin socket
    unsigned mode = 0660;              // socket file permissions
    std::optional<std::string> group;  // chgrp the socket to this group (default: the process's)
    bool enabled() const { return url != "none"; }
    bool operator==(const AdminConfig&) const = default;
};

struct LogConfig {
    std::string level = "info";   // trace|debug|info|warn|error|critical|off
    std::string format = "text";  // text|json (stderr only; the journal gets structured fields)
    bool operator==(const LogConfig&) const = default;
};

struct LimitsConfig {
    std::uint64_t max_sessions = 100000;
    std::uint32_t max_channels_per_session = 65536;
    std::uint32_t window = limits::hub_window;
    std::uint32_t max_packet = limits::hub_max_packet;
    std::uint32_t max_call_header = limits::max_call_header;
    std::uint64_t watcher_backlog = limits::watcher_backlog;
    std::uint64_t provider_spare_channels = limits::provider_spare_channels;
    bool operator==(const LimitsConfig&) const = default;
};

struct TimeoutsConfig {
    std::chrono::seconds provider_open{30};
    std::chrono::seconds drain{10};
    std::chrono::seconds ws_idle{60};
    bool operator==(const TimeoutsConfig&) const = default;
};

struct WsConfig {
    std::vector<std::string> allowed_origins;  // empty: any Origin (or none), PROTOCOL §3
    std::uint64_t max_message_size = 64u << 20;
    bool operator==(const WsConfig&) const = default;
};

struct Config {
    std::vector<ListenerConfig> listeners;
    AdminConfig admin;
    LogConfig log;
    LimitsConfig limits;
    TimeoutsConfig timeouts;
    WsConfig ws;
    bool operator==(const Config&) const = default;
};

// Either a config or at least one error message; never both.
struct ConfigResult {
    std::optional<Config> config;
    std::vector<std::string> errors;
    bool ok() const { return config.has_value(); }
};

// The embedded defaults. `runtime_dir` is /run/qtalk (system) or $XDG_RUNTIME_DIR/qtalk (user);
// a user instance's admin socket is owner-only (0600), a system one is group-readable (0660).
Config default_config(bool user_instance, std::string runtime_dir);

// Parses `json_text` over `defaults` (missing keys keep their default value). Syntax errors read
// "config:<line>:<column>: invalid JSON: <what>".
ConfigResult parse_config(std::string_view json_text, const Config& defaults);
// As parse_config on the file's contents; every message is prefixed with "<path>: " (syntax
// errors with "<path>:<line>:<column>: ").
ConfigResult load_config_file(const std::string& path, const Config& defaults);

// The canonical JSON form of `c` (--print-config); parse_config(to_json(c).dump(), x) == c.
nlohmann::json to_json(const Config& c);

// What the Hub and the transports take from the config.
HubOptions hub_options(const Config& c);
qtalk::transport::ListenOptions listen_options(const Config& c, const ListenerConfig& l);
qtalk::transport::ListenOptions admin_listen_options(const Config& c);

}  // namespace qtalkd
