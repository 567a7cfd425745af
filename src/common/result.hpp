// Result<T> and Error: the one error channel of berth.
//
// An Error carries an errno (0 when none applies) and a chain of context
// strings, outermost first when printed:
//   create: rootfs: mount proc on /proc: Operation not permitted
// Errors are printed once, at the top (cli/), never where they are made.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace berth {

class Error {
 public:
  Error() = default;
  explicit Error(std::string message, int errnum = 0) : message_(std::move(message)), errno_(errnum) {}

  // Builds an error from the current errno: Error::fromErrno("open /proc").
  static Error fromErrno(std::string message) { return Error(std::move(message), errno); }

  // Prepends a context: err.context("rootfs") turns "x: y" into "rootfs: x: y".
  Error& context(std::string ctx) & {
    contexts_.push_back(std::move(ctx));
    return *this;
  }
  Error&& context(std::string ctx) && {
    contexts_.push_back(std::move(ctx));
    return std::move(*this);
  }

  int code() const { return errno_; }
  const std::string& innerMessage() const { return message_; }

  // The whole chain, outermost context first, strerror last.
  std::string message() const {
    std::string out;
    for (auto it = contexts_.rbegin(); it != contexts_.rend(); ++it) {
      out += *it;
      out += ": ";
    }
    out += message_;
    if (errno_ != 0) {
      out += ": ";
      out += std::strerror(errno_);
    }
    return out;
  }

 private:
  std::string message_;
  int errno_ = 0;
  std::vector<std::string> contexts_;  // innermost first
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  T valueOr(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  Error& error() & { return error_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

}  // namespace berth

// TRY(expr): evaluates a Result; on error returns it from the enclosing
// function, otherwise yields the value. TRY_CTX adds a context first.
// (GNU statement expressions: g++ and clang both support them.)
#define BERTH_CONCAT_(a, b) a##b
#define BERTH_CONCAT(a, b) BERTH_CONCAT_(a, b)

#define TRY(expr)                                              \
  ({                                                           \
    auto&& BERTH_CONCAT(try_r_, __LINE__) = (expr);            \
    if (!BERTH_CONCAT(try_r_, __LINE__).ok())                  \
      return std::move(BERTH_CONCAT(try_r_, __LINE__)).error(); \
    ::berth::detail::unwrap(std::move(BERTH_CONCAT(try_r_, __LINE__))); \
  })

#define TRY_CTX(expr, ctx)                                                  \
  ({                                                                        \
    auto&& BERTH_CONCAT(try_r_, __LINE__) = (expr);                         \
    if (!BERTH_CONCAT(try_r_, __LINE__).ok())                               \
      return std::move(BERTH_CONCAT(try_r_, __LINE__)).error().context(ctx); \
    ::berth::detail::unwrap(std::move(BERTH_CONCAT(try_r_, __LINE__)));     \
  })

namespace berth::detail {
template <typename T>
T unwrap(Result<T>&& r) {
  return std::move(r).value();
}
inline void unwrap(Result<void>&&) {}
}  // namespace berth::detail
