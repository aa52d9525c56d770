#pragma once
// A brute-force reference for CheckedPolicyViolations, written from
// research/iiq-semantics.md (1.4-1.7, 2, 3.2, 3.4, 4.2, 4.3, 6, 7) and IdentityIQ's
// executors and EntitlementCorrelator transcribed as they are written, NOT from the
// engine: it reads only the name-based loader objects (engine/model/objects.h) and the
// plan model (engine/model/plan.h), and uses plain std::map / std::set / std::string.
// It is slow on purpose and meant to be obviously right; the differential tests and
// the sod_check_differential fuzzer compare the engine's Check() with it.
//
// Scope (what the random generator produces): role SoD (detection transcribed from
// EntitlementCorrelator's top-down walk, origins from SODPolicyExecutor.addOrigin),
// EntitlementSOD and Advanced policies whose selectors are MatchExpressions of
// Entitlement terms (leaves, containers, negatives) and PopulationRefs, Account, Risk
// and Activity policies; profiles of EQ / CONTAINS_ALL / IN leaves and AND / OR / NOT
// composites; plans with account ops, attribute requests, IIQ assignedRoles and
// identity attributes (ObjectConfig Identity). Anything else (rules, scripts,
// permissions, compound filters)
// makes the reference answer `unsupported` so callers skip the case.

#include <optional>
#include <string>
#include <vector>

#include "engine/model/objects.h"
#include "engine/model/plan.h"

namespace preflight::reference {

struct RefEntitlement {
  std::optional<std::string> application;
  std::string attribute;
  std::string value;
  friend bool operator==(const RefEntitlement&, const RefEntitlement&) = default;
};

struct RefViolation {
  std::string policy_name;
  std::string policy_type;
  std::optional<std::string> constraint_name;  // null: the constraint has no name (1.7)
  std::optional<std::string> description;
  std::vector<std::string> left_bundles;
  std::vector<std::string> right_bundles;
  std::vector<RefEntitlement> entitlements;
  friend bool operator==(const RefViolation&, const RefViolation&) = default;
};

struct RefResult {
  bool error = false;        // the request is invalid (unknown identity, role, application)
  bool unsupported = false;  // the input uses something the reference does not model
  std::string why;           // for error / unsupported
  std::vector<RefViolation> violations;
};

// Switches for the places where the engine and research/iiq-semantics.md are known
// to differ. The defaults follow the note; the other settings reproduce the engine's
// choice, so that a differential run can look past a known divergence to find others.
struct RefOptions {
  // 4.2: bundle CSVs / violating entitlements are compared only when both are non-null
  // (an empty list is null). false: compare them always (the engine's Violation::SameAs).
  bool null_lists_match_anything = true;
  // 3.4: role expansion requests for attributes outside the account schema are dropped
  // like any other request. false: provision them anyway (the engine's ApplyExpansions).
  bool drop_unschema_expansions = true;
  // 2.3 (unspecified): the order role expansion visits roles, which decides the
  // winner when two roles provision different values of one single-valued attribute.
  // true: the assigned role, then its supers, then its requirements, in document
  // order (breadth first). false: the engine's depth-first stack, which visits them
  // in reverse document order.
  bool expansion_in_document_order = true;
};

// Policies: absent = every Active policy, sorted by name; present = each named one
// (by name, then id) in request order, unknown names dropped, inactive ones checked;
// an empty list means every active policy (CheckOptions::empty_policy_list_means_all).
RefResult ReferenceCheck(const SnapshotObjects& objects, const std::string& identity, const ProvisioningPlan& plan,
                         const std::optional<std::vector<std::string>>& policies = std::nullopt,
                         const RefOptions& options = {});

// The identity's current violations, as a refresh's policy check finds them on the
// stored identity: the PRE state of ReferenceCheck (stored accounts, assigned roles
// re-provisioned, detected roles as stored) evaluated for the same policies, except
// that a PopulationRef's filter runs on the stored identity's attributes (it has an id).
// For engine/scan's differential test.
RefResult ReferenceCurrentViolations(const SnapshotObjects& objects, const std::string& identity,
                                     const std::optional<std::vector<std::string>>& policies = std::nullopt,
                                     const RefOptions& options = {});

// One line per violation, for failure messages: policy/constraint [left] [right] {entitlements}.
std::string FormatViolations(const std::vector<RefViolation>& violations);

}  // namespace preflight::reference
