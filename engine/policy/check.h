#pragma once
// CheckedPolicyViolations: the request body in, the new violations out
// (docs/semantics.md section 1).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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
  // With the constraint index: of the role SoD constraints naming a role the plan
  // changed and that role still held, only those with a held role on the other side (the
  // role pair index, engine/policy/constraint_table.h): the others cannot fire.
  bool use_role_pairs = true;
  // Find the pre violations a new one is constraint-equal to by position (the table's
  // EqualConstraints) rather than by looking its id and name up as text; a pre
  // violation that only its own post violation can equal is not kept for the check.
  bool equal_by_position = true;
  // Match an EntitlementSOD constraint's selectors before listing the matched terms
  // (EvaluateConstraint's match_first): most evaluated constraints do not fire.
  bool match_before_listing = true;
  // Read each role's expansion and detection scope from the facts computed once per
  // snapshot (engine/plan/role_facts.h) instead of working them out in every check.
  bool precomputed_roles = true;
  // Decide whether a generic constraint whose selectors name only plain entitlement
  // values fires from the values the identity holds (the constraint table's value
  // gates), before and after the plan, without evaluating it; evaluate only those that
  // fire, to list their terms.
  bool use_value_gates = true;
  // With the value gates: list a fired gated constraint's violating entitlements from its
  // gate's keys (each term as many times as accounts hold its value) instead of
  // evaluating its selectors again.
  bool terms_from_gates = true;
  // With the value gates: of the many gated constraints one changed value can bring (at
  // 100,000 constraints a key is named by ~500), read the gates only of those whose
  // witness selector (ConstraintTable::AddTouchedByValue) names a key the identity holds,
  // found by probing the list by key for each held key.
  bool use_gate_pairs = true;
  // Tuning, the same answer for any values (the differential test varies them): a
  // changed key's gated list is probed by held key from this length; a state's held
  // keys are all found at once after this many were looked up one at a time.
  uint32_t gate_probe_from = 64;
  uint32_t held_keys_from = 32;
  // Evaluate a role SoD constraint from its sides in the constraint table (one flat
  // record), not from the Constraint and its two lists.
  bool use_role_sides = true;
  // Do not evaluate the pre violation of a role SoD constraint (read from its sides) that
  // only its own post violation can be equal to when the identity held no role of one
  // of its sides before the plan: there is none. The slowest checks report a thousand
  // new role SoD violations of roles the plan assigns; each skips its pre evaluation.
  bool skip_unheld_pre = true;
  // With use_role_sides: a role SoD constraint whose post violation is new whatever its
  // bundles (skip_unheld_pre's case: equal only to itself, not named from its bundles,
  // and the identity held no role of one of its sides before the plan) is decided from
  // the held roles alone, and its bundle lists are written straight into the answer's:
  // no Violation is built, copied or compared.
  bool role_sod_direct = true;
  // Look the plan's strings up in the snapshot's pool together, overlapped with the
  // identity lookup, before the plan is applied (engine/plan/compiler.h,
  // ExpectPlanStrings); off, each is looked up where the projection needs it.
  bool resolve_plan_strings_first = true;
  // Ask ahead for what the check reads next, so that the cache misses overlap: with the
  // identity lookup (and resolve_plan_strings_first), the attribute records and values
  // of the identity and its accounts; once the plan's changes are known, the indexes
  // read by a changed value (role detection's, the constraint index's), found for every
  // change at once and each kept for both readers (off: each reader looks it up).
  bool prefetch_ahead = true;
  // Apply a run of role expansions adding to one multi-valued attribute as one addition
  // (engine/plan/compiler.h, ProjectShortcuts::group_expansions): the same states.
  bool group_expansions = true;

  // Every shortcut off: each constraint evaluated on states computed the plain way.
  // The same answer as the defaults; the differential test and the benchmarks compare.
  static CheckOptions Exhaustive() {
    CheckOptions o;
    o.use_constraint_index = false;
    o.detect_policy_roles_only = false;
    o.use_role_pairs = false;
    o.equal_by_position = false;
    o.match_before_listing = false;
    o.precomputed_roles = false;
    o.use_value_gates = false;
    o.terms_from_gates = false;
    o.use_gate_pairs = false;
    o.use_role_sides = false;
    o.skip_unheld_pre = false;
    o.role_sod_direct = false;
    o.resolve_plan_strings_first = false;
    o.prefetch_ahead = false;
    o.group_expansions = false;
    return o;
  }
};

// Why a violation holds: which held role or entitlement matched which side, and
// whether the plan brought it or the identity already had it. As text (tests, scan).
struct Reason {
  std::string side;    // "left", "right" (role SoD, entitlement SoD) or "selector"
  std::string kind;    // "role" or "entitlement"
  std::string name;    // role name, or "application:attribute=value"
  std::string via;     // role SoD: the constraint role it satisfies through inheritance
  std::string source;  // "plan" or "existing"
};

// A violation as text: what the scan's rows carry, and what tests read.
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

// A reason as positions in the snapshot (rendered as a Reason by ReasonText).
struct ReasonRef {
  enum class Side : uint8_t { kLeft, kRight, kSelector };
  Side side = Side::kSelector;
  bool existing = false;             // held before the plan ("existing"), else "plan"
  Index role = kNoIndex;             // a role reason: the held role (origin)
  Index via = kNoIndex;              // the constraint's role it satisfies, when not `role` itself
  const MatchTerm* term = nullptr;   // an entitlement reason: the matched term
};

// A violation a check found, as positions: the policy and constraint, and ranges of
// CheckResult's flat lists (its bundles, its matched terms, its reasons). Names,
// descriptions and reasons are written from the snapshot only when the answer is
// (engine/wire/check_response.cc, or CheckResult::Report).
struct FoundViolation {
  Index policy = kNoIndex;
  Index constraint = kNoIndex;  // kNoIndex: an Account policy without a GenericConstraint
  uint32_t bundles = 0, left_count = 0, right_count = 0;  // CheckResult::bundles[bundles, +left+right)
  uint32_t terms = 0, term_count = 0;                     // CheckResult::terms
  uint32_t reasons = 0, reason_count = 0;                 // CheckResult::reasons
};

struct CheckResult {
  const Snapshot* snapshot = nullptr;  // what the positions point into
  std::vector<FoundViolation> violations;
  std::vector<Index> bundles;                // roles: each violation's left, then right bundles
  std::vector<const MatchTerm*> terms;       // each violation's violating entitlements
  std::vector<ReasonRef> reasons;            // each violation's reasons (explain)
  std::vector<Diagnostic> diagnostics;       // unsupported constraints, ignored requests

  std::span<const Index> LeftBundles(const FoundViolation& v) const { return {bundles.data() + v.bundles, v.left_count}; }
  std::span<const Index> RightBundles(const FoundViolation& v) const {
    return {bundles.data() + v.bundles + v.left_count, v.right_count};
  }
  std::span<const MatchTerm* const> Terms(const FoundViolation& v) const { return {terms.data() + v.terms, v.term_count}; }
  std::span<const ReasonRef> Reasons(const FoundViolation& v) const { return {reasons.data() + v.reasons, v.reason_count}; }
  // Empties the lists, keeping their memory (CheckInto).
  void Clear() {
    snapshot = nullptr;
    violations.clear();
    bundles.clear();
    terms.clear();
    reasons.clear();
    diagnostics.clear();
  }
  // Violation i as text, with its reasons.
  ViolationReport Report(size_t i) const;
  std::vector<ViolationReport> Reports() const;
};

// The words of a reason; `name` is filled (a role's name, or "application:attribute=value").
struct ReasonWords {
  const char* side;
  const char* kind;
  std::string_view via;  // empty: none
  const char* source;
};
ReasonWords ReasonText(const Snapshot& snapshot, const ReasonRef& reason, std::string* name);

struct Violation;
// A violation as the response reports it (names, description, bundles, entitlements);
// the scan (engine/scan) reports stored identities' violations through it too.
ViolationReport ReportViolation(const Snapshot& snapshot, const Violation& violation);

absl::StatusOr<CheckResult> Check(const Snapshot& snapshot, const CheckRequest& request,
                                  const ProvisioningPlan& plan, const CheckOptions& options = {});
// The same into `result` (emptied first), reusing its lists' memory: a caller that keeps
// one CheckResult per thread checks without allocating once the lists have grown, even
// for a check that reports violations (bench_check's BM_Check asserts none). On an error
// `result` holds no violation.
absl::Status CheckInto(const Snapshot& snapshot, const CheckRequest& request, const ProvisioningPlan& plan,
                       const CheckOptions& options, CheckResult& result);
// Decodes the plan by its media type, then checks.
absl::StatusOr<CheckResult> Check(const Snapshot& snapshot, const CheckRequest& request,
                                  const CheckOptions& options = {}, const Limits& limits = DefaultLimits());



}  // namespace preflight
