// Precompiled header for the library: the heavy, stable third-party headers.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
