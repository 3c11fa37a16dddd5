// The hub's error strings, exactly as PROTOCOL §5.7 spells them (they go on the wire and peers
// match them). Only the text lives here; which codec carries it is intake's and methods' concern.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace qtalkd {

inline std::string service_not_found(std::string_view sel) { return "service not found: " + std::string(sel); }
inline std::string provider_unavailable() { return "provider unavailable"; }
inline std::string call_header_too_large() { return "call header too large"; }
inline std::string invalid_call_header() { return "invalid call header"; }
inline std::string invalid_arguments() { return "invalid arguments"; }
inline std::string invalid_service_name(std::string_view n) { return "invalid service name: " + std::string(n); }
inline std::string reserved_service_name(std::string_view n) { return "reserved service name: " + std::string(n); }
inline std::string service_mode_conflict(std::string_view n) { return "service mode conflict: " + std::string(n); }
inline std::string not_registered(std::string_view n) { return "not registered: " + std::string(n); }
inline std::string not_found(std::string_view sel) { return "not found: " + std::string(sel); }
inline std::string permission_denied() { return "permission denied"; }
inline std::string session_not_found(std::uint64_t id) { return "session not found: " + std::to_string(id); }

}  // namespace qtalkd
