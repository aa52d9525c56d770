#include "engine/plan/detection.h"

#include <algorithm>

#include "engine/state/match.h"

namespace preflight {

namespace {

// Per-detection memo of isMatching and "matches with all its supers", by role.
struct Memo {
  DetectionScratch& d;
  uint8_t& Bits(Index r) {
    if (d.known.Insert(r)) d.bits[r] = 0;
    return d.bits[r];
  }
};

// EntitlementCorrelator.isMatching: a disabled role or one without profiles passes (the
// hierarchy walk goes through it); otherwise its profiles must match.
bool IsMatching(const MatchContext& ctx, const IdentityState& st, Index r, Memo& memo) {
  uint8_t& b = memo.Bits(r);
  if (b & 1) return b & 2;
  const Role& role = ctx.snapshot.roles()[r];
  bool ok = role.disabled || role.profiles.empty() || ProfilesMatch(ctx, role, st);
  b |= static_cast<uint8_t>(1 | (ok ? 2 : 0));
  return ok;
}

// isMatching and evaluateSupersBottomUp: the role and every role it inherits from match.
bool FullMatch(const MatchContext& ctx, const IdentityState& st, Index r, Memo& memo, int depth = 0) {
  if (depth > 64) return false;  // an inheritance cycle (reported at load)
  if (uint8_t b = memo.Bits(r); b & 4) return b & 8;
  bool ok = IsMatching(ctx, st, r, memo);
  for (Index up : ctx.snapshot.roles()[r].inheritance) ok = ok && FullMatch(ctx, st, up, memo, depth + 1);
  memo.Bits(r) |= static_cast<uint8_t>(4 | (ok ? 8 : 0));
  return ok;
}

// addMatchIfAllowed: enabled, with profiles detection evaluates; and matching with
// its supers. A match shadows the roles above it even when it is not reached or not
// kept (a "silent detection").
bool Matches(const MatchContext& ctx, const IdentityState& st, Index r, Memo& memo) {
  const Role& role = ctx.snapshot.roles()[r];
  return role.detectable && !role.disabled && FullMatch(ctx, st, r, memo);
}

// Guided detection (EntitlementCorrelator.doAssignmentDetection), which matters only
// when a role type is noDetectionUnlessAssigned: the walk also starts at each assigned
// role's detectable required and permitted roles (CorrelationModel
// .getDetectableRolesForAssignment), and a noDetectionUnlessAssigned role is kept only
// when assigned, required or permitted (isAssignedOrRequiredOrPermitted).
class Guided {
 public:
  explicit Guided(DetectionScratch& d) : root_(d.root), kept_(d.kept), seen_(d.seen), stack_(d.stack) {}
  void Compute(const Snapshot& s, const IdentityState& st) {
    root_.Reset(s.roles().size());
    kept_.Reset(s.roles().size());
    for (Index a : st.assigned_roles) {
      kept_.Set(a);
      const Role& assigned = s.roles()[a];
      if (assigned.type_detectable) root_.Set(a);  // the assigned role and its detectable supers
      for (Index up : assigned.supers_closure)
        if (s.roles()[up].type_detectable) root_.Set(up);
      // CorrelationRole.loadRequiredAndPermittedRecursive: the requirements and permits
      // (with a role type) of the role, its supers, and theirs in turn.
      seen_.Reset(s.roles().size());
      stack_.assign(1, a);
      while (!stack_.empty()) {
        Index r = stack_.back();
        stack_.pop_back();
        if (!seen_.Insert(r)) continue;
        const Role& role = s.roles()[r];
        stack_.insert(stack_.end(), role.inheritance.begin(), role.inheritance.end());
        for (const auto* list : {&role.requirements, &role.permits})
          for (Index x : *list) {
            stack_.push_back(x);
            const Role& rp = s.roles()[x];
            if (!rp.has_type_definition) continue;
            kept_.Set(x);
            if (rp.type_detectable || rp.type_assigned_detectable) root_.Set(x);
          }
      }
    }
  }
  bool Reached(const Snapshot& s, Index r) const {
    const Role& role = s.roles()[r];
    if (role.reached || root_.Has(r)) return true;
    return std::any_of(role.supers_closure.begin(), role.supers_closure.end(), [&](Index up) { return root_.Has(up); });
  }
  bool Kept(const Snapshot& s, Index r) const { return !s.roles()[r].type_assigned_detectable || kept_.Has(r); }

 private:
  RoleMarks &root_, &kept_, &seen_;
  std::vector<Index>& stack_;
};

// Which of the candidate roles are detected. EntitlementCorrelator.evaluateTopDown adds
// a matching role only when no branch below it added something: "Entitlement
// correlation has historically only detected the most specific role". So a role is
// detected when the walk reaches it, it matches, no role inheriting from it (at any
// depth) matches, and (noDetectionUnlessAssigned) it is kept. `detected` comes out sorted.
void DetectAmong(const MatchContext& ctx, const IdentityState& st, DetectionScratch& d) {
  const Snapshot& s = ctx.snapshot;
  d.known.Reset(s.roles().size());
  if (d.bits.size() < s.roles().size()) d.bits.resize(s.roles().size());
  Memo memo{d};
  const std::vector<Index>& candidates = d.candidates;
  std::vector<Index>& detected = d.detected;
  detected.clear();
  Guided guided(d);
  bool assignments_matter = s.any_assigned_detectable();
  if (assignments_matter) guided.Compute(s, st);
  for (Index r : candidates) {
    if (!Matches(ctx, st, r, memo)) continue;
    if (assignments_matter ? !guided.Reached(s, r) || !guided.Kept(s, r) : !s.roles()[r].reached) continue;
    const auto& below = s.roles()[r].subs_closure;
    if (std::none_of(below.begin(), below.end(), [&](Index d) { return Matches(ctx, st, d, memo); }))
      detected.push_back(r);
  }
  std::sort(detected.begin(), detected.end());
}

// The new detected list: previously detected roles that were not re-examined, or were
// and are still detected, keep their order; newly detected roles follow in snapshot order.
template <typename Examined>
void SetDetected(IdentityState& st, const std::vector<Index>& detected, Examined examined,
                 std::vector<Index>& ordered) {
  ordered.clear();
  for (Index r : st.detected_roles)
    if (!examined(r) || std::binary_search(detected.begin(), detected.end(), r)) ordered.push_back(r);
  for (Index r : detected)
    if (std::find(ordered.begin(), ordered.end(), r) == ordered.end()) ordered.push_back(r);
  st.detected_roles.assign(ordered.begin(), ordered.end());
}

// Is the role in the scope? (kPolicyRoles: it or a role it inherits from is named by
// a role SoD constraint.)
bool InScope(const Snapshot& s, DetectScope scope, const RoleFacts* facts, Index r) {
  if (scope == DetectScope::kAll) return true;
  return facts ? facts->SeenByRoleSod(r) : SeenByRoleSod(s, r);
}

// Drops the candidates out of scope.
void KeepInScope(const Snapshot& s, DetectScope scope, const RoleFacts* facts, std::vector<Index>& candidates) {
  if (scope == DetectScope::kAll) return;
  std::erase_if(candidates, [&](Index r) { return !InScope(s, scope, facts, r); });
}

// The roles reading changes[i]: found already, or looked up.
const std::vector<Index>* Reading(const Snapshot& s, const std::vector<Change>& changes,
                                  std::span<const Snapshot::ValueIndexes> found, size_t i) {
  if (!found.empty()) return found[i].reading;
  const Change& c = changes[i];
  return s.RolesReading(c.application, c.attr, c.value);
}

// DetectChangedRoles' candidates under kPolicyRoles from the facts: the union of the
// scoped candidates of every role reading a change, marked in d.candidate. False when
// the facts did not keep one of them (the caller walks).
bool FactsCandidates(const Snapshot& s, const RoleFacts& facts, const std::vector<Change>& changes,
                     std::span<const Snapshot::ValueIndexes> found, DetectionScratch& d) {
  d.candidates.clear();
  d.candidate.Reset(s.roles().size());
  for (size_t i = 0; i < changes.size(); ++i)
    if (const auto* roles = Reading(s, changes, found, i))
      for (Index r : *roles) {
        auto set = facts.ScopedCandidates(r);
        if (!set) return false;
        for (Index x : *set)
          if (d.candidate.Insert(x)) d.candidates.push_back(x);
      }
  return true;
}

}  // namespace

// Detection limited to the roles that read something that changed, and the roles
// that inherit from them; every other role keeps its stored status. Valid only when
// the stored detected roles are what a full detection of the pre state finds.
void DetectChangedRoles(const Snapshot& s, const ValueIds& ids, const std::vector<Change>& changes,
                        IdentityState& st, DetectionScratch& d, DetectScope scope, const RoleFacts* facts,
                        std::span<const Snapshot::ValueIndexes> found) {
  // Guided detection depends on the assigned roles as well: detect everything.
  if (s.any_assigned_detectable()) return DetectRoles(s, ids, st, d, scope, facts);
  MatchContext ctx{s, ids};
  std::vector<Index>& candidates = d.candidates;
  if (facts && scope == DetectScope::kPolicyRoles && FactsCandidates(s, *facts, changes, found, d)) {
    if (candidates.empty()) return;
    DetectAmong(ctx, st, d);
    SetDetected(st, d.detected, [&](Index r) { return d.candidate.Has(r); }, d.ordered);
    return;
  }
  candidates.clear();
  for (size_t i = 0; i < changes.size(); ++i)
    if (const auto* roles = Reading(s, changes, found, i))
      candidates.insert(candidates.end(), roles->begin(), roles->end());
  if (candidates.empty()) return;
  // De-duplicate with marks instead of sorting (most candidates repeat).
  RoleMarks& mark = d.candidate;
  mark.Reset(s.roles().size());
  size_t unique = 0;
  for (Index r : candidates)
    if (mark.Insert(r)) candidates[unique++] = r;
  candidates.resize(unique);
  // A changed role changes what its descendants' super check sees, and whether their
  // ancestors have a more specific match below them.
  for (size_t i = 0; i < candidates.size(); ++i)
    for (Index child : s.Children(candidates[i]))
      if (mark.Insert(child)) candidates.push_back(child);
  // Out of scope, a role's supers are too (InScope reads the role and its supers): the
  // scope is applied before adding supers, which then only come from roles in scope.
  KeepInScope(s, scope, facts, candidates);
  for (size_t i = 0, n = candidates.size(); i < n; ++i)
    for (Index up : s.roles()[candidates[i]].supers_closure)
      if (mark.Insert(up) && InScope(s, scope, facts, up)) candidates.push_back(up);
  DetectAmong(ctx, st, d);
  SetDetected(st, d.detected, [&](Index r) { return mark.Has(r) && InScope(s, scope, facts, r); }, d.ordered);
}

void DetectRoles(const Snapshot& s, const ValueIds& ids, IdentityState& st, DetectionScratch& d, DetectScope scope,
                 const RoleFacts* facts) {
  MatchContext ctx{s, ids};
  // Candidates: roles whose profile values appear on the accounts, plus roles that
  // cannot be indexed by value.
  std::vector<Index>& candidates = d.candidates;
  candidates.assign(s.UnindexedDetectableRoles().begin(), s.UnindexedDetectableRoles().end());
  for (const AccountState& a : st.accounts)
    a.ForEachAttribute([&](const AttrView& v) {
      for (Id value : v.values)
        if (const auto* roles = s.RolesMentioning(a.application, v.name, value))
          candidates.insert(candidates.end(), roles->begin(), roles->end());
    });
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  KeepInScope(s, scope, facts, candidates);
  DetectAmong(ctx, st, d);
  SetDetected(st, d.detected, [&](Index r) { return InScope(s, scope, facts, r); }, d.ordered);
}

void RoleMarks::Reset(size_t roles) {
  if (stamp.size() < roles) {
    stamp.assign(roles, 0);
    epoch = 0;
  }
  if (++epoch == 0) {
    std::fill(stamp.begin(), stamp.end(), 0);
    epoch = 1;
  }
}

}  // namespace preflight
