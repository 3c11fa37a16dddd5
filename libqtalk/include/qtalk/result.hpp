// Result<T>: a value or a std::error_code, returned at every layer boundary.
// C++20 has no std::expected; this is the small subset qtalk needs.
#pragma once
#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace qtalk {

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;
    Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
    Result(std::error_code ec) : v_(std::in_place_index<1>, ec) { assert(ec); }  // NOLINT
    template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
    Result(E e) : Result(std::error_code(make_error_code(e))) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T& value() & { assert(has_value()); return std::get<0>(v_); }
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    std::error_code error() const noexcept { return has_value() ? std::error_code{} : std::get<1>(v_); }

private:
    std::variant<T, std::error_code> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(std::error_code ec) : ec_(ec) {}  // NOLINT
    template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
    Result(E e) : ec_(make_error_code(e)) {}  // NOLINT
    bool has_value() const noexcept { return !ec_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const { assert(has_value()); }
    std::error_code error() const noexcept { return ec_; }

private:
    std::error_code ec_;
};

}  // namespace qtalk
