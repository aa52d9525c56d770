#include "engine/model/snapshot.h"

#include "engine/model/hash_slots.h"

namespace preflight {
namespace {
Index Lookup(const absl::flat_hash_map<std::string_view, Index, StringHash, std::equal_to<>>& map,
             std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? kNoIndex : it->second;
}
}  // namespace

Index Snapshot::FindIdentity(std::string_view name) const {
  const PopulationStore& p = population_;
  uint32_t i = hash_slots::Find(p.identity_slots.span(), StableHash(name),
                                [&](uint32_t i) { return pool_.Get(p.identities[i].name) == name; });
  return i == hash_slots::kNotFound ? kNoIndex : i;
}
Index Snapshot::FindRole(std::string_view name) const { return Lookup(role_lookup_, name); }
Index Snapshot::FindApplication(std::string_view name) const { return Lookup(app_lookup_, name); }
Index Snapshot::FindPolicy(std::string_view name_or_id) const {
  Index i = Lookup(policy_lookup_, name_or_id);
  return i != kNoIndex ? i : Lookup(policy_id_lookup_, name_or_id);
}

const std::vector<Index>* Snapshot::RolesMentioning(Index app, Id attr, Id value) const {
  auto it = roles_by_value_.find(Key{app, attr, value});
  return it == roles_by_value_.end() ? nullptr : &it->second;
}

const std::vector<Index>* Snapshot::RolesReading(Index app, Id attr, Id value) const {
  auto it = roles_reading_.find(Key{app, attr, value});
  return it == roles_reading_.end() ? nullptr : &it->second;
}

const std::vector<ConstraintRef>* Snapshot::ConstraintsNamingRole(Index role) const {
  return role < constraints_by_role_.size() && !constraints_by_role_[role].empty() ? &constraints_by_role_[role]
                                                                                   : nullptr;
}

const std::vector<ConstraintRef>* Snapshot::ConstraintsNamingValue(Index app, Id attr, Id value) const {
  auto it = constraints_by_value_.find(Key{app, attr, value});
  return it == constraints_by_value_.end() ? nullptr : &it->second;
}

const std::vector<ConstraintRef>* Snapshot::ConstraintsWithId(std::string_view id) const {
  auto it = constraints_by_id_.find(ToAbsl(id));
  return it == constraints_by_id_.end() ? nullptr : &it->second;
}

const std::vector<ConstraintRef>* Snapshot::ConstraintsNamed(std::string_view name) const {
  auto it = constraints_by_name_.find(ToAbsl(name));
  return it == constraints_by_name_.end() ? nullptr : &it->second;
}

TextList Snapshot::Resources(std::string_view type) const {
  for (size_t t = 0; t < kResourceTypes.size(); ++t)
    if (kResourceTypes[t] == type) return {population_.resource_text[t], population_.resource_starts[t]};
  return {};
}

Snapshot::Stats Snapshot::stats() const {
  Stats s;
  const PopulationStore& p = population_;
  s.identities = p.identities.size();
  // The accounts identities hold: a SCIM User's entitlements[] synthesize accounts that
  // give way to the Accounts resources describing the same accounts, and are not counted.
  s.accounts = p.account_lists.size();
  s.roles = roles_.size();
  s.policies = policies_.size();
  for (const Policy& pol : policies_) s.constraints += pol.constraints.size();
  s.applications = applications_.size();
  s.entitlements = p.entitlements.size();
  s.strings = pool_.size();
  s.role_assignments = p.roles.size();
  for (const IdentityRecord& i : p.identities) {
    if (i.flags & IdentityView::kDetectionConsistent) ++s.consistent_detection;
    if (i.flags & IdentityView::kExpansionNoop) ++s.expansion_noop;
    for (Index a : p.account_lists.span(i.accounts))
      for (const AttrRecord& v : p.attributes.span(p.accounts[a].attributes)) s.entitlement_values += v.values.count;
  }
  size_t bytes = pool_.bytes();
  population_.ForEachColumn([&](std::string_view, const auto& column) { bytes += column.bytes(); });
  bytes += roles_.size() * sizeof(Role);
  bytes += roles_by_value_.size() * (sizeof(Key) + sizeof(std::vector<Index>) + 8);
  s.approx_bytes = bytes;
  return s;
}

}  // namespace preflight
