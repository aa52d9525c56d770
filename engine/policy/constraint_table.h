#pragma once
// Tables the check derives from a snapshot's policies, built once per snapshot on its
// first check (Snapshot::LazyPolicyState; images do not hold them):
//   - a flat number per constraint, for per-check slots;
//   - PolicyViolation.isConstraintEqual by position: the constraints a violation of a
//     constraint is constraint-equal to, whatever the violation's bundles;
//   - the role pair index: per role, the role SoD constraints naming it, each with a
//     role on its other side, sorted by that role.

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/snapshot.h"

namespace preflight {

class ConstraintTable {
 public:
  static const ConstraintTable& Of(const Snapshot& snapshot);
  explicit ConstraintTable(const Snapshot& snapshot);

  // 0 .. Size(): each constraint of each policy, then one per policy for an Account
  // policy's violations without a GenericConstraint (constraint kNoIndex).
  size_t Flat(ConstraintRef r) const {
    return r.constraint == kNoIndex ? first_.back() + r.policy : first_[r.policy] + r.constraint;
  }
  size_t Size() const { return first_.back() + first_.size() - 1; }

  // The constraints (of any policy, `r` itself among them) that a violation of `r` is
  // constraint-equal to whatever its bundles, as PolicyViolation.isConstraintEqual
  // compares: the same id when both have one, else the same name (Snapshot::
  // ConstraintsWithId, ConstraintsNamed). Empty for a violation with neither. Not for an
  // unnamed role SoD constraint, whose violations are named from their bundles.
  std::span<const ConstraintRef> EqualConstraints(ConstraintRef r) const {
    size_t i = Flat(r);
    return {equal_refs_.data() + equal_starts_[i], equal_starts_[i + 1] - equal_starts_[i]};
  }

  // The role SoD constraints naming `role` on one side that have `other` on the other
  // side (a role on both sides is its own partner).
  std::span<const ConstraintRef> PairedWith(Index role, Index other) const;

  size_t Bytes() const;

 private:
  std::vector<uint32_t> first_;  // policy -> its first flat number; back(): the constraints' count
  std::vector<uint32_t> equal_starts_;  // per flat number, into equal_refs_
  std::vector<ConstraintRef> equal_refs_;
  // Per role r, in [partner_starts_[r], partner_starts_[r + 1]): a role on the other side
  // of a role SoD constraint naming r, and that constraint; sorted by (role, constraint).
  std::vector<uint32_t> partner_starts_;
  std::vector<Index> partner_roles_;
  std::vector<ConstraintRef> partner_refs_;
};

}  // namespace preflight
