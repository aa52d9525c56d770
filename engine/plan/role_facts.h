#pragma once
// What a check needs to know about a role that depends on the snapshot alone, computed
// once per snapshot on its first check (Snapshot::LazyPolicyState, slot 1) instead of in
// every check: the entitlements assigning the role provisions (its expansion, walked
// through its supers and requirements) and whether a role SoD constraint can see it (the
// detection's policy scope, DetectScope::kPolicyRoles). Built lazily, a snapshot opened
// from an image gets them without the image holding them.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/model/snapshot.h"

namespace preflight {

// One entitlement a role assignment provisions.
struct Expansion {
  Index role = kNoIndex;       // the assigned role that asked for it
  Index via = kNoIndex;        // the role whose profile holds it
  Index application = kNoIndex;
  Id attribute = kNoId;
  Id value = kNoId;
};

// Appends what assigning `assigned` provisions (docs/semantics.md section 4): the role,
// its supers and requirements (skipping disabled ones) and theirs in turn, breadth first
// in document order; each one's profiles' EQ and CONTAINS_ALL leaves, the first child of
// an OR, only the first profile when orProfiles. `queue` is scratch.
void ExpandRole(const Snapshot& snapshot, Index assigned, std::vector<Index>& queue, std::vector<Expansion>& out);

// Whether a role SoD constraint names the role or a role it inherits from: only then can
// whether it is detected change an answer (engine/plan/detection.h, kPolicyRoles).
bool SeenByRoleSod(const Snapshot& snapshot, Index role);

class RoleFacts {
 public:
  static const RoleFacts& Of(const Snapshot& snapshot);
  explicit RoleFacts(const Snapshot& snapshot);

  // ExpandRole(role), when it was kept (all but roles past the size budget, which a
  // check walks itself).
  std::optional<std::span<const Expansion>> Expanded(Index role) const {
    const Range r = ranges_[role];
    if (r.begin == kNotKept) return std::nullopt;
    return std::span<const Expansion>(expansions_.data() + r.begin, r.count);
  }
  bool SeenByRoleSod(Index role) const { return seen_[role] != 0; }
  // What a change read by `role` has DetectChangedRoles re-examine under kPolicyRoles,
  // when it was kept: the role and the roles inheriting from it (at any depth) that a
  // role SoD constraint can see, and their supers it can see; sorted. The union over the
  // roles reading the changes is the detection's candidate set.
  std::optional<std::span<const Index>> ScopedCandidates(Index role) const {
    const Range r = candidate_ranges_[role];
    if (r.begin == kNotKept) return std::nullopt;
    return std::span<const Index>(candidates_.data() + r.begin, r.count);
  }
  size_t Bytes() const;

 private:
  static constexpr uint32_t kNotKept = UINT32_MAX;
  void KeepScopedCandidates(const Snapshot& snapshot);
  std::vector<Expansion> expansions_;
  std::vector<Range> ranges_;  // role -> its expansion in expansions_ (begin kNotKept: not kept)
  std::vector<uint8_t> seen_;
  std::vector<Index> candidates_;
  std::vector<Range> candidate_ranges_;  // role -> its ScopedCandidates in candidates_
};

}  // namespace preflight
