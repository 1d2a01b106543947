#pragma once
// Result<T, E>: a value, or the error that kept it from being produced. The minimal subset of
// C++23's std::expected that payoutd needs (we build as C++20): an expected failure is a value the
// caller must look at, never an exception that some distant catch turns into an answer.
//
// Construction: from a T (success), or from Failure{e} (an error). Reading the value of an error
// (value(), *, ->) is a bug: it aborts through PAYOUTD_ASSERT, in release builds too. The class is
// [[nodiscard]], so a call whose result is dropped does not compile (warnings are errors).
#include <type_traits>
#include <utility>
#include <variant>

#include "core/assert.h"

namespace payoutd {

// The error side of a Result, spelled at the return: `return Failure{ReadError{"..."}};`.
template <typename E>
struct Failure {
  E error;
};
template <typename E>
Failure(E) -> Failure<E>;  // clang before 17 deduces no aggregate's arguments by itself

template <typename T, typename E>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, E>, "a Result needs distinct value and error types");

 public:
  // A success. Implicit, so that `return value;` reads as it does without a Result.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  // An error.
  Result(Failure<E> failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}

  bool ok() const { return state_.index() == 0; }

  T& value() & {
    PAYOUTD_ASSERT(ok(), "the value of a failed Result was read");
    return std::get<0>(state_);
  }
  const T& value() const& {
    PAYOUTD_ASSERT(ok(), "the value of a failed Result was read");
    return std::get<0>(state_);
  }
  // Of a temporary, the value itself (moved out), not a reference into the temporary: a
  // range-for over `store.read(...).value()` then iterates a living value.
  T value() && {
    PAYOUTD_ASSERT(ok(), "the value of a failed Result was read");
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    PAYOUTD_ASSERT(!ok(), "the error of a successful Result was read");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, E> state_;
};

}  // namespace payoutd
