#pragma once
// Policy evaluation on one identity state (research/iiq-semantics.md 1.4-1.6):
// role SoD over assigned and detected roles closed upward over inheritance, and
// generic constraints (entitlement SoD, Advanced) over IdentitySelectors.

#include <span>
#include <vector>

#include "engine/state/match.h"

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
  // Origins of a role (in the order IIQ reaches them), empty when the role is not held.
  std::span<const Index> Origins(Index role) const;
  bool Holds(Index role) const { return Find(role) != kNoIndex; }
  // Calls f(role) for every role held by one and not the other, or held by both
  // through different origins.
  template <typename F>
  static void ForEachDifference(const HeldRoles& a, const HeldRoles& b, F f) {
    size_t i = 0, j = 0;
    while (i < a.roles_.size() || j < b.roles_.size()) {
      if (j == b.roles_.size() || (i < a.roles_.size() && a.roles_[i] < b.roles_[j])) {
        f(a.roles_[i++]);
      } else if (i == a.roles_.size() || b.roles_[j] < a.roles_[i]) {
        f(b.roles_[j++]);
      } else {
        auto x = a.OriginsAt(i), y = b.OriginsAt(j);
        if (!std::equal(x.begin(), x.end(), y.begin(), y.end())) f(a.roles_[i]);
        ++i;
        ++j;
      }
    }
  }

 private:
  size_t Find(Index role) const;
  std::span<const Index> OriginsAt(size_t i) const {
    return {origins_.data() + starts_[i], starts_[i + 1] - starts_[i]};
  }
  // Flat and reused across checks: held roles sorted, and for role i its origins in
  // origins_[starts_[i], starts_[i + 1]).
  std::vector<Index> roles_;
  std::vector<uint32_t> starts_;
  std::vector<Index> origins_;
  std::vector<std::pair<Index, Index>> pairs_;  // scratch: (role, origin) in reach order
  // O(1) Find: slot_[role] is its position in roles_ when stamp_[role] == epoch_.
  std::vector<uint32_t> stamp_, slot_;
  uint32_t epoch_ = 0;
};

// Evaluates one constraint; fills `out` and returns true when it is violated.
// Disabled and unsupported constraints never fire (the caller reports the latter).
bool EvaluateConstraint(const MatchContext& ctx, Index policy, Index constraint, const IdentityState& state,
                        const HeldRoles& held, Violation* out);

}  // namespace preflight
