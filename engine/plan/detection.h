#pragma once
// IT role detection (IdentityIQ's EntitlementCorrelator): a role matches when it is
// detectable, enabled, its profiles match the identity's accounts, and every role it
// inherits from passes as a super; it is detected when no role inheriting from it
// matches too (evaluateTopDown keeps the most specific match of a branch). The
// compiler runs it on the post state.

#include <span>
#include <vector>

#include "engine/plan/role_facts.h"
#include "engine/state/identity_state.h"

namespace preflight {

// A set of roles by index, emptied in O(1): a role is in it when its stamp is the
// current epoch.
struct RoleMarks {
  std::vector<uint32_t> stamp;
  uint32_t epoch = 0;
  void Reset(size_t roles);
  void Set(Index r) { stamp[r] = epoch; }
  bool Has(Index r) const { return stamp[r] == epoch; }
  // Adds r; false when it was in already.
  bool Insert(Index r) { return stamp[r] == epoch ? false : (stamp[r] = epoch, true); }
};

// What a detection reuses from one call to the next; owned by the caller's per-thread
// scratch (engine/plan/compiler.h ProjectionScratch), so that detection allocates nothing
// once the buffers have grown.
struct DetectionScratch {
  std::vector<Index> candidates, detected, ordered, stack;
  RoleMarks candidate;
  // Per-detection memo by role (valid when known.Has(r)): 1 matching known, 2 matching,
  // 4 full known, 8 full.
  RoleMarks known;
  std::vector<uint8_t> bits;
  // Guided detection: roots of the walk, roles kept, roles seen.
  RoleMarks root, kept, seen;
};

// Which roles a detection re-examines.
enum class DetectScope {
  kAll,
  // Only the roles a role SoD constraint can see: the role, or one it inherits from, is
  // named by one (Snapshot::ConstraintsNamingRole). Whether another role is detected
  // changes no policy's answer (only role SoD reads held roles, and a role is held
  // only through itself and the roles it inherits from), so it keeps its stored status.
  // What the check uses; the exact detected list for everything else.
  kPolicyRoles,
};

// Re-detects IT roles on `state` (the post step). Roles detected before keep their
// order; newly detected ones follow in snapshot order.
// With `facts`, kPolicyRoles reads each role's scope from them (RoleFacts::SeenByRoleSod),
// and DetectChangedRoles its candidates (RoleFacts::ScopedCandidates).
void DetectRoles(const Snapshot& snapshot, const ValueIds& ids, IdentityState& state, DetectionScratch& scratch,
                 DetectScope scope = DetectScope::kAll, const RoleFacts* facts = nullptr);

// Detection limited to the roles that read one of `changes` (and the roles inheriting
// from them); every other role keeps its stored status. Valid only when the stored
// detected roles are what a full detection of the pre state finds
// (Identity::kDetectionConsistent).
// `found`: the roles reading each change (Snapshot::FindValueIndexes), when the caller
// found them already; empty, they are looked up.
void DetectChangedRoles(const Snapshot& snapshot, const ValueIds& ids, const std::vector<Change>& changes,
                        IdentityState& state, DetectionScratch& scratch, DetectScope scope = DetectScope::kAll,
                        const RoleFacts* facts = nullptr, std::span<const Snapshot::ValueIndexes> found = {});

}  // namespace preflight
