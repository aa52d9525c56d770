#include "engine/policy/constraint_table.h"

#include <algorithm>
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
}

std::span<const ConstraintRef> ConstraintTable::PairedWith(Index role, Index other) const {
  auto begin = partner_roles_.begin() + partner_starts_[role], end = partner_roles_.begin() + partner_starts_[role + 1];
  auto [lo, hi] = std::equal_range(begin, end, other);
  return {partner_refs_.data() + (lo - partner_roles_.begin()), static_cast<size_t>(hi - lo)};
}

size_t ConstraintTable::Bytes() const {
  return first_.capacity() * sizeof(uint32_t) + equal_starts_.capacity() * sizeof(uint32_t) +
         equal_refs_.capacity() * sizeof(ConstraintRef) + partner_starts_.capacity() * sizeof(uint32_t) +
         partner_roles_.capacity() * sizeof(Index) + partner_refs_.capacity() * sizeof(ConstraintRef);
}

}  // namespace preflight
