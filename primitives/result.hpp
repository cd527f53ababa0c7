// SPDX-License-Identifier: Apache-2.0
// pel::Result<T, E>: the subset of C++23 std::expected that pel uses, so that moving to C++23 is a
// rename. Expected, recoverable failures (I/O, corrupt data, undecodable input, invalid
// transactions) return a Result; broken invariants use PEL_ASSERT instead (STYLE.md section 3).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "primitives/assert.hpp"

namespace pel {

/// The default error: a human-readable message that says what was wrong with the input and where.
/// Modules that need callers to branch on the cause use their own `enum class` error type instead.
struct Error {
    std::string message;

    friend bool operator==(const Error&, const Error&) = default;
};

/// Wraps an error value on its way into a Result (std::unexpected in C++23).
template <class E>
struct Unexpected {
    E error;
};

template <class E>
[[nodiscard]] Unexpected<std::decay_t<E>> unexpected(E&& e) {
    return {std::forward<E>(e)};
}

namespace detail {
inline void append_part_impl(std::string& s, std::string_view v) { s.append(v); }
inline void append_part_impl(std::string& s, char c) { s.push_back(c); }
template <class T>
requires std::is_integral_v<T>
void append_part_impl(std::string& s, T v) { s.append(std::to_string(v)); }
}  // namespace detail

template <class T>
void append_part(std::string& s, T&& v) {
    if constexpr (std::is_convertible_v<T, std::string_view>) {
        detail::append_part_impl(s, std::string_view(v));
    } else {
        detail::append_part_impl(s, v);
    }
}

/// Shorthand for the common case: `return make_error("rlp: truncated input at offset ", off);`
template <class... Args>
[[nodiscard]] Unexpected<Error> make_error(Args&&... parts) {
    std::string msg;
    (append_part(msg, std::forward<Args>(parts)), ...);
    return {Error{std::move(msg)}};
}

/// A value of type T or an error of type E. Thread safety: a plain value type.
template <class T, class E = Error>
class [[nodiscard]] Result {
  public:
    using value_type = T;
    using error_type = E;

    Result() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    Result(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT(google-explicit-constructor)
    Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
    template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Result>) Result(U&& v)
        : v_(std::in_place_index<0>, std::forward<U>(v)) {}  // NOLINT
    template <class G>
    Result(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        PEL_ASSERT(has_value(), "Result::value() on an error");
        return *std::get_if<0>(&v_);
    }
    const T& value() const& {
        PEL_ASSERT(has_value(), "Result::value() on an error");
        return *std::get_if<0>(&v_);
    }
    T&& value() && {
        PEL_ASSERT(has_value(), "Result::value() on an error");
        return std::move(*std::get_if<0>(&v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E& error() & {
        PEL_ASSERT(!has_value(), "Result::error() on a value");
        return *std::get_if<1>(&v_);
    }
    const E& error() const& {
        PEL_ASSERT(!has_value(), "Result::error() on a value");
        return *std::get_if<1>(&v_);
    }
    E&& error() && {
        PEL_ASSERT(!has_value(), "Result::error() on a value");
        return std::move(*std::get_if<1>(&v_));
    }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

  private:
    std::variant<T, E> v_;
};

/// Result<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] Result<void, E> {
  public:
    using value_type = void;
    using error_type = E;

    Result() = default;
    template <class G>
    Result(Unexpected<G> u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const { PEL_ASSERT(ok_, "Result<void>::value() on an error"); }
    const E& error() const& {
        PEL_ASSERT(!ok_, "Result::error() on a value");
        return err_;
    }
    E&& error() && {
        PEL_ASSERT(!ok_, "Result::error() on a value");
        return std::move(err_);
    }

  private:
    E err_{};
    bool ok_ = true;
};

}  // namespace pel

#define PEL_CONCAT_INNER(a, b) a##b
#define PEL_CONCAT(a, b) PEL_CONCAT_INNER(a, b)

/// PEL_TRY(auto x, expr): evaluates expr (a Result); on error returns the error from the enclosing
/// function, otherwise declares `x` from the value. Declaration form, so it needs no GNU statement
/// expressions (which -Wpedantic rejects).
#define PEL_TRY(decl, expr) PEL_TRY_IMPL(decl, expr, PEL_CONCAT(pel_try_result_, __LINE__))
#define PEL_TRY_IMPL(decl, expr, tmp)                     \
    auto tmp = (expr);                                    \
    if (!tmp.has_value()) {                               \
        return ::pel::unexpected(std::move(tmp).error()); \
    }                                                     \
    decl = std::move(tmp).value()

/// PEL_TRY_VOID(expr): for Results whose value is not needed (Result<void> included).
#define PEL_TRY_VOID(expr) PEL_TRY_VOID_IMPL(expr, PEL_CONCAT(pel_try_result_, __LINE__))
#define PEL_TRY_VOID_IMPL(expr, tmp)                      \
    auto tmp = (expr);                                    \
    if (!tmp.has_value()) {                               \
        return ::pel::unexpected(std::move(tmp).error()); \
    }                                                     \
    static_cast<void>(0)
