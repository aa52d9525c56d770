#include "engine/policy/evaluate.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace preflight {
namespace {

// Appends the items not yet in list[from, end) (inline: a slow check calls it a few
// thousand times, mostly for a role's one origin).
[[gnu::always_inline]] inline void AddUnique(std::vector<Index>& list, size_t from, std::span<const Index> items) {
  for (Index i : items)
    if (std::find(list.begin() + from, list.end(), i) == list.end()) list.push_back(i);
}

// Appends to `out` the origins of the held roles of `side` not yet in it since the call
// began (a side's bundle list, CSV without duplicates).
[[gnu::always_inline]] inline void AddHeldOrigins(std::span<const Index> side, const HeldRoles& held,
                                                  std::vector<Index>& out) {
  const size_t from = out.size();
  for (Index r : side) AddUnique(out, from, held.Origins(r));
}

// The roles' names joined by ',' appended to `out` (in place: a name is generated for each
// violation of an unnamed constraint, by the check and again by the answer).
void AppendCsv(const Snapshot& s, std::span<const Index> roles, std::string& out) {
  if (roles.empty()) {
    out += "null";  // StringBuffer.append of a null String
    return;
  }
  const size_t start = out.size();
  for (Index r : roles) {
    if (out.size() > start) out.push_back(',');
    out += s.str(s.roles()[r].name);
  }
}

const Constraint* ConstraintOf(const Snapshot& s, const Violation& v) {
  return v.constraint == kNoIndex ? nullptr : &s.policies()[v.policy].constraints[v.constraint];
}

}  // namespace

bool RoleSodFires(std::span<const Index> left, std::span<const Index> right, const HeldRoles& held) {
  return !left.empty() && !right.empty() && held.HoldsAny(left) && held.HoldsAny(right);
}

size_t RoleSodBundles(std::span<const Index> left, std::span<const Index> right, const HeldRoles& held,
                      std::vector<Index>& left_out, std::vector<Index>& right_out) {
  // SODPolicyExecutor's loop: for each held left role l and held right role r != l, the
  // origins of l go left and the origins of r go right (CSV without duplicates). The
  // left list depends only on which l have such an r, the right one on the (l, r) pairs
  // in order: each is listed in its own pass, the left one first.
  size_t from = left_out.size();
  const bool disjoint = std::none_of(left.begin(), left.end(), [&](Index l) {
    return std::find(right.begin(), right.end(), l) != right.end();
  });
  if (disjoint) {
    // The common case, no role on both sides: every held left role pairs with every held
    // right role (the caller saw one of each held).
    AddHeldOrigins(left, held, left_out);
    const size_t left_count = left_out.size() - from;
    AddHeldOrigins(right, held, right_out);
    return left_count;
  }
  for (Index l : left) {
    auto lo = held.Origins(l);
    if (lo.empty()) continue;
    if (std::any_of(right.begin(), right.end(), [&](Index r) { return r != l && held.Holds(r); }))
      AddUnique(left_out, from, lo);
  }
  const size_t left_count = left_out.size() - from;
  from = right_out.size();
  Index first = kNoIndex;  // the first held left role: it pairs with every held right role but itself
  for (Index l : left) {
    if (!held.Holds(l)) continue;
    if (first == kNoIndex) {
      first = l;
      for (Index r : right)
        if (r != l) AddUnique(right_out, from, held.Origins(r));
    } else if (l != first && std::find(right.begin(), right.end(), first) != right.end()) {
      // A later left role pairs with the same right roles and with `first` too, if it
      // is a right role: nothing else is new.
      AddUnique(right_out, from, held.Origins(first));
      break;
    }
  }
  return left_count;
}

RoleSodCase DisjointRoleSod(std::span<const Index> left, std::span<const Index> right, const HeldRoles& post,
                            const HeldRoles& pre, std::vector<Index>& out, uint32_t* left_count) {
  // Written through pointers into a list on the stack (a slow check writes a thousand such
  // lists: through the vector, each append reloads its ends), then appended at once.
  Index list[kDisjointRoom];
  bool pre_left = false, pre_right = false;
  auto add_side = [&](std::span<const Index> side, Index* from, Index* d, bool& pre_holds) {
    for (Index r : side) {
      pre_holds |= pre.Holds(r);
      for (Index o : post.Origins(r))
        if (std::find(from, d, o) == d) *d++ = o;
    }
    return d;
  };
  Index* const middle = add_side(left, list, list, pre_left);
  if (middle == list) return RoleSodCase::kNone;  // a held role has an origin
  Index* const end = add_side(right, middle, middle, pre_right);
  if (end == middle) return RoleSodCase::kNone;
  if (pre_left && pre_right) return RoleSodCase::kCompare;
  out.insert(out.end(), list, end);
  *left_count = static_cast<uint32_t>(middle - list);
  return RoleSodCase::kNew;
}

bool RoleSodViolation(Index policy, Index constraint, std::span<const Index> left, std::span<const Index> right,
                      const HeldRoles& held, Violation* out) {
  out->policy = policy;
  out->constraint = constraint;
  out->left_bundles.clear();
  out->right_bundles.clear();
  out->entitlements.clear();
  if (!RoleSodFires(left, right, held)) return false;
  RoleSodBundles(left, right, held, out->left_bundles, out->right_bundles);
  return true;
}

bool ViolationName(const Snapshot& s, const Violation& v, std::string* name) {
  return ViolationName(s, v.policy, v.constraint, v.left_bundles, v.right_bundles, name);
}

bool ViolationName(const Snapshot& s, Index policy, Index constraint, std::span<const Index> left,
                   std::span<const Index> right, std::string* name) {
  if (constraint == kNoIndex) return false;
  const Constraint& c = s.policies()[policy].constraints[constraint];
  if (c.has_name) {
    *name = c.name;
    return true;
  }
  if (c.kind != Constraint::Kind::kRoleSod) return false;
  name->clear();
  AppendCsv(s, left, *name);
  *name += " : ";
  AppendCsv(s, right, *name);
  return true;
}

const std::string* ViolationDescription(const Snapshot& s, Index policy, Index constraint) {
  if (constraint == kNoIndex) return nullptr;
  const Policy& p = s.policies()[policy];
  const Constraint& c = p.constraints[constraint];
  if (c.kind != Constraint::Kind::kRoleSod && p.kind != Policy::Kind::kAccount) return nullptr;
  return c.description ? &*c.description : nullptr;
}

std::string EntitlementText(const MatchTerm& t) {
  return absl::StrCat(t.application_name.empty() ? "" : t.application_name + ":", t.name_text, "=", t.value_text);
}

bool ConstraintEqual(const Snapshot& s, const Violation& a, const Violation& b) {
  const Constraint* ca = ConstraintOf(s, a);
  const Constraint* cb = ConstraintOf(s, b);
  if (ca && cb && !ca->id.empty() && !cb->id.empty()) return ca->id == cb->id;
  std::string na, nb;
  return ViolationName(s, a, &na) && ViolationName(s, b, &nb) && na == nb;
}

bool Unchanged(const Violation& pre, const Violation& post) {
  auto differ = [](const auto& a, const auto& b) { return !a.empty() && !b.empty() && a != b; };
  if (differ(pre.left_bundles, post.left_bundles) || differ(pre.right_bundles, post.right_bundles)) return false;
  if (pre.entitlements.empty() || post.entitlements.empty()) return true;
  // MatchTerms of two constraints are different objects: compare what they say.
  auto key = [](const MatchTerm* t) { return std::tie(t->application_name, t->name_text, t->value_text, t->value_null); };
  const auto& x = pre.entitlements;
  const auto& y = post.entitlements;
  if (x.size() != y.size()) return false;
  if (x.size() <= 16) {
    // Equal as multisets, without a copy to sort (a check allocates nothing): each term
    // as many times in both.
    for (const MatchTerm* t : x) {
      auto same = [&](const MatchTerm* u) { return u == t || key(u) == key(t); };
      if (std::count_if(x.begin(), x.end(), same) != std::count_if(y.begin(), y.end(), same)) return false;
    }
    return true;
  }
  auto less = [&](const MatchTerm* x, const MatchTerm* y) { return key(x) < key(y); };
  std::vector<const MatchTerm*> a = x, b = y;
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](const MatchTerm* x, const MatchTerm* y) { return key(x) == key(y); });
}

void HeldRoles::AddOrigins(const Snapshot& s, Index bundle, Index o) {
  // "traverse the hierarchy looking for _bundle ... only process the hierarchy if this
  // is detected": from the origin, follow the first inherited role that is the bundle
  // (named too unless its type is assignable) or of a detectable type (or untyped).
  for (int depth = 0; depth <= 64; ++depth) {
    pairs_.emplace_back(bundle, o);
    if (o == bundle) return;
    const Role& ro = s.roles()[o];
    if (ro.has_type_definition && !ro.type_detectable) return;
    Index next = kNoIndex;
    for (Index i : ro.inheritance) {
      const Role& ri = s.roles()[i];
      if (i == bundle) {
        if (!(ri.has_type_definition && ri.type_assignable)) pairs_.emplace_back(bundle, i);
        return;
      }
      if (!ri.has_type_definition || ri.type_detectable) {
        next = i;
        break;
      }
    }
    if (next == kNoIndex) return;
    o = next;
  }
}

void HeldRoles::Compute(const Snapshot& s, const IdentityState& state) {
  pairs_.clear();
  // SODPolicyExecutor.flatten: every held role and every role it inherits from get
  // the held role as an origin (addBundle), through addOrigin's chain.
  auto flatten = [&](const std::vector<Index>& held) {
    for (Index r : held) {
      AddOrigins(s, r, r);
      for (Index up : s.roles()[r].supers_closure) AddOrigins(s, up, r);
    }
  };
  flatten(state.detected_roles);
  flatten(state.assigned_roles);
  // Group by role, keeping the reach order of origins within a role (a stable sort,
  // without the buffer std::stable_sort allocates).
  order_.resize(pairs_.size());
  for (uint32_t i = 0; i < pairs_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    return pairs_[a].first != pairs_[b].first ? pairs_[a].first < pairs_[b].first : a < b;
  });
  roles_.clear();
  starts_.clear();
  origins_.clear();
  for (uint32_t k : order_) {
    auto [role, origin] = pairs_[k];
    if (roles_.empty() || roles_.back() != role) {
      roles_.push_back(role);
      starts_.push_back(static_cast<uint32_t>(origins_.size()));
    }
    auto begin = origins_.begin() + starts_.back();
    if (std::find(begin, origins_.end(), origin) == origins_.end()) origins_.push_back(origin);
  }
  starts_.push_back(static_cast<uint32_t>(origins_.size()));
  max_origins_ = 0;
  for (size_t i = 0; i < roles_.size(); ++i) max_origins_ = std::max<size_t>(max_origins_, starts_[i + 1] - starts_[i]);
  if (slots_.size() < s.roles().size()) {
    slots_.assign(s.roles().size(), Slot());
    epoch_ = 0;
  }
  if (++epoch_ == 0) {
    std::fill(slots_.begin(), slots_.end(), Slot());
    epoch_ = 1;
  }
  for (size_t i = 0; i < roles_.size(); ++i) {
    slots_[roles_[i]] = {epoch_, static_cast<uint32_t>(i)};
  }
}

bool EvaluateConstraint(const MatchContext& ctx, Index policy, Index constraint, const IdentityState& state,
                        const HeldRoles& held, Violation* out, bool match_first) {
  const Policy& p = ctx.snapshot.policies()[policy];
  const Constraint& c = p.constraints[constraint];
  if (c.disabled || !c.unsupported.empty()) return false;
  // SODPolicyExecutor reads the SODConstraints, GenericPolicyExecutor the GenericConstraints.
  if (c.kind == Constraint::Kind::kRoleSod)
    return p.kind == Policy::Kind::kRoleSod && RoleSodViolation(policy, constraint, c.left, c.right, held, out);
  out->policy = policy;
  out->constraint = constraint;
  out->left_bundles.clear();
  out->right_bundles.clear();
  out->entitlements.clear();
  if (c.kind != Constraint::Kind::kGeneric || (p.kind != Policy::Kind::kEntitlementSod && p.kind != Policy::Kind::kAdvanced))
    return false;
  const auto& identity_attributes = state.Attributes(ctx.snapshot);
  // Only the EntitlementSOD executor reports the violating entitlements.
  std::vector<const MatchTerm*>* matched = p.kind == Policy::Kind::kEntitlementSod ? &out->entitlements : nullptr;
  if (matched && match_first)
    for (const Selector& sel : c.selectors)
      if (!SelectorMatches(ctx, sel, state, identity_attributes, nullptr)) return false;
  for (const Selector& sel : c.selectors) {
    if (!SelectorMatches(ctx, sel, state, identity_attributes, matched)) {
      out->entitlements.clear();
      return false;
    }
  }
  return true;
}

}  // namespace preflight
