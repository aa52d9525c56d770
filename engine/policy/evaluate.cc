#include "engine/policy/evaluate.h"

#include <algorithm>

namespace preflight {
namespace {

void AddUnique(std::vector<Index>& list, std::span<const Index> items) {
  for (Index i : items)
    if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
}

bool RoleSod(const Constraint& c, const HeldRoles& held, Violation* out) {
  if (c.left.empty() || c.right.empty()) return false;
  bool left = std::any_of(c.left.begin(), c.left.end(), [&](Index r) { return held.Holds(r); });
  bool right = std::any_of(c.right.begin(), c.right.end(), [&](Index r) { return held.Holds(r); });
  if (!left || !right) return false;
  // One consolidated violation: for each held left role l and held right role r != l,
  // the origins of l go left and the origins of r go right (CSV without duplicates).
  for (Index l : c.left) {
    auto lo = held.Origins(l);
    if (lo.empty()) continue;
    for (Index r : c.right) {
      auto ro = held.Origins(r);
      if (ro.empty() || r == l) continue;
      AddUnique(out->left_bundles, lo);
      AddUnique(out->right_bundles, ro);
    }
  }
  return true;
}

}  // namespace

bool Violation::SameAs(const Violation& o) const {
  // InterrogatorFacade.isConstraintUnchanged compares each list only when both sides
  // have one: IIQ stores an empty bundle CSV or entitlement list as null.
  auto differ = [](const auto& a, const auto& b) { return !a.empty() && !b.empty() && a != b; };
  if (policy != o.policy || constraint != o.constraint || differ(left_bundles, o.left_bundles) ||
      differ(right_bundles, o.right_bundles))
    return false;
  if (entitlements.empty() || o.entitlements.empty()) return true;
  std::vector<const MatchTerm*> a = entitlements, b = o.entitlements;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

void HeldRoles::Compute(const Snapshot& s, const IdentityState& state) {
  pairs_.clear();
  auto flatten = [&](const std::vector<Index>& held) {
    for (Index r : held) {
      pairs_.emplace_back(r, r);
      for (Index up : s.roles()[r].supers_closure) pairs_.emplace_back(up, r);
    }
  };
  flatten(state.detected_roles);
  flatten(state.assigned_roles);
  // Group by role, keeping the reach order of origins within a role.
  std::stable_sort(pairs_.begin(), pairs_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  roles_.clear();
  starts_.clear();
  origins_.clear();
  for (size_t i = 0; i < pairs_.size(); ++i) {
    if (roles_.empty() || roles_.back() != pairs_[i].first) {
      roles_.push_back(pairs_[i].first);
      starts_.push_back(static_cast<uint32_t>(origins_.size()));
    }
    auto begin = origins_.begin() + starts_.back();
    if (std::find(begin, origins_.end(), pairs_[i].second) == origins_.end()) origins_.push_back(pairs_[i].second);
  }
  starts_.push_back(static_cast<uint32_t>(origins_.size()));
  if (stamp_.size() < s.roles().size()) {
    stamp_.assign(s.roles().size(), 0);
    slot_.assign(s.roles().size(), 0);
    epoch_ = 0;
  }
  if (++epoch_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0);
    epoch_ = 1;
  }
  for (size_t i = 0; i < roles_.size(); ++i) {
    stamp_[roles_[i]] = epoch_;
    slot_[roles_[i]] = static_cast<uint32_t>(i);
  }
}

size_t HeldRoles::Find(Index role) const {
  return role < stamp_.size() && stamp_[role] == epoch_ ? slot_[role] : kNoIndex;
}

std::span<const Index> HeldRoles::Origins(Index role) const {
  size_t i = Find(role);
  return i == kNoIndex ? std::span<const Index>() : OriginsAt(i);
}

bool EvaluateConstraint(const MatchContext& ctx, Index policy, Index constraint, const IdentityState& state,
                        const HeldRoles& held, Violation* out) {
  const Policy& p = ctx.snapshot.policies()[policy];
  const Constraint& c = p.constraints[constraint];
  if (c.disabled || !c.unsupported.empty()) return false;
  out->policy = policy;
  out->constraint = constraint;
  out->left_bundles.clear();
  out->right_bundles.clear();
  out->entitlements.clear();
  if (c.kind == Constraint::Kind::kRoleSod) return RoleSod(c, held, out);
  if (c.kind != Constraint::Kind::kGeneric) return false;
  const auto& identity_attributes = ctx.snapshot.identities()[state.identity].attributes;
  // Only the EntitlementSOD executor reports the violating entitlements.
  std::vector<const MatchTerm*>* matched = p.kind == Policy::Kind::kEntitlementSod ? &out->entitlements : nullptr;
  for (const Selector& sel : c.selectors) {
    if (!SelectorMatches(ctx, sel, state, identity_attributes, matched)) {
      out->entitlements.clear();
      return false;
    }
  }
  return true;
}

}  // namespace preflight
