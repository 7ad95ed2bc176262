// ApiError: a refusal the hub reports to a client, with the HTTP status it maps to and a stable
// machine-readable code. Every error response has one envelope:
//   {"error": {"code": "unsafe_path", "message": "entry ../x: ...", "details": [...]}}
// Functions on the request path return ApiResult<T>: a value or the ApiError to send.
//
// Thread-safety: values only.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace ahub::hub {

struct ApiError {
  int http = 400;
  std::string code;     // snake_case, stable: clients switch on it
  std::string message;  // names the place and the problem
  nlohmann::json details = nlohmann::json::array();

  nlohmann::json ToJson() const {
    return {{"error", {{"code", code}, {"message", message}, {"details", details}}}};
  }
};

inline ApiError MakeError(int http, std::string code, std::string message,
                          nlohmann::json details = nlohmann::json::array()) {
  return ApiError{http, std::move(code), std::move(message), std::move(details)};
}

template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}       // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const ApiError& error() const { return std::get<1>(v_); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, ApiError> v_;
};

// For operations that return nothing but may be refused.
struct Done {};

}  // namespace ahub::hub
