#pragma once
// The plan compiler (docs/semantics.md sections 1, 4 and 5):
//   pre  = the identity as stored, with its assigned roles re-provisioned (their
//          required IT roles' profile entitlements added to accounts); detected
//          roles as stored.
//   post = pre with the plan applied (account ops, attribute and permission
//          requests, IIQ assignedRoles), newly assigned roles expanded to
//          entitlements, and IT roles re-detected from the resulting accounts.
// Assignment rules are not re-run (IdentityIQ does not during the check).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/plan.h"
#include "engine/plan/detection.h"
#include "engine/plan/role_facts.h"
#include "engine/state/identity_state.h"

namespace preflight {

// Buffers a projection reuses from one call to the next (see Projection::scratch).
struct ProjectionScratch {
  std::vector<Index> queue, roles, removed;
  std::vector<Id> values, rights;
  std::vector<Id> run_values, fresh_values;  // ApplyExpansions' runs, AddValues' new values
  std::vector<Expansion> removed_expansions, kept_expansions;
  // Spare accounts of the pre and the post state (see ResizeAccounts): one each, so that
  // an account position of a state is always served by the same object.
  std::vector<AccountState> spare_pre, spare_post;
  std::vector<AccountView> stored_accounts;  // the identity's, read before the pre state is built
  DetectionScratch detection;
};

struct Projection {
  IdentityState pre;
  IdentityState post;
  // With ProjectShortcuts::prefetch, what the snapshot's indexes by value hold for each
  // of `changes` (found once, for detection and the constraint index); else empty.
  std::vector<Snapshot::ValueIndexes> change_indexes;
  std::vector<Expansion> pre_expansions;   // from roles assigned before the plan
  std::vector<Expansion> plan_expansions;  // from roles the plan assigns
  std::vector<Diagnostic> diagnostics;     // requests ignored, unknown roles...
  std::vector<Change> changes;             // pre -> post account differences, sorted, unique
  // Reused by the next projection into this object: a caller that keeps one Projection
  // per thread (the check's scratch) projects without allocating once it has grown.
  ProjectionScratch scratch;
};

// `ids` must outlive the projection's use (it resolves plan-only strings).
absl::StatusOr<Projection> Project(const Snapshot& snapshot, Index identity, const ProvisioningPlan& plan,
                                   ValueIds& ids);
// Shortcuts of the projection, each giving the same projection (off: the plain way).
struct ProjectShortcuts {
  // The snapshot's indexes by value searched as soon as the changes are known
  // (Snapshot::FindValueIndexes), what they hold kept in Projection::change_indexes for
  // detection and the constraint index.
  bool prefetch = false;
  // A run of role expansions adding to one multi-valued attribute of one application
  // applied as one addition of the run's values (the account, the attribute and its held
  // values looked up once, not once a value).
  bool group_expansions = false;
};
// The same into `out`, reusing its buffers (the check's hot path). `scope` says which
// roles the post state's detection re-examines (engine/plan/detection.h). With `facts`
// (RoleFacts::Of(snapshot)), role expansions and scopes are read from them rather than
// worked out: the same projection.
absl::Status ProjectInto(const Snapshot& snapshot, Index identity, const ProvisioningPlan& plan, ValueIds& ids,
                         Projection& out, DetectScope scope = DetectScope::kAll, const RoleFacts* facts = nullptr,
                         ProjectShortcuts shortcuts = {});

// Hands the strings of the plan's account requests that the projection looks up in the
// snapshot's pool (instances, native identities, attribute names and values, permission
// targets) to ids.Expect, so that a later ids.Resolve looks them up together.
void ExpectPlanStrings(const ProvisioningPlan& plan, ValueIds& ids);

// Only the pre state (and pre_expansions) into `out`; `post` and `changes` are left
// empty or stale. For engine/scan, which evaluates stored identities as they are.
absl::Status ProjectPreInto(const Snapshot& snapshot, Index identity, ValueIds& ids, Projection& out);

// Sets the number of accounts without destroying any: accounts past `n` wait in `spare`,
// with their memory, for the next state that needs one (which must set all their fields).
void ResizeAccounts(std::vector<AccountState>& accounts, size_t n, std::vector<AccountState>& spare);
// to = from, reusing to's memory (and spare accounts).
void CopyState(IdentityState& to, const IdentityState& from, std::vector<AccountState>& spare);

// Everything that differs between two states' accounts (sorted, unique).
void DiffAccounts(const IdentityState& pre, const IdentityState& post, std::vector<Change>& out);

}  // namespace preflight
