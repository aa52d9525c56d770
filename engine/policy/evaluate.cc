#include "engine/policy/evaluate.h"

#include <algorithm>

namespace preflight {
namespace {

void AddUnique(std::vector<Index>& list, const std::vector<Index>& items) {
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
    const auto* lo = held.Origins(l);
    if (!lo) continue;
    for (Index r : c.right) {
      const auto* ro = held.Origins(r);
      if (!ro || r == l) continue;
      AddUnique(out->left_bundles, *lo);
      AddUnique(out->right_bundles, *ro);
    }
  }
  return true;
}

}  // namespace

bool Violation::SameAs(const Violation& o) const {
  if (policy != o.policy || constraint != o.constraint || left_bundles != o.left_bundles ||
      right_bundles != o.right_bundles || entitlements.size() != o.entitlements.size())
    return false;
  std::vector<const MatchTerm*> a = entitlements, b = o.entitlements;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

void HeldRoles::Compute(const Snapshot& s, const IdentityState& state) {
  held_.clear();
  auto add = [&](Index role, Index origin) {
    auto it = std::lower_bound(held_.begin(), held_.end(), role,
                               [](const auto& e, Index r) { return e.first < r; });
    if (it == held_.end() || it->first != role) it = held_.insert(it, {role, {}});
    if (std::find(it->second.begin(), it->second.end(), origin) == it->second.end()) it->second.push_back(origin);
  };
  auto flatten = [&](const std::vector<Index>& roles) {
    for (Index r : roles) {
      add(r, r);
      for (Index up : s.roles()[r].supers_closure) add(up, r);
    }
  };
  flatten(state.detected_roles);
  flatten(state.assigned_roles);
}

const std::vector<Index>* HeldRoles::Origins(Index role) const {
  auto it = std::lower_bound(held_.begin(), held_.end(), role, [](const auto& e, Index r) { return e.first < r; });
  return it != held_.end() && it->first == role ? &it->second : nullptr;
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
