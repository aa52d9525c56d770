#include "engine/policy/constraint_table.h"

#include <algorithm>
#include <bit>
#include <utility>
#include <tuple>

namespace preflight {

const ConstraintTable& ConstraintTable::Of(const Snapshot& s) {
  return s.LazyPolicyState<ConstraintTable>([](const Snapshot& snapshot) { return new ConstraintTable(snapshot); },
                                            [](const ConstraintTable& t) { return t.Bytes(); });
}

ConstraintTable::ConstraintTable(const Snapshot& s) {
  const auto& policies = s.policies();
  first_.assign(policies.size() + 1, 0);
  for (size_t p = 0; p < policies.size(); ++p)
    first_[p + 1] = first_[p] + static_cast<uint32_t>(policies[p].constraints.size());

  // Equal constraints: by id, then by name those without an id on one side.
  equal_starts_.reserve(Size() + 1);
  equal_starts_.push_back(0);
  for (Index p = 0; p < policies.size(); ++p) {
    for (const Constraint& c : policies[p].constraints) {
      size_t begin = equal_refs_.size();
      bool has_id = !c.id.empty();
      if (has_id)
        if (const auto* refs = s.ConstraintsWithId(c.id)) equal_refs_.insert(equal_refs_.end(), refs->begin(), refs->end());
      if (c.has_name)
        if (const auto* refs = s.ConstraintsNamed(c.name))
          for (ConstraintRef r : *refs)
            if (!has_id || s.policies()[r.policy].constraints[r.constraint].id.empty()) equal_refs_.push_back(r);
      std::sort(equal_refs_.begin() + begin, equal_refs_.end());
      equal_refs_.erase(std::unique(equal_refs_.begin() + begin, equal_refs_.end()), equal_refs_.end());
      equal_starts_.push_back(static_cast<uint32_t>(equal_refs_.size()));
    }
  }
  // Account policies' violations without a constraint have neither id nor name.
  for (size_t p = 0; p < policies.size(); ++p) equal_starts_.push_back(static_cast<uint32_t>(equal_refs_.size()));

  // Role pairs, from the constraint index's lists (the role SoD constraints a check can
  // evaluate).
  struct Partner {
    Index other;
    ConstraintRef ref;
  };
  std::vector<Partner> partners;
  const size_t roles = s.roles().size();
  partner_starts_.assign(roles + 1, 0);
  for (Index r = 0; r < roles; ++r) {
    partners.clear();
    if (const auto* refs = s.ConstraintsNamingRole(r)) {
      for (ConstraintRef ref : *refs) {
        const Constraint& c = policies[ref.policy].constraints[ref.constraint];
        auto named = [&](const std::vector<Index>& side) { return std::find(side.begin(), side.end(), r) != side.end(); };
        if (named(c.left))
          for (Index other : c.right) partners.push_back({other, ref});
        if (named(c.right))
          for (Index other : c.left) partners.push_back({other, ref});
      }
    }
    auto key = [](const Partner& x) { return std::tie(x.other, x.ref.policy, x.ref.constraint); };
    std::sort(partners.begin(), partners.end(), [&](const Partner& a, const Partner& b) { return key(a) < key(b); });
    for (size_t i = 0; i < partners.size(); ++i) {
      if (i > 0 && key(partners[i]) == key(partners[i - 1])) continue;
      partner_roles_.push_back(partners[i].other);
      partner_refs_.push_back(partners[i].ref);
    }
    partner_starts_[r + 1] = static_cast<uint32_t>(partner_roles_.size());
  }

  // Forms: gates and role sides, and what getNewViolations needs to know.
  forms_.assign(Size(), Form());
  for (Index p = 0; p < policies.size(); ++p)
    for (Index c = 0; c < policies[p].constraints.size(); ++c) {
      const Constraint& constraint = policies[p].constraints[c];
      Form& form = forms_[Flat({p, c})];
      form.at = static_cast<uint32_t>(compiled_.size());
      form.kind = Compile(policies[p], constraint, key_ids_);
      if (form.kind == FormKind::kRoleSides && compiled_[form.at] + compiled_[form.at + 1] <= kInlineRoles) {
        form.inline_sides = true;
        form.left = static_cast<uint8_t>(compiled_[form.at]);
        form.right = static_cast<uint8_t>(compiled_[form.at + 1]);
        std::copy(compiled_.begin() + form.at + 2, compiled_.end(), form.roles);
        compiled_.resize(form.at);
      }
      if (form.kind == FormKind::kRoleSides) {
        Sides sides = SidesOf(form);
        form.disjoint = std::none_of(sides.left.begin(), sides.left.end(), [&](Index l) {
          return std::find(sides.right.begin(), sides.right.end(), l) != sides.right.end();
        });
      }
      auto equal = EqualConstraints({p, c});
      form.equal_only_to_itself = equal.size() == 1 && equal[0] == ConstraintRef{p, c};
      form.named_from_bundles = !constraint.has_name && constraint.kind == Constraint::Kind::kRoleSod;
    }

  // Gated constraints by key: a bit per flat number, and per key the gated constraints
  // naming it under the keys of their witness selector for it.
  gated_.assign((Size() + 63) / 64, 0);
  std::vector<std::vector<Witnessed>> by_key(keys_.size());
  struct Sel {
    const uint32_t* keys;
    uint32_t n;
    bool all;
  };
  std::vector<Sel> sels;
  std::vector<uint32_t> keys;
  for (Index p = 0; p < policies.size(); ++p)
    for (Index c = 0; c < policies[p].constraints.size(); ++c) {
      const Form& form = forms_[Flat({p, c})];
      if (form.kind != FormKind::kGate) continue;
      gated_[Flat({p, c}) / 64] |= uint64_t{1} << (Flat({p, c}) % 64);
      const uint32_t* g = compiled_.data() + form.at;
      sels.clear();
      keys.clear();
      const uint32_t n = *g;
      g += 2;  // the selectors' count, the terms' start
      for (uint32_t i = 0; i < n; ++i) {
        Sel sel{g + 1, *g & ~kAllKeys, (*g & kAllKeys) != 0};
        sels.push_back(sel);
        keys.insert(keys.end(), sel.keys, sel.keys + sel.n);
        g += 1 + sel.n;
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      for (uint32_t k : keys) {
        // A fired constraint matches every selector, so holds a key of each (all the keys
        // of an `and` selector): the witness is the one cheapest to list.
        const Sel* witness = nullptr;
        auto cost = [&](const Sel& x) {
          bool names_k = std::find(x.keys, x.keys + x.n, k) != x.keys + x.n;
          return std::pair(names_k, x.all ? 1u : x.n);
        };
        for (const Sel& x : sels)
          if (!witness || cost(x) < cost(*witness)) witness = &x;
        for (uint32_t i = 0; i < (witness->all ? 1u : witness->n); ++i)
          by_key[k].push_back({witness->keys[i], {p, c}, form.at});
      }
    }
  by_key_starts_.reserve(keys_.size() + 1);
  by_key_starts_.push_back(0);
  for (auto& list : by_key) {
    auto order = [](const Witnessed& x) { return std::tie(x.key, x.ref.policy, x.ref.constraint); };
    std::sort(list.begin(), list.end(), [&](const Witnessed& a, const Witnessed& b) { return order(a) < order(b); });
    list.erase(std::unique(list.begin(), list.end(),
                           [&](const Witnessed& a, const Witnessed& b) { return order(a) == order(b); }),
               list.end());
    by_key_.insert(by_key_.end(), list.begin(), list.end());
    by_key_starts_.push_back(static_cast<uint32_t>(by_key_.size()));
  }
}

bool ConstraintTable::GateHolds(const uint32_t*& g, HeldValues* held) {
  bool holds = true;
  uint32_t selectors = *g;
  g += 2;  // the selectors' count, the terms' start
  for (uint32_t i = 0; i < selectors; ++i) {
    uint32_t n = *g & ~kAllKeys;
    bool all = (*g & kAllKeys) != 0;
    ++g;
    // ExpressionMatcher.match: an `or` expression matches at the first held key, an
    // `and` one fails at the first key not held.
    bool match = all;
    for (uint32_t k = 0; held && holds && k < n; ++k)
      if (held->Holds(g[k]) != all) {
        match = !all;
        break;
      }
    holds = holds && match;
    g += n;
  }
  return holds;
}

void ConstraintTable::AddTouchedByValue(const Change& change, const std::vector<ConstraintRef>* refs,
                                        HeldValues* held, size_t probe_from, TouchedSet& set) const {
  if (!refs) return;
  if (!held) return set.Add(*refs);
  for (ConstraintRef r : *refs)
    if (!(gated_[Flat(r) / 64] >> (Flat(r) % 64) & 1)) set.Add(r);
  uint32_t key = FindKey(ValueKey{change.application, change.attr, change.value});
  if (key == kNoIndex) return;
  std::span<const Witnessed> list(by_key_.data() + by_key_starts_[key], by_key_starts_[key + 1] - by_key_starts_[key]);
  auto add = [&](const Witnessed& w) {
    // Brought already (by another witness key or changed key): no need to read its gate.
    if (set.Has(w.ref)) return;
    const uint32_t* g = compiled_.data() + w.gate;
    if (GateHolds(g, held)) set.Add(w.ref);
  };
  // A short list is read through, a long one probed for each held key (found at once).
  if (list.size() < probe_from) {
    for (const Witnessed& w : list)
      if (held->Holds(w.key)) add(w);
    return;
  }
  for (uint32_t k : held->HeldKeys()) {
    auto lo = std::lower_bound(list.begin(), list.end(), k, [](const Witnessed& w, uint32_t k) { return w.key < k; });
    for (; lo != list.end() && lo->key == k; ++lo) add(*lo);
  }
}

ConstraintTable::FormKind ConstraintTable::Compile(const Policy& policy, const Constraint& c,
                                                   absl::flat_hash_map<ValueKey, uint32_t>& key_ids) {
  if (c.disabled || !c.unsupported.empty()) return FormKind::kEvaluate;
  // SODPolicyExecutor reads the SODConstraints.
  if (c.kind == Constraint::Kind::kRoleSod) {
    if (policy.kind != Policy::Kind::kRoleSod) return FormKind::kEvaluate;
    compiled_.push_back(static_cast<uint32_t>(c.left.size()));
    compiled_.push_back(static_cast<uint32_t>(c.right.size()));
    compiled_.insert(compiled_.end(), c.left.begin(), c.left.end());
    compiled_.insert(compiled_.end(), c.right.begin(), c.right.end());
    return FormKind::kRoleSides;
  }
  // The generic executors evaluate every selector of a generic constraint.
  if (policy.kind != Policy::Kind::kEntitlementSod && policy.kind != Policy::Kind::kAdvanced) return FormKind::kEvaluate;
  if (c.kind != Constraint::Kind::kGeneric || c.selectors.empty()) return FormKind::kEvaluate;
  auto plain = [](const MatchTerm& t) {
    return !t.container && !t.negative && !t.value_null && !t.check_effective && t.type == MatchTerm::Type::kEntitlement &&
           t.application != kNoIndex && !t.name_text.empty();
  };
  for (const Selector& sel : c.selectors)
    if (!sel.unsupported.empty() || !sel.has_match_expression || sel.has_compound_filter || sel.has_population ||
        sel.terms.empty() || !std::all_of(sel.terms.begin(), sel.terms.end(), plain))
      return FormKind::kEvaluate;
  compiled_.push_back(static_cast<uint32_t>(c.selectors.size()));
  compiled_.push_back(static_cast<uint32_t>(gate_terms_.size()));
  for (const Selector& sel : c.selectors)
    for (const MatchTerm& t : sel.terms) gate_terms_.push_back(&t);
  for (const Selector& sel : c.selectors) {
    compiled_.push_back(static_cast<uint32_t>(sel.terms.size()) | (sel.match_and ? kAllKeys : 0));
    for (const MatchTerm& t : sel.terms) {
      auto [it, added] = key_ids.try_emplace(ValueKey{t.application, t.name, t.value}, static_cast<uint32_t>(keys_.size()));
      if (added) keys_.push_back(it->first);
      compiled_.push_back(it->second);
    }
  }
  return FormKind::kGate;
}

ConstraintTable::Gate ConstraintTable::Fires(ConstraintRef r, HeldValues& held) const {
  const Form& form = forms_[Flat(r)];
  if (form.kind != FormKind::kGate) return Gate::kUnknown;
  const uint32_t* g = compiled_.data() + form.at;
  return GateHolds(g, &held) ? Gate::kYes : Gate::kNo;
}

void ConstraintTable::GateViolation(const MatchContext& ctx, ConstraintRef r, const uint32_t* g, HeldValues& values,
                                    Violation* out) const {
  const Policy& policy = ctx.snapshot.policies()[r.policy];
  out->policy = r.policy;
  out->constraint = r.constraint;
  out->left_bundles.clear();
  out->right_bundles.clear();
  out->entitlements.clear();
  // Only the EntitlementSOD executor reports the violating entitlements.
  if (policy.kind != Policy::Kind::kEntitlementSod) return;
  const uint32_t selectors = g[0];
  const MatchTerm* const* term = gate_terms_.data() + g[1];  // a term per key, in order
  g += 2;
  for (uint32_t s = 0; s < selectors; ++s) {
    uint32_t n = *g++ & ~kAllKeys;
    for (uint32_t k = 0; k < n; ++k, ++term)
      for (uint32_t i = values.Count(g[k]); i > 0; --i) out->entitlements.push_back(*term);
    g += n;
  }
}

size_t ConstraintTable::GateKeys(ConstraintRef r) const {
  const Form& form = forms_[Flat(r)];
  if (form.kind != FormKind::kGate) return 0;
  size_t keys = 0;
  const uint32_t* g = compiled_.data() + form.at;
  const uint32_t selectors = *g;
  g += 2;  // the selectors' count, the terms' start
  for (uint32_t i = 0; i < selectors; ++i) {
    uint32_t n = *g & ~kAllKeys;
    keys += n;
    g += n + 1;
  }
  return keys;
}

bool ConstraintTable::Evaluate(const MatchContext& ctx, ConstraintRef r, const IdentityState& state,
                               const HeldRoles& held, HeldValues& values, const Shortcuts& shortcuts,
                               Violation* out) const {
  const Form& form = forms_[Flat(r)];
  if (shortcuts.role_sides && form.kind == FormKind::kRoleSides) {
    Sides sides = SidesOf(form);
    return RoleSodViolation(r.policy, r.constraint, sides.left, sides.right, held, out);
  }
  Gate gate = shortcuts.gates ? Fires(r, values) : Gate::kUnknown;
  if (gate == Gate::kNo) return false;
  if (gate == Gate::kYes && shortcuts.gate_terms) {
    GateViolation(ctx, r, compiled_.data() + form.at, values, out);
    return true;
  }
  return EvaluateConstraint(ctx, r.policy, r.constraint, state, held, out,
                            shortcuts.match_first && gate == Gate::kUnknown);
}

void TouchedSet::Reset(const ConstraintTable& table) {
  table_ = &table;
  size_t words = (table.Size() + 63) / 64;
  if (bits_.size() < words) {
    bits_.assign(words, 0);
    summary_.assign((words + 63) / 64, 0);
  }
}

void TouchedSet::Add(ConstraintRef r) {
  size_t f = table_->Flat(r);
  bits_[f / 64] |= uint64_t{1} << (f % 64);
  summary_[f / 4096] |= uint64_t{1} << (f / 64 % 64);
}

bool TouchedSet::Has(ConstraintRef r) const {
  size_t f = table_->Flat(r);
  return bits_[f / 64] >> (f % 64) & 1;
}

void TouchedSet::Drain(std::vector<ConstraintRef>& out) {
  Index policy = 0;
  for (size_t i = 0; i < summary_.size(); ++i) {
    for (uint64_t s = std::exchange(summary_[i], 0); s; s &= s - 1) {
      size_t w = i * 64 + std::countr_zero(s);
      for (uint64_t b = std::exchange(bits_[w], 0); b; b &= b - 1) {
        size_t f = w * 64 + std::countr_zero(b);
        while (table_->FirstOf(policy + 1) <= f) ++policy;  // flat numbers follow (policy, constraint)
        out.push_back({policy, static_cast<Index>(f - table_->FirstOf(policy))});
      }
    }
  }
}

void HeldValues::Reset(const ConstraintTable& table, const IdentityState& state, uint32_t find_all_from) {
  table_ = &table;
  state_ = &state;
  lookups_ = 0;
  find_all_from_ = find_all_from;
  all_known_ = false;
  held_.clear();
  if (known_.size() < table.Keys().size()) known_.resize(table.Keys().size());
  if (++epoch_ == 0) {
    std::fill(known_.begin(), known_.end(), Known());
    epoch_ = 1;
  }
}

uint32_t HeldValues::Count(uint32_t key) {
  Known& known = known_[key];
  if (known.epoch == epoch_) return known.count;
  if (all_known_) return 0;
  // Past a few dozen keys, finding them all at once costs less.
  if (++lookups_ > find_all_from_) {
    HeldKeys();
    return known.epoch == epoch_ ? known.count : 0;
  }
  known = {epoch_, Find(key), 0};
  return known.count;
}

uint32_t HeldValues::Find(uint32_t key) const {
  // Matchmaker.TermMatcher: the accounts of the application that hold the value in the
  // attribute (compared as interned ids: case-sensitive).
  const ConstraintTable::ValueKey& k = table_->Keys()[key];
  uint32_t count = 0;
  for (const AccountState& a : state_->accounts) {
    if (a.application != k.application) continue;
    std::optional<AttrView> v = a.Find(k.attribute);
    if (v && std::find(v->values.begin(), v->values.end(), k.value) != v->values.end()) ++count;
  }
  return count;
}

std::span<const uint32_t> HeldValues::HeldKeys() {
  if (all_known_) return held_;
  all_known_ = true;
  // Forget the keys found one at a time (they are found again), then look each account's
  // values up as keys, each key counted once per account holding it, as Find counts.
  if (++epoch_ == 0) {
    std::fill(known_.begin(), known_.end(), Known());
    epoch_ = 1;
  }
  for (uint32_t i = 0; i < state_->accounts.size(); ++i) {
    const AccountState& a = state_->accounts[i];
    a.ForEachAttribute([&](const AttrView& attr) {
      for (Id v : attr.values) {
        uint32_t key = table_->FindKey({a.application, attr.name, v});
        if (key == kNoIndex) continue;
        Known& known = known_[key];
        if (known.epoch != epoch_) {
          known = {epoch_, 1, i};
          held_.push_back(key);
        } else if (known.account != i) {
          ++known.count;
          known.account = i;
        }
      }
    });
  }
  return held_;
}

RoleSodCase ConstraintTable::DirectRoleSod(ConstraintRef r, const HeldRoles& post, const HeldRoles* pre,
                                           std::vector<Index>& bundles, uint32_t* left_count) const {
  const Form& form = forms_[Flat(r)];
  if (form.kind != FormKind::kRoleSides) return RoleSodCase::kOther;
  const Sides sides = SidesOf(form);
  if (!(pre && form.equal_only_to_itself && !form.named_from_bundles))
    return RoleSodFires(sides.left, sides.right, post) ? RoleSodCase::kCompare : RoleSodCase::kNone;
  // The common case: whether it fires, whether it fired before, and its bundles in one pass.
  if (form.disjoint && post.MaxOrigins() * (sides.left.size() + sides.right.size()) <= kDisjointRoom)
    return DisjointRoleSod(sides.left, sides.right, post, *pre, bundles, left_count);
  if (!RoleSodFires(sides.left, sides.right, post)) return RoleSodCase::kNone;
  if (pre->HoldsAny(sides.left) && pre->HoldsAny(sides.right)) return RoleSodCase::kCompare;
  *left_count = static_cast<uint32_t>(RoleSodBundles(sides.left, sides.right, post, bundles, bundles));
  return RoleSodCase::kNew;
}

std::span<const ConstraintRef> ConstraintTable::PairedWith(Index role, Index other) const {
  auto begin = partner_roles_.begin() + partner_starts_[role], end = partner_roles_.begin() + partner_starts_[role + 1];
  auto [lo, hi] = std::equal_range(begin, end, other);
  return {partner_refs_.data() + (lo - partner_roles_.begin()), static_cast<size_t>(hi - lo)};
}

size_t ConstraintTable::Bytes() const {
  return first_.capacity() * sizeof(uint32_t) + equal_starts_.capacity() * sizeof(uint32_t) +
         equal_refs_.capacity() * sizeof(ConstraintRef) + partner_starts_.capacity() * sizeof(uint32_t) +
         partner_roles_.capacity() * sizeof(Index) + partner_refs_.capacity() * sizeof(ConstraintRef) +
         forms_.capacity() * sizeof(Form) + compiled_.capacity() * sizeof(uint32_t) +
         gated_.capacity() * sizeof(uint64_t) + by_key_starts_.capacity() * sizeof(uint32_t) +
         by_key_.capacity() * sizeof(Witnessed) + key_ids_.capacity() * (sizeof(ValueKey) + sizeof(uint32_t) + 1) +
         keys_.capacity() * sizeof(ValueKey) + gate_terms_.capacity() * sizeof(const MatchTerm*);
}

}  // namespace preflight
