// Human-readable output of qtalkctl: aligned tables of the admin replies (PROTOCOL §5.6),
// sizes and durations. Pure functions from JSON values to text; no I/O, no rpc.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qtalkd::ctl {

// Columns separated by two spaces; `right` marks right-aligned (numeric) columns.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right = {});

std::string human_size(std::uint64_t bytes);         // "512 B", "1.5 KiB", "8.0 MiB"
std::string human_duration(std::int64_t seconds);    // "42s", "5m3s", "1h2m", "3d4h"
// Seconds since an RFC 3339 UTC timestamp ("2025-11-25T03:21:07Z"), or -1 if unparsable.
std::int64_t age_seconds(const std::string& rfc3339);
// One line of JSON (invalid UTF-8 replaced, never throws).
std::string dump(const nlohmann::json& v);

std::string format_sessions(const nlohmann::json& sessions);   // qtalk.admin.sessions
std::string format_services(const nlohmann::json& services);   // qtalk.admin.services
std::string format_stats(const nlohmann::json& stats);         // qtalk.admin.stats
std::string format_listing(const nlohmann::json& services);    // qtalk.services / watch snapshot
std::string format_event(const nlohmann::json& event);         // watch: "up /clock"

}  // namespace qtalkd::ctl
