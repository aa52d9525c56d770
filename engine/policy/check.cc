#include "engine/policy/check.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/model/hash_slots.h"
#include "engine/plan/compiler.h"
#include "engine/policy/constraint_table.h"
#include "engine/policy/evaluate.h"

namespace preflight {
namespace {


absl::Status Invalid(std::string detail, std::string pointer = {}) {
  Location where;
  where.pointer = std::move(pointer);
  return MakeError(ErrorCode::kInvalidValue, detail, where);
}

// The policies to check, in order (docs/semantics.md, "Which policies"): the snapshot's
// list, or the request's in `named`.
std::span<const Index> SelectPolicies(const Snapshot& s, const CheckRequest& req, const CheckOptions& options,
                                      std::vector<Index>& named) {
  bool all = !req.policies || (req.policies->empty() && options.empty_policy_list_means_all);
  if (all) return s.ActivePoliciesByName();
  named.clear();
  for (const std::string& name : *req.policies) {
    Index p = s.FindPolicy(name);
    if (p != kNoIndex) named.push_back(p);  // unknown names are skipped; inactive ones are checked
  }
  return named;
}

// The constraints whose answer the plan can change: those naming a role whose held
// origins changed, those naming a changed entitlement value, and those always
// evaluated. Sorted by (policy, constraint), unique.
// With `pairs`, a role still held after the plan brings only the role SoD constraints
// with a role held after the plan on the other side: a constraint fires when a role of
// each side is held, and this role is one, so the other side needs one. With `values`
// (the post state's), a constraint with a value gate comes only when it fires; with
// lists of `probe_from` or more entries probed by the held keys (use_gate_pairs).
void TouchedConstraints(const Snapshot& s, const Projection& projection, const HeldRoles& pre, const HeldRoles& post,
                        const ConstraintTable& table, bool pairs, HeldValues* values, size_t probe_from,
                        TouchedSet& set, std::vector<ConstraintRef>& touched) {
  set.Reset(table);
  set.Add(s.AlwaysEvaluatedConstraints());
  auto role_changed = [&](Index r) {
    if (pairs && post.Holds(r)) {
      for (Index other : post.Roles()) set.Add(table.PairedWith(r, other));
      return;
    }
    if (const auto* refs = s.ConstraintsNamingRole(r)) set.Add(*refs);
  };
  if (&pre != &post) HeldRoles::ForEachDifference(pre, post, role_changed);
  // The constraints naming each change, found with detection's roles when they were.
  const auto& found = projection.change_indexes;
  for (size_t i = 0; i < projection.changes.size(); ++i) {
    const Change& c = projection.changes[i];
    table.AddTouchedByValue(c, found.empty() ? s.ConstraintsNamingValue(c.application, c.attr, c.value) : found[i].naming,
                            values, probe_from, set);
  }
  touched.clear();
  set.Drain(touched);
}

// Why a violation holds: for role SoD, each held role on each side (through which
// inheritance, and whether the pre state held it the same way); for generic
// constraints, each matched term of each selector and whether it matched before.
void Explain(const MatchContext& ctx, const Constraint& constraint, const Projection& projection,
             const HeldRoles& held_pre, const HeldRoles& held_post, std::vector<const MatchTerm*>& post_terms,
             std::vector<const MatchTerm*>& pre_terms, std::vector<ReasonRef>& out) {
  const Snapshot& s = ctx.snapshot;
  using Side = ReasonRef::Side;
  auto role_reasons = [&](const std::vector<Index>& side_roles, Side side) {
    for (Index r : side_roles) {
      auto pre_origins = held_pre.Origins(r);
      for (Index o : held_post.Origins(r)) {
        bool existing = std::find(pre_origins.begin(), pre_origins.end(), o) != pre_origins.end();
        out.push_back({side, existing, o, o == r ? kNoIndex : r, nullptr});
      }
    }
  };
  if (constraint.kind == Constraint::Kind::kRoleSod) {
    role_reasons(constraint.left, Side::kLeft);
    role_reasons(constraint.right, Side::kRight);
    return;
  }
  for (size_t i = 0; i < constraint.selectors.size(); ++i) {
    post_terms.clear();
    pre_terms.clear();
    SelectorMatches(ctx, constraint.selectors[i], projection.post, projection.post.Attributes(s), &post_terms);
    SelectorMatches(ctx, constraint.selectors[i], projection.pre, projection.pre.Attributes(s), &pre_terms);
    Side side = constraint.selectors.size() == 2 ? (i == 0 ? Side::kLeft : Side::kRight) : Side::kSelector;
    for (const MatchTerm* t : post_terms) {
      bool existing = std::find(pre_terms.begin(), pre_terms.end(), t) != pre_terms.end();
      out.push_back({side, existing, kNoIndex, kNoIndex, t});
    }
  }
}

// Appends a violation's positions to the answer's lists.
FoundViolation& AddFound(const Violation& v, CheckResult& out) {
  FoundViolation& f = out.violations.emplace_back();
  f.policy = v.policy;
  f.constraint = v.constraint;
  f.bundles = static_cast<uint32_t>(out.bundles.size());
  f.left_count = static_cast<uint32_t>(v.left_bundles.size());
  f.right_count = static_cast<uint32_t>(v.right_bundles.size());
  out.bundles.insert(out.bundles.end(), v.left_bundles.begin(), v.left_bundles.end());
  out.bundles.insert(out.bundles.end(), v.right_bundles.begin(), v.right_bundles.end());
  f.terms = static_cast<uint32_t>(out.terms.size());
  f.term_count = static_cast<uint32_t>(v.entitlements.size());
  out.terms.insert(out.terms.end(), v.entitlements.begin(), v.entitlements.end());
  f.reasons = static_cast<uint32_t>(out.reasons.size());
  return f;
}

// Appends a role SoD violation of `r` whose bundles (`left_count` left ones, then the
// right ones) the answer's list holds from `bundles` on.
FoundViolation& AddRoleSod(ConstraintRef r, size_t bundles, uint32_t left_count, CheckResult& out) {
  FoundViolation& f = out.violations.emplace_back();
  f.policy = r.policy;
  f.constraint = r.constraint;
  f.bundles = static_cast<uint32_t>(bundles);
  f.left_count = left_count;
  f.right_count = static_cast<uint32_t>(out.bundles.size() - bundles - left_count);
  f.terms = static_cast<uint32_t>(out.terms.size());
  f.reasons = static_cast<uint32_t>(out.reasons.size());
  return f;
}

// The table's evaluation shortcuts the options allow.
ConstraintTable::Shortcuts Shortcuts(const CheckOptions& options) {
  return {options.match_before_listing, options.use_value_gates, options.terms_from_gates, options.use_role_sides};
}

// getNewViolations: a post violation is new unless some pre violation, of any checked
// policy, is constraint-equal to it (same constraint id, or with no id on either side
// the same constraint name) and unchanged. Pre violations are evaluated only for the
// constraints that can be equal to a post violation that fired, once per check.
class PreViolations {
 public:
  // Per-thread storage reused across checks, so that a check allocates only for what
  // it reports.
  struct Storage {
    struct Entry {
      ConstraintRef ref;
      bool fired;
      Violation v;
    };
    std::vector<Entry> cache;
    std::vector<Violation> found;
    std::vector<std::pair<Index, Id>> keys;
    std::vector<uint32_t> mark;  // policy -> epoch when selected
    uint32_t epoch = 0;
    // The cache entry of a constraint: entry[table.Flat(ref)] when its stamp is the
    // current check's (`epoch`), so that a lookup is O(1) however many fire.
    std::vector<uint32_t> stamp, entry;
    HeldValues values;  // the pre state's, for the value gates
    Violation single;   // a pre violation no other post violation asks for
  };

  PreViolations(const MatchContext& ctx, const ConstraintTable& table, const CheckOptions& options,
                const Projection& projection, const HeldRoles& held, std::span<const Index> policies, Storage& storage)
      : ctx_(ctx), s_(ctx.snapshot), table_(table), by_position_(options.equal_by_position),
        skip_unheld_pre_(options.skip_unheld_pre), find_all_from_(options.held_keys_from), shortcuts_(Shortcuts(options)), projection_(projection), held_(held), policies_(policies),
        st_(storage) {}

  // May a role SoD violation be new whatever its bundle lists (ConstraintTable::
  // DirectRoleSod, given the pre state's held roles)? When its pre violation can be equal
  // to its own post violation only, and the pre state held no role of one of its sides,
  // there is no pre violation to compare with (IsNew's first case), and no unnamed role
  // SoD constraint can be named like it.
  bool MayBeNewWhateverBundles() const {
    return by_position_ && skip_unheld_pre_ && s_.UnnamedRoleSodConstraints().empty();
  }

  bool IsNew(const Violation& post) {
    const ConstraintRef ref{post.policy, post.constraint};
    if (by_position_ && !table_.NamedFromBundles(ref)) {
      // Its constraint-equal constraints are known by position: no text, no lookup.
      if (table_.EqualOnlyToItself(ref)) {
        // Its pre violation serves no other post violation: evaluated, not kept (and not
        // evaluated when the pre state cannot violate it).
        bool none = skip_unheld_pre_ && table_.SideNotHeld(ref, held_);
        if (!none && Compute(ref, st_.single) && Unchanged(st_.single, post)) return false;
      } else {
        for (ConstraintRef r : table_.EqualConstraints(ref)) {
          if (!Selected(r.policy)) continue;
          const Violation* pre = Evaluate(r);
          if (pre && Unchanged(*pre, post)) return false;
        }
      }
      // Unnamed role SoD violations are named from their bundles: those names may equal
      // this constraint's.
      if (s_.UnnamedRoleSodConstraints().empty()) return true;
      const Constraint* c = post.constraint == kNoIndex ? nullptr : &s_.policies()[post.policy].constraints[post.constraint];
      if (!c || !c->has_name) return true;
      for (ConstraintRef r : s_.UnnamedRoleSodConstraints())
        if ((c->id.empty() || s_.policies()[r.policy].constraints[r.constraint].id.empty()) && Matches(r, post))
          return false;
      return true;
    }
    // The constraint's own pre violation first: the common case, answered without text.
    const Constraint* c = post.constraint == kNoIndex ? nullptr : &s_.policies()[post.policy].constraints[post.constraint];
    if (post.constraint != kNoIndex) {
      const Violation* pre = Evaluate(ref);
      if (pre && SameConstraintEqual(*pre, post) && Unchanged(*pre, post)) return false;
    }
    bool has_id = c && !c->id.empty();
    if (has_id)
      if (const auto* refs = s_.ConstraintsWithId(c->id))
        for (ConstraintRef r : *refs)
          if (Matches(r, post)) return false;
    std::string name;
    if (!ViolationName(s_, post, &name)) return true;
    // With an id on one side only, the names decide.
    auto without_id_if = [&](ConstraintRef r) {
      return !has_id || s_.policies()[r.policy].constraints[r.constraint].id.empty();
    };
    if (const auto* refs = s_.ConstraintsNamed(name))
      for (ConstraintRef r : *refs)
        if (without_id_if(r) && Matches(r, post)) return false;
    for (ConstraintRef r : s_.UnnamedRoleSodConstraints())
      if (without_id_if(r) && Matches(r, post)) return false;
    return true;
  }

 private:
  // ConstraintEqual for two violations of the same constraint: its id or name, or for
  // an unnamed role SoD constraint the names generated from equal bundle lists.
  bool SameConstraintEqual(const Violation& pre, const Violation& post) const {
    const Constraint& c = s_.policies()[post.policy].constraints[post.constraint];
    if (!c.id.empty() || c.has_name) return true;
    if (c.kind != Constraint::Kind::kRoleSod) return false;
    return pre.left_bundles == post.left_bundles && pre.right_bundles == post.right_bundles;
  }

  // Does the pre state violate constraint `r` (of a checked policy) equal to `post`?
  bool Matches(ConstraintRef r, const Violation& post) {
    if (!Selected(r.policy)) return false;
    const Violation* pre = Evaluate(r);
    return pre && ConstraintEqual(s_, *pre, post) && Unchanged(*pre, post);
  }

  // Is the policy checked?
  bool Selected(Index p) {
    Start();
    return st_.mark[p] == st_.epoch;
  }

  // The check's epoch, the policy marks and the constraint numbering, on first use: most
  // checks never ask.
  void Start() {
    if (started_) return;
    started_ = true;
    const auto& policies = s_.policies();
    size_t n = table_.Size();
    if (st_.mark.size() < policies.size()) st_.mark.assign(policies.size(), 0);
    if (st_.stamp.size() < n) {
      st_.stamp.assign(n, 0);
      st_.entry.resize(n);
    }
    if (++st_.epoch == 0) {
      std::fill(st_.mark.begin(), st_.mark.end(), 0);
      std::fill(st_.stamp.begin(), st_.stamp.end(), 0);
      st_.epoch = 1;
    }
    for (Index q : policies_) st_.mark[q] = st_.epoch;
    st_.values.Reset(table_, projection_.pre, find_all_from_);
  }
  size_t FlatIndex(ConstraintRef r) {
    Start();
    return table_.Flat(r);
  }

  // The pre violation of constraint `r`, evaluated once per check.
  const Violation* Evaluate(ConstraintRef r) {
    uint32_t& stamp = st_.stamp[FlatIndex(r)];
    uint32_t& slot = st_.entry[FlatIndex(r)];
    if (stamp == st_.epoch) return st_.cache[slot].fired ? &st_.cache[slot].v : nullptr;
    stamp = st_.epoch;
    slot = static_cast<uint32_t>(used_);
    if (used_ == st_.cache.size()) st_.cache.emplace_back();
    Storage::Entry& e = st_.cache[used_++];
    e.ref = r;
    e.fired = Compute(r, e.v);
    return e.fired ? &e.v : nullptr;
  }

  // Does the pre state violate constraint `r`? Fills `v` when it does.
  bool Compute(ConstraintRef r, Violation& v) {
    Start();
    const Policy& policy = s_.policies()[r.policy];
    if (policy.kind == Policy::Kind::kAccount) {
      // Before the plan, AccountPolicyExecutor queries the stored accounts; its
      // violations differ only in the application, which no comparison reads.
      st_.found.clear();
      const auto& stored = s_.identities()[projection_.pre.identity].accounts;
      AccountViolations(r.policy, r.constraint, stored,
                        [&](Index a) { return std::pair(s_.accounts()[a].application, s_.accounts()[a].instance); },
                        st_.keys, st_.found);
      if (st_.found.empty()) return false;
      v = st_.found.front();
      return true;
    }
    return table_.Evaluate(ctx_, r, projection_.pre, held_, st_.values, shortcuts_, &v);
  }

  const MatchContext& ctx_;
  const Snapshot& s_;
  const ConstraintTable& table_;
  bool by_position_;
  bool skip_unheld_pre_;
  uint32_t find_all_from_;
  ConstraintTable::Shortcuts shortcuts_;
  const Projection& projection_;
  const HeldRoles& held_;
  std::span<const Index> policies_;
  Storage& st_;
  size_t used_ = 0;
  bool started_ = false;
};

const StringPool& NoStrings() {
  static const StringPool none;
  return none;
}

// Everything a check reuses from one call to the next, one per thread: once its
// buffers have grown, a check allocates only for what it reports.
struct CheckScratch {
  ValueIds ids{NoStrings()};  // bound to the checked snapshot's pool by each check
  Projection projection;
  HeldRoles held_pre, held_post;
  std::vector<Index> policies;
  std::vector<ConstraintRef> touched;
  TouchedSet touched_set;
  Violation post;
  std::vector<Violation> account;
  std::vector<std::pair<Index, Id>> account_keys;
  PreViolations::Storage pre;
  HeldValues post_values;  // the post state's, for the value gates
  // The answer's lists, grown here and copied out at their size: a check that reports
  // violations allocates a few exactly sized lists, not a string per name.
  CheckResult found;
  std::vector<const MatchTerm*> post_terms, pre_terms;  // Explain
};

}  // namespace

namespace {

ViolationReport ReportViolation(const Snapshot& s, Index policy, Index constraint, std::span<const Index> left,
                                std::span<const Index> right, std::span<const MatchTerm* const> terms) {
  ViolationReport out;
  out.policy_name = s.policies()[policy].name;
  out.policy_type = s.policies()[policy].type;
  out.has_constraint_name = ViolationName(s, policy, constraint, left, right, &out.constraint_name);
  if (const std::string* d = ViolationDescription(s, policy, constraint)) out.description = *d;
  for (Index r : left) out.left_bundles.emplace_back(s.str(s.roles()[r].name));
  for (Index r : right) out.right_bundles.emplace_back(s.str(s.roles()[r].name));
  for (const MatchTerm* t : terms) {
    ViolationReport::Entitlement e;
    if (!t->application_name.empty()) e.application = t->application_name;
    e.attribute = t->name_text;
    e.value = t->value_text;
    out.entitlements.push_back(std::move(e));
  }
  return out;
}

}  // namespace

ReasonWords ReasonText(const Snapshot& s, const ReasonRef& r, std::string* name) {
  static constexpr const char* kSides[] = {"left", "right", "selector"};
  ReasonWords words{kSides[static_cast<int>(r.side)], r.term ? "entitlement" : "role", {},
                    r.existing ? "existing" : "plan"};
  if (r.term) {
    *name = EntitlementText(*r.term);
  } else {
    name->assign(s.str(s.roles()[r.role].name));
    if (r.via != kNoIndex) words.via = s.str(s.roles()[r.via].name);
  }
  return words;
}

ViolationReport ReportViolation(const Snapshot& s, const Violation& v) {
  return ReportViolation(s, v.policy, v.constraint, v.left_bundles, v.right_bundles, v.entitlements);
}

ViolationReport CheckResult::Report(size_t i) const {
  const FoundViolation& v = violations[i];
  ViolationReport out = ReportViolation(*snapshot, v.policy, v.constraint, LeftBundles(v), RightBundles(v), Terms(v));
  for (const ReasonRef& r : Reasons(v)) {
    Reason& reason = out.reasons.emplace_back();
    ReasonWords words = ReasonText(*snapshot, r, &reason.name);
    reason.side = words.side;
    reason.kind = words.kind;
    reason.via = words.via;
    reason.source = words.source;
  }
  return out;
}

std::vector<ViolationReport> CheckResult::Reports() const {
  std::vector<ViolationReport> out;
  for (size_t i = 0; i < violations.size(); ++i) out.push_back(Report(i));
  return out;
}

absl::StatusOr<CheckResult> Check(const Snapshot& s, const CheckRequest& req, const ProvisioningPlan& plan,
                                  const CheckOptions& options) {
  CheckResult result;
  if (auto st = CheckInto(s, req, plan, options, result); !st.ok()) return st;
  return result;
}

absl::Status CheckInto(const Snapshot& s, const CheckRequest& req, const ProvisioningPlan& plan,
                       const CheckOptions& options, CheckResult& result) {
  result.Clear();
  result.snapshot = &s;
  // With no active policy in the system IdentityIQ answers nothing at all.
  if (!s.any_active_policy()) return absl::OkStatus();
  thread_local CheckScratch scratch;
  const std::span<const Index> policies = SelectPolicies(s, req, options, scratch.policies);
  ValueIds& ids = scratch.ids;
  ids.Reset(s.pool());
  // The identity lookup and the plan's strings' lookups in the pool, each a chain of
  // cache misses, are taken a step at a time side by side, so that their misses overlap.
  const uint32_t identity_hash = SlotHash(req.identity);
  if (options.resolve_plan_strings_first) {
    s.PrefetchIdentity(identity_hash, 0);
    ExpectPlanStrings(plan, ids);
    for (int step = 1; step <= 3; ++step) {
      s.PrefetchIdentity(identity_hash, step, options.prefetch_ahead);
      if (step <= 2) ids.PrefetchExpected(step);
    }
  }
  Index identity = s.FindIdentity(req.identity, identity_hash);
  if (identity == kNoIndex)  // IIQ would simulate on an empty identity; we refuse (README)
    return Invalid(absl::StrCat("Identity '", req.identity, "' not found in the snapshot"), "/identity");
  ids.Resolve();
  Projection* projection = &scratch.projection;
  DetectScope scope = options.detect_policy_roles_only ? DetectScope::kPolicyRoles : DetectScope::kAll;
  const RoleFacts* facts = options.precomputed_roles ? &RoleFacts::Of(s) : nullptr;
  const ProjectShortcuts project{options.prefetch_ahead, options.group_expansions};
  if (auto st = ProjectInto(s, identity, plan, ids, *projection, scope, facts, project); !st.ok()) return st;
  for (auto& d : projection->diagnostics) result.diagnostics.push_back(std::move(d));

  MatchContext ctx{s, ids};
  const ConstraintTable& table = ConstraintTable::Of(s);
  // Held roles follow from the assigned and detected roles alone: a plan that changes
  // neither (most add an entitlement) leaves the post state holding what the pre holds.
  const HeldRoles& held_pre = scratch.held_pre;
  scratch.held_pre.Compute(s, projection->pre);
  const bool same_roles = projection->pre.assigned_roles == projection->post.assigned_roles &&
                          projection->pre.detected_roles == projection->post.detected_roles;
  if (!same_roles) scratch.held_post.Compute(s, projection->post);
  const HeldRoles& held_post = same_roles ? scratch.held_pre : scratch.held_post;
  std::vector<ConstraintRef>& touched = scratch.touched;
  touched.clear();
  scratch.post_values.Reset(table, projection->post, options.held_keys_from);
  if (options.use_constraint_index) {
    TouchedConstraints(s, *projection, held_pre, held_post, table, options.use_role_pairs,
                       options.use_value_gates ? &scratch.post_values : nullptr,
                       options.use_gate_pairs ? options.gate_probe_from : SIZE_MAX, scratch.touched_set, touched);
  } else {
    for (Index p : policies)
      for (Index c = 0; c < s.policies()[p].constraints.size(); ++c)
        if (!s.policies()[p].constraints[c].disabled && s.policies()[p].constraints[c].unsupported.empty())
          touched.push_back({p, c});
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  }
  Violation& post = scratch.post;
  CheckResult& found = scratch.found;
  found.violations.clear();
  found.bundles.clear();
  found.terms.clear();
  found.reasons.clear();
  if (options.prefetch_ahead) table.LoadForms(touched);
  PreViolations pre(ctx, table, options, *projection, held_pre, policies, scratch.pre);
  const ConstraintTable::Shortcuts shortcuts = Shortcuts(options);
  const bool direct_role_sod = options.use_role_sides && options.role_sod_direct;
  const HeldRoles* direct_pre = pre.MayBeNewWhateverBundles() ? &held_pre : nullptr;
  std::vector<Violation>& account = scratch.account;
  for (Index p : policies) {
    const Policy& policy = s.policies()[p];
    if (policy.kind == Policy::Kind::kUnsupported) {
      result.diagnostics.push_back({Severity::kUnsupported, ErrorCode::kUnsupported, policy.unsupported, {},
                                    "Policy[" + policy.name + "]"});
      continue;
    }
    if (!policy.violation_rule.empty())
      result.diagnostics.push_back({Severity::kUnsupported, ErrorCode::kUnsupported,
                                    absl::StrCat("violation rule '", policy.violation_rule,
                                                 "' (BeanShell) is not run; IdentityIQ may rewrite this policy's violations"),
                                    {}, "Policy[" + policy.name + "]"});
    // Risk: the plan does not change the stored scorecard, so the pre and post
    // violations are the same. Activity: the activity query runs on the check's copy of
    // the identity, whose id is null, and finds nothing before or after.
    if (policy.kind == Policy::Kind::kRisk || policy.kind == Policy::Kind::kActivity) continue;
    if (policy.kind == Policy::Kind::kAccount) {
      // After the plan, AccountPolicyExecutor counts the simulated accounts.
      account.clear();
      AccountViolations(p, policy.account_constraint, projection->post.accounts,
                        [](const AccountState& a) { return std::pair(a.application, a.instance); },
                        scratch.account_keys, account);
      for (const Violation& v : account)
        if (pre.IsNew(v)) AddFound(v, found);
      continue;
    }
    for (Index c : s.UnsupportedConstraints(p)) {
      result.diagnostics.push_back({Severity::kUnsupported, ErrorCode::kUnsupported, policy.constraints[c].unsupported,
                                    {}, absl::StrCat("Policy[", policy.name, "]/", policy.constraints[c].name)});
    }
    // Only the constraints the plan can change; the others give the same answer
    // before and after, so they can never report a new violation.
    auto begin = std::lower_bound(touched.begin(), touched.end(), ConstraintRef{p, 0});
    for (auto it = begin; it != touched.end() && it->policy == p; ++it) {
      table.Prefetch(touched, it - touched.begin());
      Index c = it->constraint;
      FoundViolation* v = nullptr;
      if (direct_role_sod) {
        const size_t bundles = found.bundles.size();
        uint32_t left_count = 0;
        auto kind = table.DirectRoleSod(*it, held_post, direct_pre, found.bundles, &left_count);
        if (kind == RoleSodCase::kNone) continue;
        if (kind == RoleSodCase::kNew) v = &AddRoleSod(*it, bundles, left_count, found);
      }
      if (!v) {
        if (!table.Evaluate(ctx, *it, projection->post, held_post, scratch.post_values, shortcuts, &post)) continue;
        if (!pre.IsNew(post)) continue;
        v = &AddFound(post, found);
      }
      if (req.explain) {
        Explain(ctx, policy.constraints[c], *projection, held_pre, held_post, scratch.post_terms, scratch.pre_terms,
                found.reasons);
        v->reason_count = static_cast<uint32_t>(found.reasons.size() - v->reasons);
      }
    }
  }
  if (!found.violations.empty()) {  // into the result's memory: exactly sized when new
    result.violations.assign(found.violations.begin(), found.violations.end());
    result.bundles.assign(found.bundles.begin(), found.bundles.end());
    result.terms.assign(found.terms.begin(), found.terms.end());
    result.reasons.assign(found.reasons.begin(), found.reasons.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckResult> Check(const Snapshot& snapshot, const CheckRequest& request, const CheckOptions& options,
                                  const Limits& limits) {
  auto format = PlanFormatFromMediaType(request.plan_type);
  if (!format.ok()) return format.status();
  auto plan = DecodePlan(request.plan_value, *format, limits);
  if (!plan.ok()) return WithContext(plan.status(), "plan.value");
  return Check(snapshot, request, *plan, options);
}

}  // namespace preflight
