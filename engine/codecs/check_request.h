#pragma once
// The CheckedPolicyViolations request body (docs/semantics.md section 1):
// JSON text in, a CheckRequest out. Reading only; the check itself is engine/policy/check.h.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/util/limits.h"

namespace preflight {

struct CheckRequest {
  std::string identity;
  std::string plan_value;
  std::string plan_type;
  // Absent (or JSON null) means every active policy; an element is a name or an id.
  std::optional<std::vector<std::string>> policies;
  bool explain = false;  // add per-violation explanations to the response
};

// `policies` given as one string: its comma-separated names, trimmed, empty ones dropped.
std::vector<std::string> SplitPolicyNames(std::string_view list);

// Parses the CheckedPolicyViolations request body. Errors are invalidValue (wrong
// types, missing members: IdentityIQ's messages) or invalidSyntax (not JSON).
absl::StatusOr<CheckRequest> ParseCheckRequest(std::string_view json, const Limits& limits = DefaultLimits());
// The same into `out`, whose strings keep their buffers: a thread that reads request after
// request into one CheckRequest copies the fields without allocating. On an error, `out` is
// unspecified.
absl::Status ParseCheckRequestInto(std::string_view json, const Limits& limits, CheckRequest& out);

}  // namespace preflight
