#pragma once
// `limits={"max_nesting_depth": 16}` from Python: the defaults with these budgets changed.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "bindings/python/errors.h"

namespace preflight::python {

using LimitMap = std::optional<std::map<std::string, int64_t>>;

// InvalidValue for an unknown name or a value out of range.
inline Limits LimitsFrom(const LimitMap& overrides) {
  Limits limits;
  if (overrides) {
    for (const auto& [name, value] : *overrides) {
      if (absl::Status s = SetLimit(limits, name, value); !s.ok()) RaiseStatus(s);
    }
  }
  return limits;
}

}  // namespace preflight::python
