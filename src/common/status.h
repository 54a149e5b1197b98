// Status and Result<T>: how modules report failure to each other.
//
// Errors cross module boundaries as values with a closed set of codes; the
// web layer maps a code to an HTTP status in exactly one place
// (web/errors.cc). Storage backends catch driver errors themselves and turn
// them into kUnavailable / kInternal.
//
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace paidoc {

enum class Code {
  kOk = 0,
  kNotFound,
  kInvalidArgument,
  kForbidden,
  kPaymentRequired,
  kConflict,
  kUnavailable,
  kInternal,
  kUnauthenticated,   // no valid credentials (HTTP 401)
  kTooManyRequests,   // rate limited; Status::retry_after() says for how long (HTTP 429)
  kFailedPrecondition,  // valid, but the current state refuses it (in use; HTTP 409)
};

// Stable lower-case name of a code ("not_found"), used in JSON errors.
const char* code_name(Code c);

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // There is deliberately no static ok(): `s.ok()` on a Status would compile
  // and always be true. Write Status() for success and s.is_ok() to test.
  static Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
  static Status conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status failed_precondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status too_many_requests(std::string m, int64_t retry_after_seconds) {
    Status s(Code::kTooManyRequests, std::move(m));
    s.retry_after_ = retry_after_seconds;
    return s;
  }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Seconds until a rate-limited request may be retried; 0 unless
  // code() == kTooManyRequests.
  int64_t retry_after() const { return retry_after_; }
  // "not_found: document 7 does not exist"
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int64_t retry_after_ = 0;
};

// Either a value or a non-OK Status.
// REQUIRES: value() only when ok(); status() is OK when a value is held.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace paidoc
