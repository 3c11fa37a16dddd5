// Registry of component loggers sharing one sink list and level (see qtalk/log.hpp).
#include "qtalk/log.hpp"

#include <map>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>

namespace qtalk::log {
namespace {
struct Registry {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
    std::vector<spdlog::sink_ptr> sinks;
    spdlog::level::level_enum level = spdlog::level::info;
};
Registry& registry() {
    static Registry r;
    return r;
}
}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view component) {
    auto& r = registry();
    std::lock_guard lk(r.mu);
    if (auto it = r.loggers.find(component); it != r.loggers.end()) return it->second;
    auto lg = std::make_shared<spdlog::logger>(std::string(component), r.sinks.begin(), r.sinks.end());
    lg->set_level(r.level);
    r.loggers.emplace(std::string(component), lg);
    return lg;
}

void set_sinks(std::vector<spdlog::sink_ptr> sinks) {
    auto& r = registry();
    std::lock_guard lk(r.mu);
    r.sinks = std::move(sinks);
    for (auto& [_, lg] : r.loggers) lg->sinks() = r.sinks;
}

void set_level(spdlog::level::level_enum level) {
    auto& r = registry();
    std::lock_guard lk(r.mu);
    r.level = level;
    for (auto& [_, lg] : r.loggers) lg->set_level(level);
}

void to_stderr(spdlog::level::level_enum level) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
    set_sinks({sink});
    set_level(level);
}

}  // namespace qtalk::log
