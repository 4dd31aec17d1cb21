// Status and Result<T>: run-time failures (I/O, RocksDB) returned up to main, which maps them to
// exit code 1. Bad data never uses these (it becomes a dead letter); bad config uses Diagnostics.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace licflow {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }

  bool is_ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}

  bool is_ok() const { return v_.index() == 0; }
  // REQUIRES: is_ok().
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // The error; Status::ok() when is_ok().
  Status status() const { return is_ok() ? Status::ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

#define LICFLOW_CONCAT_INNER(a, b) a##b
#define LICFLOW_CONCAT(a, b) LICFLOW_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::licflow::Status _st = (expr);           \
    if (!_st.is_ok()) return _st;             \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.is_ok()) return tmp.status();      \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(LICFLOW_CONCAT(_result_, __LINE__), lhs, expr)

}  // namespace licflow
