#pragma once
// Population-wide runs over a snapshot (docs/semantics.md, "Scan and impact"):
//   Scan         every current violation of every (selected) identity: the pre state a
//                check builds, evaluated with the check's own constraint evaluation
//                (engine/policy), except that populations run on the stored identity.
//   ImpactChange the same identities in two snapshots (objects replaced or added):
//                violations and detected roles gained and lost per identity.
//   ImpactPlan   one plan applied to every selected identity through Check: the new
//                violations per identity.
// Identities are split into chunks run on a thread pool; the snapshot is shared
// read-only (no locks). Rows reach the sink chunk by chunk, in identity order, with at
// most a few chunks per thread in memory.

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/plan.h"
#include "engine/model/snapshot.h"
#include "engine/policy/check.h"
#include "engine/util/limits.h"

namespace preflight {

struct ScanRow {
  enum class Kind { kViolation, kRole };
  Index identity = kNoIndex;  // in the snapshot scanned (ImpactChange: the `after` one)
  std::string identity_name;
  Kind kind = Kind::kViolation;
  // "" (scan), "new" (impact of a plan), "gained" or "lost" (impact of a change).
  std::string change;
  ViolationReport violation;  // kViolation
  std::string role;           // kRole: a detected role gained or lost
};

struct ScanOptions {
  // Absent: the active policies by name; present: these, by name or id, in order
  // (unknown names skipped, inactive ones scanned), as a check selects them.
  std::optional<std::vector<std::string>> policies;
  std::string filter;                       // SCIM filter over Users; empty: every identity
  size_t start = 0, stop = static_cast<size_t>(-1);  // a slice of the selected identities
  int threads = 0;                          // 0: every core
  size_t chunk_identities = 256;
  // Called after each chunk is emitted, from the calling thread.
  std::function<void(size_t done, size_t total)> progress;
  Limits limits;
  // Impact: take an identity's refreshed state to be its stored one when the load found
  // its stored detected roles equal to a fresh detection. Off re-detects every identity:
  // the same answer, slower (the tests compare the two).
  bool trust_identity_flags = true;
};

struct ScanSummary {
  size_t identities = 0;  // identities evaluated
  size_t rows = 0;
  struct Count {
    std::string policy_name, constraint_name, change, kind;  // kind "violation" or "role"
    size_t rows = 0;
  };
  std::vector<Count> counts;  // sorted
  std::vector<Diagnostic> diagnostics;
  double ms = 0;
};

// Receives the rows of one chunk; returning false stops the run (kCancelled).
using ScanSink = std::function<bool(std::span<const ScanRow> rows)>;

// The identities `options` selects (filter, then slice), in snapshot order.
absl::StatusOr<std::vector<Index>> SelectIdentities(const Snapshot& snapshot, const ScanOptions& options);

absl::StatusOr<ScanSummary> Scan(const Snapshot& snapshot, const ScanOptions& options, const ScanSink& sink);

// Identities are matched by name; the filter and slice select in `after`. Both sides
// evaluate the refreshed state (the pre state with IT roles re-detected, as a refresh
// with role detection does), so that an unchanged snapshot reports nothing.
absl::StatusOr<ScanSummary> ImpactChange(const Snapshot& before, const Snapshot& after, const ScanOptions& options,
                                         const ScanSink& sink);

absl::StatusOr<ScanSummary> ImpactPlan(const Snapshot& snapshot, const ProvisioningPlan& plan,
                                       const ScanOptions& options, const ScanSink& sink);

// The snapshot `base` with the objects of `changes` replacing those of the same name
// (roles, policies, populations, identities, applications) or added; `activate` names
// policies to make Active. Loaded strictly.
absl::StatusOr<std::shared_ptr<const Snapshot>> LoadChangedSnapshot(const std::vector<std::string>& base,
                                                                    const std::vector<std::string>& changes,
                                                                    const std::vector<std::string>& activate,
                                                                    const Limits& limits);

}  // namespace preflight
