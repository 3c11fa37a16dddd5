// Helper to declare a layer's `enum class Errc` with its own std::error_category.
// Each layer (frame, mux, transport, rpc, hub) declares its codes with QTALK_DECLARE_ERRC
// in its errc.hpp and defines the messages with QTALK_DEFINE_ERRC in one .cpp.
#pragma once
#include <string>
#include <system_error>

#define QTALK_DECLARE_ERRC(ns_name)                                              \
    const std::error_category& category() noexcept;                            \
    inline std::error_code make_error_code(Errc e) noexcept {                  \
        return {static_cast<int>(e), category()};                              \
    }

#define QTALK_ERRC_ENABLE(qualified)                                             \
    template <>                                                                \
    struct std::is_error_code_enum<qualified> : std::true_type {};

// Usage (in a .cpp):  QTALK_DEFINE_ERRC(frame, { switch (e) { case Errc::x: return "..."; } })
#define QTALK_DEFINE_ERRC(ns_name, message_body)                                 \
    namespace {                                                                \
    class ErrcCategory final : public std::error_category {                    \
    public:                                                                    \
        const char* name() const noexcept override { return "qtalk." #ns_name; } \
        std::string message(int code) const override {                         \
            auto e = static_cast<Errc>(code);                                  \
            message_body                                                       \
            return "unknown error";                                            \
        }                                                                      \
    };                                                                         \
    }                                                                          \
    const std::error_category& category() noexcept {                           \
        static const ErrcCategory c;                                           \
        return c;                                                              \
    }
