#pragma once
// Load passes for the IdentityIQ semantics the check relies on: role types and the
// reach of detection (EntitlementCorrelator), inheritance cycles, and the constraint
// identities PolicyViolation.isConstraintEqual compares.

#include "engine/model/objects.h"
#include "engine/model/snapshot.h"

namespace preflight {

// After the upward role closure: each role's RoleTypeDefinition (ObjectConfig Bundle's
// role types, else IdentityIQ's shipped ones), whether detection reaches it (it or a
// role it inherits from has a detectable type: the top-down walk starts at the least
// specific detectable roles), the downward closure, and an error diagnostic per
// inheritance cycle (IdentityIQ recurses on one without end; its roles are never
// detected here).
void ApplyRoleTypes(Snapshot& snapshot, const SnapshotObjects& objects);

// Registers the constraints of one policy by id and by name (Snapshot::ConstraintsWithId).
void IndexConstraintIdentity(Snapshot& snapshot, Index policy);

}  // namespace preflight
