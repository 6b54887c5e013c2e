// A minimal expected<T, Failure> for low layers (cache providers, HTTP), following ccache's model:
// operations return a value or a Failure; policy layers turn Failures into exceptions.
// std::expected is C++23 and Debian 12 ships no tl-expected package, hence this small type.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sf {

struct Failure {
  enum class Kind { kError, kTimeout, kNotFound, kReadOnly, kUnauthorized };
  Kind kind = Kind::kError;
  std::string message;

  static Failure error(std::string m) { return {Kind::kError, std::move(m)}; }
  static Failure timeout(std::string m) { return {Kind::kTimeout, std::move(m)}; }
  static Failure not_found(std::string m) { return {Kind::kNotFound, std::move(m)}; }
  static Failure read_only(std::string m) { return {Kind::kReadOnly, std::move(m)}; }
  static Failure unauthorized(std::string m) { return {Kind::kUnauthorized, std::move(m)}; }
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Failure f)
      : v_(std::in_place_index<1>, std::move(f)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Failure f)
      : failure_(std::move(f)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Failure& error() const { return failure_; }

 private:
  Failure failure_;
  bool ok_ = true;
};

}  // namespace sf
