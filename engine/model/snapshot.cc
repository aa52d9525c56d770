#include "engine/model/snapshot.h"

namespace preflight {
namespace {
Index Lookup(const absl::flat_hash_map<std::string_view, Index, StringHash, std::equal_to<>>& map,
             std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? kNoIndex : it->second;
}
}  // namespace

Index Snapshot::FindIdentity(std::string_view name) const { return Lookup(identity_lookup_, name); }
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

const std::vector<std::string>* Snapshot::Resources(std::string_view type) const {
  auto it = resources_.find(ToAbsl(type));
  return it == resources_.end() ? nullptr : &it->second;
}

Snapshot::Stats Snapshot::stats() const {
  Stats s;
  s.identities = identities_.size();
  // The accounts identities hold: a SCIM User's entitlements[] synthesize accounts that
  // give way to the Accounts resources describing the same accounts, and are not counted.
  for (const Identity& i : identities_) s.accounts += i.accounts.size();
  s.roles = roles_.size();
  s.policies = policies_.size();
  for (const Policy& p : policies_) s.constraints += p.constraints.size();
  s.applications = applications_.size();
  s.entitlements = entitlement_count_;
  s.strings = pool_.size();
  size_t bytes = pool_.bytes();
  for (const Identity& i : identities_) {
    s.role_assignments += i.assigned_roles.size() + i.detected_roles.size();
    if (i.flags & Identity::kDetectionConsistent) ++s.consistent_detection;
    if (i.flags & Identity::kExpansionNoop) ++s.expansion_noop;
    bytes += sizeof(Identity) + 4 * (i.assigned_roles.size() + i.detected_roles.size() + i.accounts.size());
    for (const AttrValues& a : i.attributes) bytes += sizeof(AttrValues) + 4 * a.values.size();
  }
  for (const Identity& i : identities_)
    for (Index ai : i.accounts)
      for (const AttrValues& v : accounts_[ai].attributes) s.entitlement_values += v.values.size();
  for (const Account& a : accounts_) {
    bytes += sizeof(Account);
    for (const AttrValues& v : a.attributes) bytes += sizeof(AttrValues) + 4 * v.values.size();
  }
  bytes += roles_.size() * sizeof(Role);
  bytes += roles_by_value_.size() * (sizeof(Key) + sizeof(std::vector<Index>) + 8);
  s.approx_bytes = bytes;
  return s;
}

}  // namespace preflight
