// Result<T> (a value or an Error) and Status (success or an Error): how expected failures (a
// bad option, an unreadable trace) cross module boundaries. Exceptions are not used for those.
//
// Invariants:
//  1. A Result holds exactly one of a value or an Error.
//  2. value() is only called when ok(); error() only when !ok() (checked by assert).
// Thread-safety: a plain value type.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_RESULT_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_RESULT_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cachesim {

// An expected failure. The message names the place (file:line, option) and what is accepted.
class Error {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

class [[nodiscard]] Status {
 public:
  static Status Ok() { return Status(); }
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  Status() = default;

  std::optional<Error> error_;
};

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_RESULT_H_
