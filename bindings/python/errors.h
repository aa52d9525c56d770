#pragma once
// absl::Status -> Python exception: the one place. The classes live in preflight/_errors.py
// (so that they can inherit from both PreflightError and ValueError).

#include <pybind11/pybind11.h>

#include <utility>

#include "engine/preflight.h"

namespace preflight::python {

namespace py = pybind11;

// The exception instance for a failed status (the GIL must be held).
py::object ExceptionFor(const absl::Status& status);
[[noreturn]] void RaiseStatus(const absl::Status& status);

template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  if (!value.ok()) RaiseStatus(value.status());
  return *std::move(value);
}

// Runs `call` (a facade call returning absl::StatusOr) without the GIL, then raises its
// failure or returns its value.
template <typename F>
auto Released(F&& call) {
  decltype(call()) result = absl::InternalError("not run");
  {
    py::gil_scoped_release release;
    result = call();
  }
  return Unwrap(std::move(result));
}

}  // namespace preflight::python
