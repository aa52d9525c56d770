#pragma once
// Tables the check derives from a snapshot's policies, built once per snapshot on its
// first check (Snapshot::LazyPolicyState; images do not hold them):
//   - a flat number per constraint, for per-check slots;
//   - PolicyViolation.isConstraintEqual by position: the constraints a violation of a
//     constraint is constraint-equal to, whatever the violation's bundles;
//   - the role pair index: per role, the role SoD constraints naming it, each with a
//     role on its other side, sorted by that role;
//   - value gates: for a generic constraint whose selectors are match expressions of
//     plain entitlement terms, the (application, attribute, value) keys each selector
//     names, so that whether it fires is decided from the values the identity holds
//     without reading the constraint;
//   - role sides: a role SoD constraint's left and right roles, flat, so that a check
//     that reports a thousand role SoD violations reads one record for each, not the
//     Constraint and its two lists.

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "engine/model/snapshot.h"
#include "engine/policy/evaluate.h"
#include "engine/state/identity_state.h"

namespace preflight {

class ConstraintTable;

// Which of a value gate's keys one identity state holds, each found on first use
// (ConstraintTable::Fires) and kept for the check; or, once a check asks about many,
// all of them found at once from the state's values (HeldKeys). Reused across checks.
class HeldValues {
 public:
  // Forgets what the last state held; `state` must outlive the use. After
  // `find_all_from` keys looked up one at a time, the next finds them all (HeldKeys).
  void Reset(const ConstraintTable& table, const IdentityState& state, uint32_t find_all_from = 32);
  bool Holds(uint32_t key) { return Count(key) != 0; }
  // On how many of the state's accounts the key's value is held (Matchmaker's
  // TermMatcher lists a term once per account it matches on).
  uint32_t Count(uint32_t key);
  // The keys the state holds (in no order), found by looking each of its accounts'
  // values up once: cheaper than a key at a time when a check asks about hundreds.
  std::span<const uint32_t> HeldKeys();

 private:
  // Looks a key up in the state's accounts.
  uint32_t Find(uint32_t key) const;

  const ConstraintTable* table_ = nullptr;
  const IdentityState* state_ = nullptr;
  // key -> the epoch when the key was found for the current state, its count, and (while
  // HeldKeys counts) the last account it was counted on
  struct Known {
    uint32_t epoch = 0;
    uint32_t count = 0;
    uint32_t account = 0;
  };
  std::vector<Known> known_;
  uint32_t epoch_ = 0;
  uint32_t lookups_ = 0;   // keys looked up one at a time for this state
  uint32_t find_all_from_ = 32;
  bool all_known_ = false;  // HeldKeys ran for this state: a key not known is not held
  std::vector<uint32_t> held_;
};

// A set of constraints, listed in (policy, constraint) order without a sort: a bit per
// constraint's flat number and a bit per 64 of them, so that thousands of constraints
// collect in linear time and a few visit only their own words. Reused across checks.
class TouchedSet {
 public:
  void Reset(const ConstraintTable& table);
  void Add(ConstraintRef r);
  void Add(std::span<const ConstraintRef> refs) {
    for (ConstraintRef r : refs) Add(r);
  }
  bool Has(ConstraintRef r) const;
  // Appends the set's constraints to `out` in order, and empties the set.
  void Drain(std::vector<ConstraintRef>& out);

 private:
  const ConstraintTable* table_ = nullptr;
  std::vector<uint64_t> bits_, summary_;
};

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
  // The flat number of `policy`'s first constraint (policies().size(): the count).
  size_t FirstOf(Index policy) const { return first_[policy]; }

  // The constraints (of any policy, `r` itself among them) that a violation of `r` is
  // constraint-equal to whatever its bundles, as PolicyViolation.isConstraintEqual
  // compares: the same id when both have one, else the same name (Snapshot::
  // ConstraintsWithId, ConstraintsNamed). Empty for a violation with neither. Not for an
  // unnamed role SoD constraint, whose violations are named from their bundles.
  std::span<const ConstraintRef> EqualConstraints(ConstraintRef r) const {
    size_t i = Flat(r);
    return {equal_refs_.data() + equal_starts_[i], equal_starts_[i + 1] - equal_starts_[i]};
  }
  // EqualConstraints(r) is {r}: its pre violation serves its own post violation only.
  bool EqualOnlyToItself(ConstraintRef r) const { return forms_[Flat(r)].equal_only_to_itself; }
  // An unnamed role SoD constraint: its violations are named from their bundles.
  bool NamedFromBundles(ConstraintRef r) const { return forms_[Flat(r)].named_from_bundles; }

  // A role SoD constraint evaluated from its sides of which `held` holds no role on one
  // side: it has no violation on that state (SODPolicyExecutor needs a held role on each
  // side), and nothing needs evaluating. False for any other constraint.
  bool SideNotHeld(ConstraintRef r, const HeldRoles& held) const {
    const Form& form = forms_[Flat(r)];
    if (form.kind != FormKind::kRoleSides) return false;
    Sides sides = SidesOf(form);
    return !held.HoldsAny(sides.left) || !held.HoldsAny(sides.right);
  }

  // A role SoD constraint evaluated from its sides (use_role_sides): sets them. False for
  // any other constraint.
  bool RoleSides(ConstraintRef r, std::span<const Index>* left, std::span<const Index>* right) const {
    const Form& form = forms_[Flat(r)];
    if (form.kind != FormKind::kRoleSides) return false;
    Sides sides = SidesOf(form);
    *left = sides.left;
    *right = sides.right;
    return true;
  }

  // A role SoD constraint evaluated from its sides, as CheckOptions::role_sod_direct decides
  // it on the post state `post` (RoleSodCase): kNew's bundles are appended to `bundles` (the
  // left ones first, `*left_count` of them). New whatever its bundles: `pre` is given (the pre state's held
  // roles: the check compares by position, skips unheld pre sides and has no unnamed role
  // SoD constraint), the constraint is equal only to itself and not named from its bundles,
  // and `pre` holds no role of one of its sides. kOther for any other constraint.
  RoleSodCase DirectRoleSod(ConstraintRef r, const HeldRoles& post, const HeldRoles* pre, std::vector<Index>& bundles,
                        uint32_t* left_count) const;

  // The role SoD constraints naming `role` on one side that have `other` on the other
  // side (a role on both sides is its own partner).
  std::span<const ConstraintRef> PairedWith(Index role, Index other) const;

  // Can generic constraint `r` fire on the state `held` reads? kNo and kYes are exact,
  // from its value gate (a constraint evaluated as a whole matches exactly when each
  // selector does; a selector whose expression has only positive, valued Entitlement
  // leaf terms with an application, and no filter, population or unsupported part,
  // matches when one of its keys is held, or all of them for an `and` expression, as
  // Matchmaker's TermMatcher finds the value in the attribute of an account of the
  // application). kUnknown: the constraint has no gate; evaluate it.
  enum class Gate { kNo, kYes, kUnknown };
  Gate Fires(ConstraintRef r, HeldValues& held) const;
  // Adds to `set` the constraints the snapshot's constraint index lists for `change`;
  // with `held` (the post state's values), those with a value gate only when it says
  // they fire. The gated constraints naming the changed key are kept by key, each under
  // the keys of one of its selectors (its witness: a fired constraint holds one of them);
  // a list of `probe_from` or more is probed for the keys the state holds (as the role
  // pair index), so that only constraints whose witness is held have their gate read.
  // `refs`: the constraints naming the change (Snapshot::ConstraintsNamingValue).
  void AddTouchedByValue(const Change& change, const std::vector<ConstraintRef>* refs, HeldValues* held,
                         size_t probe_from, TouchedSet& set) const;
  // Starts loading what Evaluate reads first about the constraints a check will evaluate
  // after `touched[i]`: the form of the one 16 ahead, the record (gate or role sides) of
  // the one 8 ahead (its form loaded by then). The touched constraints are scattered over
  // megabytes of table at 100,000 constraints: without this each costs two misses in turn.
  void Prefetch(std::span<const ConstraintRef> touched, size_t i) const {
    if (i + 16 < touched.size()) __builtin_prefetch(&forms_[Flat(touched[i + 16])]);
    if (i + 8 < touched.size()) {
      const Form& form = forms_[Flat(touched[i + 8])];
      if (!form.inline_sides) __builtin_prefetch(compiled_.data() + form.at);
    }
  }
  // Reads the form of each constraint of `touched` at once, so that the reads overlap:
  // a slow check evaluates a thousand constraints scattered over megabytes of forms, and
  // with only Prefetch's requests ahead in its loop it still waited on ~12% of them
  // (measured on the slowest checks at 100,000 constraints). Loads only.
  void LoadForms(std::span<const ConstraintRef> touched) const {
    uint32_t any = 0;
    for (ConstraintRef r : touched) any |= static_cast<uint32_t>(forms_[Flat(r)].kind);
    asm volatile("" : : "r"(any));  // the loads are the point: keep them
  }
  // How many keys the value gate of `r` names over its selectors (0: it has none).
  size_t GateKeys(ConstraintRef r) const;

  // EvaluateConstraint(ctx, r.policy, r.constraint, state, held, out, ...) through the
  // table as far as the switches allow: `gates` (with the state's `values`) decides a
  // gated generic constraint and evaluates it only when it fires, to list its terms, or
  // with `gate_terms` lists them from the gate's keys without evaluating it;
  // `role_sides` evaluates a role SoD constraint from its flat sides.
  struct Shortcuts {
    bool match_first = true;
    bool gates = true;
    bool gate_terms = true;
    bool role_sides = true;
  };
  bool Evaluate(const MatchContext& ctx, ConstraintRef r, const IdentityState& state, const HeldRoles& held,
                HeldValues& values, const Shortcuts& shortcuts, Violation* out) const;

  struct ValueKey {
    Index application;
    Id attribute;
    Id value;
    friend bool operator==(const ValueKey&, const ValueKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const ValueKey& k) {
      return H::combine(std::move(h), k.application, k.attribute, k.value);
    }
  };
  const std::vector<ValueKey>& Keys() const { return keys_; }
  // The position of a key in Keys(), or kNoIndex.
  uint32_t FindKey(const ValueKey& key) const {
    auto it = key_ids_.find(key);
    return it == key_ids_.end() ? kNoIndex : it->second;
  }

  size_t Bytes() const;

  // A role SoD constraint's sides of up to kInlineRoles roles in all are kept in its
  // form, so that evaluating it reads one record (a thousand scattered ones per slow
  // check); larger ones in the compiled records.
  static constexpr uint32_t kInlineRoles = 5;

 private:
  // What a check reads first about a constraint, one record per flat number; aligned, so
  // that a record is one cache line's read (LoadForms loads one line per form).
  enum class FormKind : uint8_t { kEvaluate, kGate, kRoleSides };
  struct alignas(32) Form {
    uint32_t at = 0;  // kGate, kRoleSides not inline: the start of its record in compiled_
    FormKind kind = FormKind::kEvaluate;
    bool equal_only_to_itself = false;
    bool named_from_bundles = false;
    bool inline_sides = false;   // kRoleSides: its sides are `roles`
    bool disjoint = false;       // kRoleSides: no role on both sides
    uint8_t left = 0, right = 0;  // inline: the sides' sizes, left roles first in `roles`
    Index roles[kInlineRoles] = {};
  };
  struct Sides {
    std::span<const Index> left, right;
  };
  // A kRoleSides form's sides, inline or in compiled_.
  Sides SidesOf(const Form& form) const {
    if (form.inline_sides) return {{form.roles, form.left}, {form.roles + form.left, form.right}};
    const uint32_t* at = compiled_.data() + form.at;
    return {{at + 2, at[0]}, {at + 2 + at[0], at[1]}};
  }
  // Does the gate at `g` hold on `held`'s state (never, without `held`)? Moves `g` past it.
  static bool GateHolds(const uint32_t*& g, HeldValues* held);
  // The violation of gated constraint `r`, whose gate at `g` holds on `values`' state:
  // for an EntitlementSOD policy, each selector's terms in order, each as many times as
  // accounts hold its key (ExpressionMatcher.getMatches on plain terms, all held).
  void GateViolation(const MatchContext& ctx, ConstraintRef r, const uint32_t* g, HeldValues& values,
                     Violation* out) const;
  // Appends the constraint's gate or role sides to compiled_; its kind (kEvaluate: none).
  FormKind Compile(const Policy& policy, const Constraint& c, absl::flat_hash_map<ValueKey, uint32_t>& key_ids);

  std::vector<uint32_t> first_;  // policy -> its first flat number; back(): the constraints' count
  std::vector<uint32_t> equal_starts_;  // per flat number, into equal_refs_
  std::vector<ConstraintRef> equal_refs_;
  // Per role r, in [partner_starts_[r], partner_starts_[r + 1]): a role on the other side
  // of a role SoD constraint naming r, and that constraint; sorted by (role, constraint).
  std::vector<uint32_t> partner_starts_;
  std::vector<Index> partner_roles_;
  std::vector<ConstraintRef> partner_refs_;
  std::vector<Form> forms_;  // per flat number
  static_assert(sizeof(Form) == 32);
  // A gate is its selectors' count, the start of its terms in gate_terms_, then per
  // selector its keys' count (| kAllKeys for an `and` expression) and its keys
  // (positions in keys_), a key per term. Role sides are the left
  // count, the right count, the left roles, then the right roles.
  static constexpr uint32_t kAllKeys = 1u << 31;
  std::vector<uint32_t> compiled_;
  std::vector<ValueKey> keys_;
  std::vector<const MatchTerm*> gate_terms_;  // each gate's terms, in its keys' order
  absl::flat_hash_map<ValueKey, uint32_t> key_ids_;  // position in keys_
  std::vector<uint64_t> gated_;  // a bit per flat number: the constraint has a value gate
  // Per key k, in by_key_[by_key_starts_[k], by_key_starts_[k + 1]): each gated
  // constraint naming k once per key of its witness selector for k (the selector
  // with fewest keys to hold, one not naming k if it has one: an `and` selector needs
  // only its first), sorted by (that key, constraint).
  struct Witnessed {
    uint32_t key;  // a key of the witness selector
    ConstraintRef ref;
    uint32_t gate;  // its gate's start in compiled_
  };
  std::vector<uint32_t> by_key_starts_;
  std::vector<Witnessed> by_key_;
};

}  // namespace preflight
