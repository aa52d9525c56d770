#pragma once
// Policy evaluation on one identity state (research/iiq-semantics.md 1.4-1.6):
// role SoD over assigned and detected roles closed upward over inheritance, and
// generic constraints (entitlement SoD, Advanced) over IdentitySelectors.

#include <vector>

#include "engine/policy/match.h"

namespace preflight {

struct Violation {
  Index policy = kNoIndex;
  Index constraint = kNoIndex;
  std::vector<Index> left_bundles;   // held roles (origins) that matched the left side
  std::vector<Index> right_bundles;
  std::vector<const MatchTerm*> entitlements;  // matched leaf terms, left selector first

  // IdentityIQ's "unchanged" (InterrogatorFacade.isConstraintUnchanged): same
  // constraint, same bundle CSVs, same violating entitlements ignoring order.
  bool SameAs(const Violation& other) const;
};

// The roles an identity holds for role SoD: every detected then assigned role, and
// every role those inherit from, each with the held roles it was reached through.
class HeldRoles {
 public:
  void Compute(const Snapshot& snapshot, const IdentityState& state);
  // Origins of a role, empty when the role is not held.
  const std::vector<Index>* Origins(Index role) const;
  bool Holds(Index role) const { return Origins(role) != nullptr; }
  // Calls f(role) for every role held by one and not the other, or held by both
  // through different origins.
  template <typename F>
  static void ForEachDifference(const HeldRoles& a, const HeldRoles& b, F f) {
    size_t i = 0, j = 0;
    while (i < a.held_.size() || j < b.held_.size()) {
      if (j == b.held_.size() || (i < a.held_.size() && a.held_[i].first < b.held_[j].first)) {
        f(a.held_[i++].first);
      } else if (i == a.held_.size() || b.held_[j].first < a.held_[i].first) {
        f(b.held_[j++].first);
      } else {
        if (a.held_[i].second != b.held_[j].second) f(a.held_[i].first);
        ++i;
        ++j;
      }
    }
  }

 private:
  std::vector<std::pair<Index, std::vector<Index>>> held_;  // sorted by role
};

// Evaluates one constraint; fills `out` and returns true when it is violated.
// Disabled and unsupported constraints never fire (the caller reports the latter).
bool EvaluateConstraint(const MatchContext& ctx, Index policy, Index constraint, const IdentityState& state,
                        const HeldRoles& held, Violation* out);

}  // namespace preflight
