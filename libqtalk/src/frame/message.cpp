// Accessors over the Message variant (PROTOCOL §2.2): its type byte, the channel id it addresses
// and a printable name for logs. Wire layout is the decoder's and encoder's.
#include "qtalk/frame/message.hpp"

#include <type_traits>

namespace qtalk::frame {

namespace {
// type_of() relies on the variant listing the messages in type-byte order.
template <class M, Type t>
constexpr bool at_index = std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(t) - 100, Message>, M>;
static_assert(std::variant_size_v<Message> == 7);
static_assert(at_index<Open, Type::open> && at_index<OpenConfirm, Type::open_confirm> &&
              at_index<OpenFailure, Type::open_failure> && at_index<WindowAdjust, Type::window_adjust> &&
              at_index<Data, Type::data> && at_index<Eof, Type::eof> && at_index<Close, Type::close>);
}  // namespace

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
