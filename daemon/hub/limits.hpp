// Every hub default in one place, each with the reason for its value (PROTOCOL §5.8).
// The launcher (config.cpp, main.cpp) turns these into HubOptions and listener URLs; the hub
// itself reads no files and no environment.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace qtalkd::limits {

// Per routed call the hub buffers at most one window per direction: 4 MiB keeps a fast
// stream at line rate on loopback while bounding memory to ~8 MiB per stalled call.
inline constexpr std::uint32_t hub_window = 4u << 20;
// 1 MiB packets: large enough that splicing rarely splits a DATA message, small enough that
// one message never monopolises a session's write loop.
inline constexpr std::uint32_t hub_max_packet = 1u << 20;
// Call headers are tiny ({"Selector": ...}); anything bigger is a broken or hostile peer.
inline constexpr std::uint32_t max_call_header = 65536;
// A provider that does not confirm a channel within this is treated as unavailable (Go peers
// answer OPEN_FAILURE after 30 s when their application does not accept).
inline constexpr std::chrono::milliseconds provider_open_timeout{30000};
// Channels the hub keeps open to each provider session ahead of calls, so a routed call does
// not wait for an OPEN/CONFIRM round trip. One covers calls made one after another; concurrent
// calls grow a provider's spares (one per call that found none) up to the maximum, and the
// surplus halves after 10 s without such a call. 0 disables spares (and their growth).
inline constexpr std::size_t provider_spare_channels = 1;
inline constexpr std::size_t provider_spare_channels_max = 64;
inline constexpr std::chrono::milliseconds provider_spare_hold{10000};
// A watcher this far behind (window exhausted) is closed rather than queued without bound.
inline constexpr std::size_t watcher_backlog = 1024;
// Service names: "/x" is the shortest useful name; 256 bytes keeps names loggable on one line.
inline constexpr std::size_t min_name = 2, max_name = 256;

// Network listeners bind loopback only: exposing the hub beyond the host is an explicit choice.
inline constexpr const char* default_tcp = "tcp://127.0.0.1:7420";
// Next port up, upgrade on path "/" (PROTOCOL §3), so browsers on the same host can connect.
inline constexpr const char* default_ws = "ws://127.0.0.1:7421/";

// Unix sockets live in one runtime directory so one tmpfiles/RuntimeDirectory= entry covers
// them: /run/qtalk for the system instance, $XDG_RUNTIME_DIR/qtalk for a user instance.
inline constexpr const char* system_runtime_dir = "/run/qtalk";
inline constexpr const char* user_runtime_subdir = "qtalk";  // under $XDG_RUNTIME_DIR
inline constexpr const char* unix_socket_name = "qtalkd.sock";
// The admin socket is separate so file permissions alone decide who is privileged (§5.6).
inline constexpr const char* admin_socket_name = "admin.sock";
inline constexpr const char* system_unix_socket = "/run/qtalk/qtalkd.sock";
inline constexpr const char* system_admin_socket = "/run/qtalk/admin.sock";
// Packaged configuration goes where the distribution's other daemons keep theirs.
inline constexpr const char* default_config = "/etc/qtalk/qtalkd.json";

}  // namespace qtalkd::limits
