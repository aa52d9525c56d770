#include "engine/plan/role_facts.h"

#include <algorithm>
#include <utility>

namespace preflight {
namespace {

// What the facts keep, at most: the expansions of all roles together (20 bytes each), and
// the roles all walks visit. Past either (a hierarchy whose every role requires most
// others), a role's expansion is walked by each check that assigns it, as without facts.
constexpr size_t kMaxKeptExpansions = size_t{1} << 20, kMaxWalked = size_t{16} << 20;

void AddLeaves(Index assigned, Index via, Index app, const Filter& f, std::vector<Expansion>& out) {
  switch (f.op) {
    case Filter::Op::kEq:
    case Filter::Op::kContainsAll:
      for (Id v : f.values) out.push_back({assigned, via, app, f.property, v});
      break;
    case Filter::Op::kAnd:
      for (const Filter& c : f.children) AddLeaves(assigned, via, app, c, out);
      break;
    case Filter::Op::kOr:
      if (!f.children.empty()) AddLeaves(assigned, via, app, f.children.front(), out);
      break;
    default: break;
  }
}

}  // namespace

namespace {

// The walk ExpandRole describes; `seen(i)` says whether queue[i] was visited before it.
// False when the queue would pass `limit` roles (`out` is then incomplete).
template <class Seen>
bool Walk(const Snapshot& s, Index assigned, std::vector<Index>& queue, std::vector<Expansion>& out, Seen seen,
          size_t limit) {
  queue.assign(1, assigned);
  for (size_t i = 0; i < queue.size(); ++i) {
    if (seen(i)) continue;
    Index r = queue[i];
    const Role& role = s.roles()[r];
    if (role.disabled && r != assigned) continue;
    for (const Profile& p : role.profiles) {
      for (const Filter& f : p.constraints) AddLeaves(assigned, r, p.application, f, out);
      if (role.or_profiles) break;
    }
    if (queue.size() + role.inheritance.size() + role.requirements.size() > limit) return false;
    queue.insert(queue.end(), role.inheritance.begin(), role.inheritance.end());
    queue.insert(queue.end(), role.requirements.begin(), role.requirements.end());
  }
  return true;
}

}  // namespace

void ExpandRole(const Snapshot& s, Index assigned, std::vector<Index>& queue, std::vector<Expansion>& out) {
  auto seen = [&](size_t i) {
    return std::find(queue.begin(), queue.begin() + static_cast<long>(i), queue[i]) != queue.begin() + static_cast<long>(i);
  };
  Walk(s, assigned, queue, out, seen, SIZE_MAX);
}

bool SeenByRoleSod(const Snapshot& s, Index r) {
  if (s.ConstraintsNamingRole(r)) return true;
  const auto& up = s.roles()[r].supers_closure;
  return std::any_of(up.begin(), up.end(), [&](Index x) { return s.ConstraintsNamingRole(x) != nullptr; });
}

const RoleFacts& RoleFacts::Of(const Snapshot& s) {
  return s.LazyPolicyState<RoleFacts>([](const Snapshot& snapshot) { return new RoleFacts(snapshot); },
                                      [](const RoleFacts& f) { return f.Bytes(); }, 1);
}

RoleFacts::RoleFacts(const Snapshot& s) {
  const size_t n = s.roles().size();
  ranges_.reserve(n);
  seen_.reserve(n);
  std::vector<Index> queue;
  std::vector<Expansion> one;
  // Which roles the current walk visited: visit[x] == r + 1 (O(1), where ExpandRole
  // searches its queue).
  std::vector<uint32_t> visit(n, 0);
  size_t walked = 0;
  for (Index r = 0; r < n; ++r) {
    seen_.push_back(preflight::SeenByRoleSod(s, r) ? 1 : 0);
    one.clear();
    auto seen = [&](size_t i) { return std::exchange(visit[queue[i]], r + 1) == r + 1; };
    bool whole = walked < kMaxWalked && Walk(s, r, queue, one, seen, kMaxWalked - walked);
    walked += queue.size();
    if (!whole || expansions_.size() + one.size() > kMaxKeptExpansions) {
      ranges_.push_back({kNotKept, 0});
      continue;
    }
    ranges_.push_back({static_cast<uint32_t>(expansions_.size()), static_cast<uint32_t>(one.size())});
    expansions_.insert(expansions_.end(), one.begin(), one.end());
  }
  expansions_.shrink_to_fit();
  KeepScopedCandidates(s);
}

void RoleFacts::KeepScopedCandidates(const Snapshot& s) {
  const size_t n = s.roles().size();
  candidate_ranges_.reserve(n);
  std::vector<uint32_t> mark(n, 0);  // mark[x] == r + 1: x is in role r's set
  std::vector<Index> below, set;
  size_t walked = 0;
  for (Index r = 0; r < n; ++r) {
    // As DetectChangedRoles walks from one candidate: the role and its descendants, those
    // in scope, then their supers in scope.
    below.assign(1, r);
    mark[r] = r + 1;
    for (size_t i = 0; i < below.size() && walked < kMaxWalked; ++i, ++walked)
      for (Index child : s.Children(below[i]))
        if (mark[child] != r + 1) {
          mark[child] = r + 1;
          below.push_back(child);
        }
    set.clear();
    for (Index x : below)
      if (seen_[x]) set.push_back(x);
    for (size_t i = 0, in_scope = set.size(); i < in_scope && walked < kMaxWalked; ++i)
      for (Index up : s.roles()[set[i]].supers_closure) {
        ++walked;
        if (mark[up] != r + 1 && seen_[up]) set.push_back(up);
        mark[up] = r + 1;
      }
    std::sort(set.begin(), set.end());
    if (walked >= kMaxWalked || candidates_.size() + set.size() > kMaxKeptExpansions) {
      candidate_ranges_.push_back({kNotKept, 0});
      continue;
    }
    candidate_ranges_.push_back({static_cast<uint32_t>(candidates_.size()), static_cast<uint32_t>(set.size())});
    candidates_.insert(candidates_.end(), set.begin(), set.end());
  }
  candidates_.shrink_to_fit();
}

size_t RoleFacts::Bytes() const {
  return expansions_.capacity() * sizeof(Expansion) + (ranges_.capacity() + candidate_ranges_.capacity()) * sizeof(Range) +
         seen_.capacity() + candidates_.capacity() * sizeof(Index);
}

}  // namespace preflight
