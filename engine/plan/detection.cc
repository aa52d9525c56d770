#include "engine/plan/detection.h"

#include <algorithm>

#include "engine/state/match.h"

namespace preflight {

namespace {

// A role passes as a super when it is disabled, has no profiles, or its profiles
// match; and so do its own supers. Memoized per detection.
bool SuperMatches(const MatchContext& ctx, const IdentityState& st, Index r, int depth,
                  std::vector<std::pair<Index, bool>>& memo) {
  for (const auto& [role, ok] : memo)
    if (role == r) return ok;
  const Role& role = ctx.snapshot.roles()[r];
  bool ok = depth <= 64 && (role.disabled || role.profiles.empty() || ProfilesMatch(ctx, role, st));
  for (Index up : role.inheritance) ok = ok && SuperMatches(ctx, st, up, depth + 1, memo);
  memo.emplace_back(r, ok);
  return ok;
}

// Which of the candidate roles are detected: a role is detected when its own profiles
// match and every super matches. `detected` comes out sorted.
void DetectAmong(const MatchContext& ctx, const std::vector<Index>& candidates, const IdentityState& st,
                 std::vector<std::pair<Index, bool>>& memo, std::vector<Index>& detected) {
  memo.clear();
  detected.clear();
  for (Index r : candidates) {
    const Role& role = ctx.snapshot.roles()[r];
    if (!role.detectable || role.disabled || !ProfilesMatch(ctx, role, st)) continue;
    bool ok = true;
    for (Index up : role.inheritance) ok = ok && SuperMatches(ctx, st, up, 1, memo);
    if (ok) detected.push_back(r);
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

}  // namespace

// Detection limited to the roles that read something that changed, and the roles
// that inherit from them; every other role keeps its stored status. Valid only when
// the stored detected roles are what a full detection of the pre state finds.
void DetectChangedRoles(const Snapshot& s, const ValueIds& ids, const std::vector<Change>& changes,
                        IdentityState& st) {
  MatchContext ctx{s, ids};
  thread_local std::vector<Index> candidates, detected, ordered;
  thread_local std::vector<std::pair<Index, bool>> memo;
  candidates.clear();
  for (const Change& c : changes)
    if (const auto* roles = s.RolesReading(c.application, c.attr, c.value))
      candidates.insert(candidates.end(), roles->begin(), roles->end());
  if (candidates.empty()) return;
  // De-duplicate with per-thread marks instead of sorting (most candidates repeat).
  thread_local std::vector<uint32_t> mark;
  thread_local uint32_t epoch = 0;
  if (mark.size() < s.roles().size()) mark.assign(s.roles().size(), 0);
  if (++epoch == 0) {
    std::fill(mark.begin(), mark.end(), 0);
    epoch = 1;
  }
  size_t unique = 0;
  for (Index r : candidates)
    if (mark[r] != epoch) {
      mark[r] = epoch;
      candidates[unique++] = r;
    }
  candidates.resize(unique);
  // A changed role changes what its descendants' super check sees.
  for (size_t i = 0; i < candidates.size(); ++i)
    for (Index child : s.Children(candidates[i]))
      if (mark[child] != epoch) {
        mark[child] = epoch;
        candidates.push_back(child);
      }
  DetectAmong(ctx, candidates, st, memo, detected);
  SetDetected(st, detected, [&](Index r) { return mark[r] == epoch; }, ordered);
}

void DetectRoles(const Snapshot& s, const ValueIds& ids, IdentityState& st) {
  MatchContext ctx{s, ids};
  thread_local std::vector<Index> candidates, detected, ordered;
  thread_local std::vector<std::pair<Index, bool>> memo;
  // Candidates: roles whose profile values appear on the accounts, plus roles that
  // cannot be indexed by value.
  candidates.assign(s.UnindexedDetectableRoles().begin(), s.UnindexedDetectableRoles().end());
  for (const AccountState& a : st.accounts)
    a.ForEachAttribute([&](const AttrValues& v) {
      for (Id value : v.values)
        if (const auto* roles = s.RolesMentioning(a.application, v.name, value))
          candidates.insert(candidates.end(), roles->begin(), roles->end());
    });
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  DetectAmong(ctx, candidates, st, memo, detected);
  SetDetected(st, detected, [](Index) { return true; }, ordered);
}

}  // namespace preflight
