#pragma once
// The report behind `preflight plan compile` and the Python `compile_plan`: the plan as
// compiled (the request plus the Add requests its role assignments expand to), the
// expansions, the projected pre and post states, and the compiler's diagnostics, as JSON:
//
//   {"identity":..., "plan":{toMap JSON}, "expansions":[{role, via, application, attribute, value}],
//    "pre":{assignedRoles, detectedRoles, accounts:[...]}, "post":{...}, "diagnostics":[...]}

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/plan.h"
#include "engine/model/snapshot.h"

namespace preflight {

// Errors: invalidValue when the identity is not in the snapshot, or what Project returns.
absl::StatusOr<std::string> CompileReportJson(const Snapshot& snapshot, std::string_view identity,
                                              const ProvisioningPlan& plan, int indent = 0);

}  // namespace preflight
