// Accessors over the Message variant.
#include "qtalk/frame/message.hpp"

namespace qtalk::frame {

std::uint32_t channel_of(const Message& m) noexcept {
    return std::visit(
        [](const auto& x) -> std::uint32_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, Open>) return x.sender;
            else return x.recipient;
        },
        m);
}

Type type_of(const Message& m) noexcept { return static_cast<Type>(100 + m.index()); }

const char* type_name(Type t) noexcept {
    switch (t) {
    case Type::open: return "OPEN";
    case Type::open_confirm: return "OPEN_CONFIRM";
    case Type::open_failure: return "OPEN_FAILURE";
    case Type::window_adjust: return "WINDOW_ADJUST";
    case Type::data: return "DATA";
    case Type::eof: return "EOF";
    case Type::close: return "CLOSE";
    }
    return "UNKNOWN";
}

}  // namespace qtalk::frame
