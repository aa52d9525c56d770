#pragma once
// Policy evaluation on one identity state (docs/semantics.md sections 2 and 3):
// role SoD over assigned and detected roles closed upward over inheritance, generic
// constraints (entitlement SoD, Advanced) over IdentitySelectors, Account policies.

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/state/match.h"

namespace preflight {

struct Violation {
  Index policy = kNoIndex;
  Index constraint = kNoIndex;  // kNoIndex: an Account policy without a GenericConstraint
  std::vector<Index> left_bundles;   // held roles (origins) that matched the left side
  std::vector<Index> right_bundles;
  std::vector<const MatchTerm*> entitlements;  // matched leaf terms, left selector first
};

// The violation's constraintName, as IdentityIQ fills it: the constraint's name; for
// an unnamed role SoD constraint "<left CSV> : <right CSV>" from the violation's own
// bundle lists, an empty side written "null" (SODPolicyExecutor.addViolation); none
// for an unnamed generic constraint (false is returned).
bool ViolationName(const Snapshot& snapshot, const Violation& v, std::string* name);
bool ViolationName(const Snapshot& snapshot, Index policy, Index constraint, std::span<const Index> left_bundles,
                   std::span<const Index> right_bundles, std::string* name);

// The violation's description: SODPolicyExecutor and AccountPolicyExecutor copy the
// constraint's (setConstraint); the generic executors do not ("it trashes the
// description"). Null when there is none.
const std::string* ViolationDescription(const Snapshot& snapshot, Index policy, Index constraint);

// "application:attribute=value" (no "application:" for an identity attribute term).
std::string EntitlementText(const MatchTerm& term);

// PolicyViolation.isConstraintEqual: the constraint ids when both violations' have one,
// else the constraint names when both have one; otherwise not equal.
bool ConstraintEqual(const Snapshot& snapshot, const Violation& a, const Violation& b);

// InterrogatorFacade.isConstraintUnchanged: the bundle CSVs equal when both are
// non-null, the violating entitlements equal ignoring order when both are non-null
// (IdentityIQ stores an empty list as null).
bool Unchanged(const Violation& pre, const Violation& post);

// The roles an identity holds for role SoD: every detected then assigned role, and
// every role those inherit from, each with the held roles it was reached through.
class HeldRoles {
 public:
  void Compute(const Snapshot& snapshot, const IdentityState& state);
  // Origins of a role (in the order IIQ reaches them), empty when the role is not held.
  std::span<const Index> Origins(Index role) const {
    size_t i = Find(role);
    return i == kNoIndex ? std::span<const Index>() : OriginsAt(i);
  }
  bool Holds(Index role) const { return Find(role) != kNoIndex; }
  // Holds a role of `roles`.
  bool HoldsAny(std::span<const Index> roles) const {
    return std::any_of(roles.begin(), roles.end(), [&](Index r) { return Holds(r); });
  }
  // The held roles, sorted.
  std::span<const Index> Roles() const { return roles_; }
  // The most origins one held role has.
  size_t MaxOrigins() const { return max_origins_; }
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
  // Inline: a check that reports a thousand role SoD violations asks a few thousand times.
  size_t Find(Index role) const {
    return role < slots_.size() && slots_[role].epoch == epoch_ ? slots_[role].index : kNoIndex;
  }
  std::span<const Index> OriginsAt(size_t i) const {
    return {origins_.data() + starts_[i], starts_[i + 1] - starts_[i]};
  }
  // Appends the (role, origin) pairs AssignedBundle.addOrigin(origin) adds to `role`.
  void AddOrigins(const Snapshot& s, Index role, Index origin);
  // Flat and reused across checks: held roles sorted, and for role i its origins in
  // origins_[starts_[i], starts_[i + 1]).
  std::vector<Index> roles_;
  std::vector<uint32_t> starts_;
  std::vector<Index> origins_;
  std::vector<std::pair<Index, Index>> pairs_;  // scratch: (role, origin) in reach order
  std::vector<uint32_t> order_;                 // scratch: pairs_ positions grouped by role
  // O(1) Find, one read: slots_[role].index is its position in roles_ when
  // slots_[role].epoch == epoch_.
  struct Slot {
    uint32_t epoch = 0;
    uint32_t index = 0;
  };
  std::vector<Slot> slots_;
  uint32_t epoch_ = 0;
  size_t max_origins_ = 0;
};

// Evaluates one constraint; fills `out` and returns true when it is violated.
// Disabled and unsupported constraints never fire (the caller reports the latter).
// `match_first`: an EntitlementSOD constraint's selectors are first matched without
// listing the matched terms (stopping where the match is decided), and listed only when
// all match: most evaluated constraints do not fire. Off lists while matching: the same
// answer.
bool EvaluateConstraint(const MatchContext& ctx, Index policy, Index constraint, const IdentityState& state,
                        const HeldRoles& held, Violation* out, bool match_first = true);

// SODPolicyExecutor on one role SoD constraint's sides: is a role of each side held?
bool RoleSodFires(std::span<const Index> left, std::span<const Index> right, const HeldRoles& held);
// The bundle lists of a fired role SoD constraint's violation (RoleSodFires): appends the origins of
// the held roles of each side, each once, to `left_out` and then to `right_out` (which
// may be one list: the left bundles are then followed by the right ones); returns how
// many left ones.
size_t RoleSodBundles(std::span<const Index> left, std::span<const Index> right, const HeldRoles& held,
                      std::vector<Index>& left_out, std::vector<Index>& right_out);
// How CheckOptions::role_sod_direct decides a role SoD constraint read from its sides
// (ConstraintTable::DirectRoleSod): kNone, no violation after the plan; kNew, a violation new
// whatever its bundles, written; kCompare, a violation to build and compare with the pre
// violations; kOther, not such a constraint.
enum class RoleSodCase : uint8_t { kOther, kNone, kNew, kCompare };
// For sides without a common role, in one pass over them: kNone when `post` holds no role of
// a side; kCompare when `pre` holds a role of each; else kNew, and the origins of each
// side's held roles are appended to `out` (RoleSodBundles' lists, the left ones first,
// `*left_count` of them). For sides of at most kDisjointRoom / post.MaxOrigins() roles.
constexpr size_t kDisjointRoom = 64;
RoleSodCase DisjointRoleSod(std::span<const Index> left, std::span<const Index> right, const HeldRoles& post,
                            const HeldRoles& pre, std::vector<Index>& out, uint32_t* left_count);
// SODPolicyExecutor on one role SoD constraint's sides: fills `out` (its bundle lists,
// the origins of the held roles on each side) and returns true when a role of each side
// is held.
bool RoleSodViolation(Index policy, Index constraint, std::span<const Index> left, std::span<const Index> right,
                      const HeldRoles& held, Violation* out);

// AccountPolicyExecutor: one violation per application (and instance) on which the
// accounts hold more than one account, in (application, instance) order. Before the
// plan IdentityIQ queries the stored links (evaluateUsingQuery), after it counts the
// simulated ones (evaluateUsingLinks): callers pass the matching accounts.
template <typename Accounts, typename Key>
void AccountViolations(Index policy, Index constraint, const Accounts& accounts, Key key,
                       std::vector<std::pair<Index, Id>>& scratch, std::vector<Violation>& out) {
  scratch.clear();
  for (const auto& a : accounts) scratch.push_back(key(a));
  std::sort(scratch.begin(), scratch.end());
  for (size_t i = 0; i + 1 < scratch.size(); ++i) {
    if (scratch[i] != scratch[i + 1] || (i > 0 && scratch[i - 1] == scratch[i])) continue;
    Violation v;
    v.policy = policy;
    v.constraint = constraint;
    out.push_back(std::move(v));
  }
}

}  // namespace preflight
