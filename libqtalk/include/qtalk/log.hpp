// Component loggers (`mux`, `transport`, `rpc`, `hub`, ...). The library logs to a null sink
// until the application installs sinks with set_sinks(); qtalkd installs console or journald.
#pragma once
#include <memory>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

namespace qtalk::log {

std::shared_ptr<spdlog::logger> get(std::string_view component);
// Replaces the sinks of every existing and future component logger.
void set_sinks(std::vector<spdlog::sink_ptr> sinks);
// Sets the level of every existing and future component logger.
void set_level(spdlog::level::level_enum level);
// Convenience for programs: colourless stderr sink at `level` (tools, tests).
void to_stderr(spdlog::level::level_enum level = spdlog::level::info);

}  // namespace qtalk::log
