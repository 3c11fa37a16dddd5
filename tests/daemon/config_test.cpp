// qtalkd config (daemon/config.cpp): embedded defaults, a full valid file, and every error class
// with its exact "<field path>: <reason>". Pure: no sockets; files only in a temp directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon/config.hpp"

using namespace qtalkd;
using Errors = std::vector<std::string>;

namespace {

const Config sys = default_config(false, "/run/qtalk");

Errors errors_of(std::string_view text) {
    auto r = parse_config(text, sys);
    EXPECT_FALSE(r.ok()) << text;
    return r.errors;
}

Config parsed(std::string_view text) {
    auto r = parse_config(text, sys);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    return r.config.value_or(Config{});
}

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
    auto dir = std::filesystem::temp_directory_path() / ("qtalk-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto p = dir / name;
    std::ofstream(p) << text;
    return p;
}

}  // namespace

TEST(DaemonConfig, SystemDefaultsFollowProtocolDefaults) {
    ASSERT_EQ(sys.listeners.size(), 3u);
    EXPECT_EQ(sys.listeners[0], (ListenerConfig{"tcp://127.0.0.1:7420", "tcp"}));
    EXPECT_EQ(sys.listeners[1], (ListenerConfig{"ws://127.0.0.1:7421/", "ws"}));
    EXPECT_EQ(sys.listeners[2], (ListenerConfig{"unix:///run/qtalk/qtalkd.sock", "unix", 0666}));
    EXPECT_EQ(sys.admin.url, "unix:///run/qtalk/admin.sock");
    EXPECT_EQ(sys.admin.mode, 0660u);
    EXPECT_FALSE(sys.admin.group);
    EXPECT_EQ(sys.log.level, "info");
    EXPECT_EQ(sys.log.format, "text");
    EXPECT_EQ(sys.limits.window, 4u << 20);
    EXPECT_EQ(sys.limits.max_packet, 1u << 20);
    EXPECT_EQ(sys.limits.max_call_header, 65536u);
    EXPECT_EQ(sys.limits.watcher_backlog, 1024u);
    EXPECT_EQ(sys.limits.provider_spare_channels, 1u);
    EXPECT_EQ(sys.timeouts.provider_open, std::chrono::seconds(30));
    EXPECT_EQ(sys.timeouts.drain, std::chrono::seconds(10));
}

TEST(DaemonConfig, UserDefaultsLiveInRuntimeDirWithOwnerOnlyAdmin) {
    auto c = default_config(true, "/run/user/1000/qtalk");
    EXPECT_EQ(c.listeners[2].url, "unix:///run/user/1000/qtalk/qtalkd.sock");
    EXPECT_EQ(c.admin.url, "unix:///run/user/1000/qtalk/admin.sock");
    EXPECT_EQ(c.admin.mode, 0600u);
}

TEST(DaemonConfig, EmptyObjectKeepsEveryDefault) { EXPECT_EQ(parsed("{}"), sys); }

TEST(DaemonConfig, MissingKeysKeepTheirDefaults) {
    auto c = parsed(R"({"limits": {"window": 65536}, "log": {"level": "debug"}})");
    EXPECT_EQ(c.limits.window, 65536u);
    EXPECT_EQ(c.limits.max_packet, sys.limits.max_packet);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "text");
    EXPECT_EQ(c.listeners, sys.listeners);
}

TEST(DaemonConfig, FullValidFileSetsEveryField) {
    auto c = parsed(R"({
      "listeners": [{"url": "tcp://0.0.0.0:9000", "name": "tcp"},
                    {"url": "unix:///tmp/q.sock", "mode": "0600"},
                    {"url": "ws://[::1]:9001/qtalk"}],
      "admin": {"url": "none", "mode": "0640", "group": "wheel"},
      "log": {"level": "warn", "format": "json"},
      "limits": {"max_sessions": 10, "max_channels_per_session": 20, "window": 1048576,
                 "max_packet": 32768, "max_call_header": 4096, "watcher_backlog": 16,
                 "provider_spare_channels": 4},
      "timeouts": {"provider_open_s": 5, "drain_s": 0, "ws_idle_s": 120},
      "ws": {"allowed_origins": ["http://localhost:8080"], "max_message_size": 1048576}
    })");
    ASSERT_EQ(c.listeners.size(), 3u);
    EXPECT_EQ(c.listeners[0], (ListenerConfig{"tcp://0.0.0.0:9000", "tcp"}));
    EXPECT_EQ(c.listeners[1], (ListenerConfig{"unix:///tmp/q.sock", std::nullopt, 0600}));
    EXPECT_EQ(c.listeners[2].url, "ws://[::1]:9001/qtalk");
    EXPECT_FALSE(c.admin.enabled());
    EXPECT_EQ(c.admin.mode, 0640u);
    EXPECT_EQ(c.admin.group, "wheel");
    EXPECT_EQ(c.log, (LogConfig{"warn", "json"}));
    EXPECT_EQ(c.limits, (LimitsConfig{10, 20, 1048576, 32768, 4096, 16, 4}));
    EXPECT_EQ(c.timeouts, (TimeoutsConfig{std::chrono::seconds(5), std::chrono::seconds(0), std::chrono::seconds(120)}));
    EXPECT_EQ(c.ws.allowed_origins, std::vector<std::string>{"http://localhost:8080"});
    EXPECT_EQ(c.ws.max_message_size, 1048576u);
}

TEST(DaemonConfig, ToJsonRoundTrips) {
    auto c = parsed(R"({"admin": {"group": "qtalk"}, "ws": {"allowed_origins": ["a", "b"]},
                        "listeners": [{"url": "unix:///x.sock", "mode": "0644"}]})");
    EXPECT_EQ(parsed(to_json(c).dump()), c);
    EXPECT_EQ(parsed(to_json(sys).dump()), sys);
    EXPECT_EQ(to_json(sys)["admin"]["mode"], "0660");
    EXPECT_EQ(to_json(sys)["limits"]["window"], 4194304);
}

TEST(DaemonConfig, ExampleFileEqualsSystemDefaults) {
    auto path = std::filesystem::path(__FILE__).parent_path() / "../../config/qtalkd.json";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
    auto r = load_config_file(path.string(), default_config(false, "/run/qtalk"));
    ASSERT_TRUE(r.ok()) << r.errors.front();
    EXPECT_EQ(*r.config, sys);
}

TEST(DaemonConfig, UnknownKeysAreErrorsAtEveryLevel) {
    EXPECT_EQ(errors_of(R"({"loggin": {}})"), Errors{"loggin: unknown key"});
    EXPECT_EQ(errors_of(R"({"limits": {"windw": 10}})"), Errors{"limits.windw: unknown key"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://1.2.3.4:5"}, {"url": "tcp://1.2.3.4:6", "port": 6}]})"),
              Errors{"listeners[1].port: unknown key"});
    EXPECT_EQ(errors_of(R"({"admin": {"socket": "x"}})"), Errors{"admin.socket: unknown key"});
}

TEST(DaemonConfig, WrongTypesNameTheExpectedType) {
    EXPECT_EQ(errors_of("[]"), Errors{"config: must be an object"});
    EXPECT_EQ(errors_of(R"({"limits": 5})"), Errors{"limits: must be an object"});
    EXPECT_EQ(errors_of(R"({"listeners": {}})"), Errors{"listeners: must be an array"});
    EXPECT_EQ(errors_of(R"({"listeners": ["tcp://1.2.3.4:5"]})"), Errors{"listeners[0]: must be an object"});
    EXPECT_EQ(errors_of(R"({"log": {"level": 3}})"), Errors{"log.level: must be a string"});
    EXPECT_EQ(errors_of(R"({"admin": {"group": 5}})"), Errors{"admin.group: must be a string or null"});
    EXPECT_EQ(errors_of(R"({"admin": {"mode": 432}})"),
              Errors{"admin.mode: must be an octal permission string between \"0000\" and \"0777\""});
    EXPECT_EQ(errors_of(R"({"ws": {"allowed_origins": "*"}})"), Errors{"ws.allowed_origins: must be an array"});
    EXPECT_EQ(errors_of(R"({"ws": {"allowed_origins": ["a", 1]}})"), Errors{"ws.allowed_origins[1]: must be a string"});
    for (auto bad : {R"("4MiB")", "4194304.5", "true", "null", "-1"})
        EXPECT_EQ(errors_of(std::string(R"({"limits": {"window": )") + bad + "}}"),
                  Errors{"limits.window: must be an integer between 9 and 4294967295"})
            << bad;
}

TEST(DaemonConfig, OutOfRangeValuesGiveTheRange) {
    EXPECT_EQ(errors_of(R"({"limits": {"window": 8}})"), Errors{"limits.window: must be an integer between 9 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"window": 4294967296}})"),
              Errors{"limits.window: must be an integer between 9 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"max_packet": 0}})"),
              Errors{"limits.max_packet: must be an integer between 9 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"max_call_header": 63}})"),
              Errors{"limits.max_call_header: must be an integer between 64 and 16777216"});
    EXPECT_EQ(errors_of(R"({"limits": {"max_sessions": 0}})"),
              Errors{"limits.max_sessions: must be an integer between 1 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"max_channels_per_session": 0}})"),
              Errors{"limits.max_channels_per_session: must be an integer between 1 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"watcher_backlog": 0}})"),
              Errors{"limits.watcher_backlog: must be an integer between 1 and 4294967295"});
    EXPECT_EQ(errors_of(R"({"limits": {"provider_spare_channels": 65}})"),
              Errors{"limits.provider_spare_channels: must be an integer between 0 and 64"});
    EXPECT_EQ(errors_of(R"({"limits": {"provider_spare_channels": -1}})"),
              Errors{"limits.provider_spare_channels: must be an integer between 0 and 64"});
    EXPECT_EQ(errors_of(R"({"timeouts": {"provider_open_s": 0}})"),
              Errors{"timeouts.provider_open_s: must be an integer between 1 and 3600"});
    EXPECT_EQ(errors_of(R"({"timeouts": {"drain_s": 3601}})"), Errors{"timeouts.drain_s: must be an integer between 0 and 3600"});
    EXPECT_EQ(errors_of(R"({"timeouts": {"ws_idle_s": 0}})"), Errors{"timeouts.ws_idle_s: must be an integer between 1 and 86400"});
    EXPECT_EQ(errors_of(R"({"log": {"level": "verbose"}})"),
              Errors{"log.level: must be one of trace, debug, info, warn, error, critical, off"});
    EXPECT_EQ(errors_of(R"({"log": {"format": "xml"}})"), Errors{"log.format: must be one of text, json"});
    EXPECT_EQ(errors_of(R"({"admin": {"mode": "0999"}})"),
              Errors{"admin.mode: must be an octal permission string between \"0000\" and \"0777\""});
    EXPECT_EQ(errors_of(R"({"admin": {"mode": "1777"}})"),
              Errors{"admin.mode: must be an octal permission string between \"0000\" and \"0777\""});
}

TEST(DaemonConfig, BadUrlsAreRejectedPerListener) {
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1"}, {"url": "unix:///a"}, {"url": "tcp://nohost"}]})"),
              Errors{"listeners[2].url: invalid transport URL"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "http://127.0.0.1:80/"}]})"),
              Errors{"listeners[0].url: invalid transport URL"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "unix://relative.sock"}]})"),
              Errors{"listeners[0].url: invalid transport URL"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "stdio:"}]})"),
              Errors{"listeners[0].url: not a listening transport (tcp, unix or ws)"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"name": "tcp"}]})"), Errors{"listeners[0].url: required"});
    EXPECT_EQ(errors_of(R"({"listeners": []})"), Errors{"listeners: must not be empty"});
    EXPECT_EQ(errors_of(R"({"admin": {"url": "tcp://127.0.0.1:9"}})"), Errors{"admin.url: must be a unix:// URL or \"none\""});
    EXPECT_EQ(errors_of(R"({"admin": {"url": "unix:"}})"), Errors{"admin.url: invalid transport URL"});
}

TEST(DaemonConfig, ListenerNamesModesAndDuplicates) {
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1", "mode": "0600"}]})"),
              Errors{"listeners[0].mode: only valid for unix:// listeners"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1", "name": "a:b"}]})"),
              Errors{"listeners[0].name: must be 1 to 255 printable ASCII characters without ':'"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1", "name": ""}]})"),
              Errors{"listeners[0].name: must be 1 to 255 printable ASCII characters without ':'"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1", "name": "x"},
                                          {"url": "tcp://127.0.0.1:1", "name": "x"}]})"),
              (Errors{"listeners[1].url: duplicate of listeners[0].url", "listeners[1].name: duplicate of listeners[0].name"}));
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "unix:///run/qtalk/admin.sock"}]})"),
              Errors{"admin.url: same as listeners[0].url"});
    EXPECT_EQ(parsed(R"({"listeners": [{"url": "tcp://127.0.0.1:1", "name": null}]})").listeners[0].name, std::nullopt);
}

TEST(DaemonConfig, DuplicateJsonKeysAreErrors) {
    EXPECT_EQ(errors_of(R"({"limits": {"window": 100, "window": 200}})"), Errors{"limits.window: duplicate key"});
    EXPECT_EQ(errors_of(R"({"listeners": [{"url": "tcp://127.0.0.1:1"}, {"url": "tcp://127.0.0.1:2", "url": "unix:///x"}]})"),
              Errors{"listeners[1].url: duplicate key"});
    EXPECT_EQ(errors_of(R"({"log": {}, "log": {}})"), Errors{"log: duplicate key"});
}

TEST(DaemonConfig, WsMessageLimitMustHoldOneMaximalPacket) {
    EXPECT_EQ(errors_of(R"({"ws": {"max_message_size": 1048584}})"),
              Errors{"ws.max_message_size: must be at least limits.max_packet + 9 (1048585)"});
    EXPECT_EQ(parsed(R"({"ws": {"max_message_size": 1048585}})").ws.max_message_size, 1048585u);
}

TEST(DaemonConfig, AllErrorsAreReportedTogether) {
    auto e = errors_of(R"({"loggin": 1, "limits": {"window": 1, "max_packet": "x"}, "log": {"level": "loud"}})");
    // Top-level unknown keys first, then section by section (listeners, admin, log, limits, timeouts, ws).
    EXPECT_EQ(e, (Errors{"loggin: unknown key", "log.level: must be one of trace, debug, info, warn, error, critical, off",
                         "limits.window: must be an integer between 9 and 4294967295",
                         "limits.max_packet: must be an integer between 9 and 4294967295"}));
}

TEST(DaemonConfig, SyntaxErrorsGiveLineAndColumn) {
    auto e = errors_of("{\n  \"log\": {\n    \"level\": info\n  }\n}");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_TRUE(e[0].starts_with("config:3:14: invalid JSON: syntax error while parsing value")) << e[0];
    auto empty = errors_of("");
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_TRUE(empty[0].starts_with("config:1:1: invalid JSON: ")) << empty[0];
}

TEST(DaemonConfig, LoadFilePrefixesEveryMessageWithThePath) {
    auto good = temp_file("good.json", R"({"log": {"level": "debug"}})");
    auto r = load_config_file(good.string(), sys);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.config->log.level, "debug");

    auto bad = temp_file("bad.json", R"({"limits": {"window": 0}})");
    EXPECT_EQ(load_config_file(bad.string(), sys).errors,
              Errors{bad.string() + ": limits.window: must be an integer between 9 and 4294967295"});

    auto broken = temp_file("broken.json", "{\n  \"log\": {,\n}");
    auto b = load_config_file(broken.string(), sys);
    ASSERT_EQ(b.errors.size(), 1u);
    EXPECT_TRUE(b.errors[0].starts_with(broken.string() + ":2:11: invalid JSON: ")) << b.errors[0];

    auto missing = load_config_file("/nonexistent/qtalkd.json", sys);
    EXPECT_EQ(missing.errors, Errors{"/nonexistent/qtalkd.json: cannot read: No such file or directory"});
    EXPECT_FALSE(load_config_file(std::filesystem::temp_directory_path().string(), sys).ok());
    std::filesystem::remove_all(good.parent_path());
}

TEST(DaemonConfig, MapsOntoHubAndListenOptions) {
    auto c = parsed(R"({"limits": {"window": 65536, "max_packet": 4096, "max_channels_per_session": 7,
                                   "max_call_header": 1024, "watcher_backlog": 3, "max_sessions": 9,
                                   "provider_spare_channels": 0},
                        "timeouts": {"provider_open_s": 2, "ws_idle_s": 5},
                        "ws": {"allowed_origins": ["o"], "max_message_size": 8192},
                        "listeners": [{"url": "unix:///s", "mode": "0600"}, {"url": "ws://127.0.0.1:1/"}]})");
    auto h = hub_options(c);
    EXPECT_EQ(h.mux.window, 65536u);
    EXPECT_EQ(h.mux.max_packet, 4096u);
    EXPECT_EQ(h.mux.max_channels, 7u);
    EXPECT_EQ(h.max_call_header, 1024u);
    EXPECT_EQ(h.watcher_backlog, 3u);
    EXPECT_EQ(h.max_sessions, 9u);
    EXPECT_EQ(h.provider_spare_channels, 0u);
    EXPECT_EQ(hub_options(sys).provider_spare_channels, 1u);
    EXPECT_EQ(h.provider_open_timeout, std::chrono::seconds(2));
    EXPECT_EQ(listen_options(c, c.listeners[0]).unix_mode, 0600u);
    auto ws = listen_options(c, c.listeners[1]);
    EXPECT_EQ(ws.unix_mode, 0u);
    EXPECT_EQ(ws.allowed_origins, std::vector<std::string>{"o"});
    EXPECT_EQ(ws.max_message_size, 8192u);
    EXPECT_EQ(ws.ws_idle_timeout, std::chrono::seconds(5));
    EXPECT_EQ(admin_listen_options(sys).unix_mode, 0660u);
}
