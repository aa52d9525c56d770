#pragma once
// IT role detection (IdentityIQ's EntitlementCorrelator): a role matches when it is
// detectable, enabled, its profiles match the identity's accounts, and every role it
// inherits from passes as a super; it is detected when no role inheriting from it
// matches too (evaluateTopDown keeps the most specific match of a branch). The
// compiler runs it on the post state.

#include <vector>

#include "engine/state/identity_state.h"

namespace preflight {

// Re-detects IT roles on `state` (the post step). Roles detected before keep their
// order; newly detected ones follow in snapshot order.
void DetectRoles(const Snapshot& snapshot, const ValueIds& ids, IdentityState& state);

// Detection limited to the roles that read one of `changes` (and the roles inheriting
// from them); every other role keeps its stored status. Valid only when the stored
// detected roles are what a full detection of the pre state finds
// (Identity::kDetectionConsistent).
void DetectChangedRoles(const Snapshot& snapshot, const ValueIds& ids, const std::vector<Change>& changes,
                        IdentityState& state);

}  // namespace preflight
