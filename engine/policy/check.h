#pragma once
// CheckedPolicyViolations: the request body in, the new violations out
// (docs/semantics.md section 1).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/codecs/check_request.h"
#include "engine/model/plan.h"
#include "engine/model/snapshot.h"
#include "engine/util/limits.h"

namespace preflight {

struct CheckOptions {
  // `policies: []`: IdentityIQ's code checks nothing, its documentation says "all
  // active policies". We follow the documentation (README: divergences).
  bool empty_policy_list_means_all = true;
  // Emit "violations": [] instead of omitting the key when there are none.
  bool empty_violations_as_array = false;
  int indent = 0;  // JSON indentation of the response
  // Evaluate only the constraints the plan can change (the constraint index). Off
  // evaluates every constraint of every selected policy: the same answer, slower;
  // the benchmarks and the differential tests compare the two.
  bool use_constraint_index = true;
  // Re-detect after the plan only the roles a role SoD constraint can see (the role or
  // one it inherits from is named by one; DetectScope::kPolicyRoles): whether any
  // other role is detected changes no answer.
  bool detect_policy_roles_only = true;

  // Every shortcut off: each constraint evaluated on states computed the plain way.
  // The same answer as the defaults; the differential test and the benchmarks compare.
  static CheckOptions Exhaustive() {
    CheckOptions o;
    o.use_constraint_index = false;
    o.detect_policy_roles_only = false;
    return o;
  }
};

// Why a violation holds: which held role or entitlement matched which side, and
// whether the plan brought it or the identity already had it.
struct Reason {
  std::string side;    // "left", "right" (role SoD, entitlement SoD) or "selector"
  std::string kind;    // "role" or "entitlement"
  std::string name;    // role name, or "application:attribute=value"
  std::string via;     // role SoD: the constraint role it satisfies through inheritance
  std::string source;  // "plan" or "existing"
};

struct ViolationReport {
  std::string policy_name;
  std::string policy_type;
  std::string constraint_name;
  // False when IdentityIQ's violation has no constraintName (an unnamed generic
  // constraint, an Account policy without a GenericConstraint): the key is omitted.
  bool has_constraint_name = true;
  std::optional<std::string> description;
  std::vector<std::string> left_bundles;
  std::vector<std::string> right_bundles;
  struct Entitlement {
    std::optional<std::string> application;
    std::string attribute;
    std::string value;
  };
  std::vector<Entitlement> entitlements;
  std::vector<Reason> reasons;
};

struct CheckResult {
  std::vector<ViolationReport> violations;
  std::vector<Diagnostic> diagnostics;  // unsupported constraints, ignored requests
};

struct Violation;
// A violation as the response reports it (names, description, bundles, entitlements);
// the scan (engine/scan) reports stored identities' violations through it too.
ViolationReport ReportViolation(const Snapshot& snapshot, const Violation& violation);

absl::StatusOr<CheckResult> Check(const Snapshot& snapshot, const CheckRequest& request,
                                  const ProvisioningPlan& plan, const CheckOptions& options = {});
// Decodes the plan by its media type, then checks.
absl::StatusOr<CheckResult> Check(const Snapshot& snapshot, const CheckRequest& request,
                                  const CheckOptions& options = {}, const Limits& limits = DefaultLimits());



}  // namespace preflight
