#pragma once
// A deterministic generator of small snapshots and plans for differential testing
// (tests/check_differential_test.cc, fuzz/sod_check_differential.cc). It produces
// name-based SnapshotObjects, so the engine (through SnapshotBuilder::objects()) and
// the reference checker read exactly the same input.
//
// Shape: 3-5 applications (most with an account schema, some case-insensitive),
// 5-30 roles (IT roles with 1-3 CONTAINS_ALL / EQ profile leaves, sometimes an OR
// composite, sometimes orProfiles; business roles requiring IT roles; inheritance
// chains; some disabled), 1-4 policies (role SoD including the same role on both
// sides and unnamed constraints, entitlement SoD with OR / AND expressions and
// containers, Advanced, disabled constraints, inactive policies), 1-5 identities
// whose stored detected roles are plausible or deliberately wrong, and a plan mixing
// entitlement Add / Remove / Set / Retain, assignedRoles Add / Remove / Set, account
// Create / Delete / Disable / Enable.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/objects.h"
#include "engine/model/plan.h"

namespace preflight::testing {

// The source of every random decision; a seed or a fuzzer's bytes.
class Choices {
 public:
  virtual ~Choices() = default;
  virtual uint32_t Below(uint32_t n) = 0;  // uniform-ish in [0, n); n > 0
  bool Percent(uint32_t p) { return Below(100) < p; }
  uint32_t Range(uint32_t lo, uint32_t hi) { return lo + Below(hi - lo + 1); }  // [lo, hi]
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(static_cast<uint32_t>(v.size()))]; }
};

// SplitMix64: the same sequence on every platform and standard library.
class SeededChoices : public Choices {
 public:
  explicit SeededChoices(uint64_t seed) : state_(seed) {}
  uint32_t Below(uint32_t n) override;

 private:
  uint64_t state_;
};

struct RandomCase {
  SnapshotObjects objects;
  std::string identity;
  ProvisioningPlan plan;
  std::optional<std::vector<std::string>> policies;
};

RandomCase GenerateCase(Choices& choices);
RandomCase GenerateCase(uint64_t seed);

// The case as IdentityIQ XML (one <sailpoint> snapshot file, then the plan) plus the
// identity and policies, so a failure can be pasted into a scenario test.
std::string DescribeCase(const RandomCase& c);
std::string SnapshotXml(const SnapshotObjects& objects);
std::string PlanXml(const ProvisioningPlan& plan);

}  // namespace preflight::testing

// ---- The differential harness (engine Check vs reference::ReferenceCheck).
namespace preflight::testing {

struct Comparison {
  bool skipped = false;   // the reference does not model something in the case
  bool mismatch = false;
  std::string engine;     // both answers as text
  std::string reference;
  // The engine's violations of constraints whose value gate names three or more keys
  // (engine/policy/constraint_table.h): the gates are exercised.
  size_t gated_violations = 0;
  // The engine's role SoD violations of constraints the identity held no role of one
  // side of before the plan: their pre evaluation is skipped (CheckOptions::skip_unheld_pre).
  size_t unheld_pre_violations = 0;
  // Of those, the ones the check writes straight from the held roles without comparing
  // (CheckOptions::role_sod_direct: no unnamed role SoD constraint in the snapshot, the
  // constraint equal only to itself); and of those, the ones with a role on both sides.
  size_t direct_role_sod_violations = 0;
  size_t direct_overlapping_violations = 0;
  // The engine's violations of value-gated constraints that list a term more than once
  // (two accounts of its application hold its value): terms_from_gates counts them.
  size_t repeated_term_violations = 0;
  // The engine's role SoD violations of constraints too wide to keep their sides in the
  // constraint table's form (ConstraintTable::kInlineRoles): read from its records.
  size_t wide_role_sod_violations = 0;
};

// Builds the snapshot from c.objects, runs Check() (with or without the constraint
// index) and the reference, and compares the violation lists exactly, in order.
// `ref_options` (a reference::RefOptions, see tests/reference_checker.h) picks the
// note's answer (default) or the engine's at the known divergences.
struct CompareOptions {
  // The default CheckOptions (the constraint index and every fast path), or
  // CheckOptions::Exhaustive() (each one off).
  bool use_constraint_index = true;
  bool null_lists_match_anything = true;
  bool drop_unschema_expansions = true;
  bool expansion_in_document_order = true;
  bool through_image = false;  // the engine checks the snapshot written as an image and opened again
  // The value gates' tuning at its eager end (CheckOptions::gate_probe_from 0,
  // held_keys_from 1): every changed key's list probed by held key, and a state's held
  // keys all found from its second key on. Generated snapshots are too small to reach
  // the defaults, so the differential test sets this for every other seed.
  bool eager_gate_keys = false;
};
Comparison CompareCase(const RandomCase& c, const CompareOptions& options = {});

// Greedily removes plan requests, identities, accounts, attributes, roles, profiles,
// policies, constraints and terms while `still_fails` holds: a small reproduction.
RandomCase Minimize(RandomCase c, const std::function<bool(const RandomCase&)>& still_fails);

}  // namespace preflight::testing
