#pragma once
// Load-time pass: marks each identity whose assigned roles' expansion adds nothing to
// its accounts (IdentityView::kExpansionNoop), and whose stored detected roles equal a
// fresh detection (IdentityView::kDetectionConsistent). For those a check skips the
// expansion of the pre state and re-detects only the roles that read a changed
// attribute, and gets the same answer as a full detection.

#include "engine/model/snapshot.h"

namespace preflight {

void PrecomputeIdentityFlags(Snapshot& snapshot);

}  // namespace preflight
