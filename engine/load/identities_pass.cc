// The pass "identities": identities and their accounts.
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"

namespace preflight {
namespace {

// The identities and accounts are most of the loaders' objects (kilobytes each) and
// nothing reads them after this pass: each one is released as soon as it is converted, so
// the model grows into the memory they leave instead of beside them. (Trimming the heap
// as it goes lowers the peak a little more but walks the whole heap each time: slower.)

// What the standalone accounts still need of an identity: its name and account ids.
void Release(IdentityObject& io) {
  IdentityObject kept;
  kept.name = std::move(io.name);
  kept.account_ids = std::move(io.account_ids);
  io = std::move(kept);
}

}  // namespace

Index BuildContext::AddAccount(const AccountObject& a, Index owner) {
  Snapshot& s = snap;
  std::string object = "Link[" + a.native_identity + "]";
  AccountRecord acc;
  acc.id = Intern(a.id);
  acc.from_scim = a.from_scim;
  acc.application = App(a.application, a.where, object);
  acc.instance = a.instance.empty() ? kNoId : Intern(a.instance);
  acc.native_identity = Intern(a.native_identity);
  acc.display_name = a.display_name.empty() ? kNoId : Intern(a.display_name);
  acc.identity = owner;
  std::vector<AttrValues> attributes = Attrs(a.attributes);
  // Multi-valued per the application's schema, where the source lost the list.
  const Application& app = s.applications_[acc.application];
  for (AttrValues& v : attributes)
    if (app.IsMulti(v.name)) v.multi = true;
  acc.attributes = Store(attributes);
  std::vector<Permission> permissions;
  for (const PermissionObject& p : a.permissions) permissions.push_back(ConvertPermission(p));
  acc.permissions = Store(permissions);
  acc.disabled = a.disabled;
  acc.locked = a.locked;
  std::vector<AccountRecord>& accounts = s.population_.accounts.Build();
  Index index = static_cast<Index>(accounts.size());
  accounts.push_back(acc);
  identity_accounts[owner].push_back(index);
  if (!a.id.empty()) account_by_id.emplace(a.id, index);
  return index;
}

void BuildContext::ResolveIdentities() {
  Snapshot& s = snap;
  PopulationStore& p = s.population_;
  std::vector<IdentityRecord>& identities = p.identities.Build();
  for (IdentityObject& io : objects.identities) {
    Id name = Intern(io.name);
    if (s.identity_by_name_.contains(name)) {
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, "identity defined twice; the first definition is used",
           io.where, "Identity[" + io.name + "]");
      Release(io);
      continue;
    }
    Index index = static_cast<Index>(identities.size());
    s.identity_by_name_.emplace(name, index);
    if (!io.id.empty()) identity_by_id.emplace(io.id, index);
    IdentityRecord identity;
    identity.name = name;
    identity.id = Intern(io.id);
    identity.display_name = Intern(io.display_name);
    identity.from_scim = io.from_scim;
    identity.inactive = io.inactive;
    std::string object = "Identity[" + io.name + "]";
    identity.assigned_roles = Store(Roles(io.assigned_roles, io.where, object), p.roles);
    identity.detected_roles = Store(Roles(io.detected_roles, io.where, object), p.roles);
    identity.attributes = Store(Attrs(io.attributes));
    identities.push_back(identity);
    identity_accounts.emplace_back();
    for (const AccountObject& a : io.accounts) AddAccount(a, index);
    Release(io);
  }
  AttachStandaloneAccounts();
  std::vector<IdentityObject>().swap(objects.identities);
  std::vector<AccountObject>().swap(objects.accounts);
  for (size_t i = 0; i < identities.size(); ++i) identities[i].accounts = Store(identity_accounts[i], p.account_lists);
  // The end of the last attribute's values (AttrRecord).
  p.attributes.Build().push_back({kNoId, static_cast<uint32_t>(p.values.Build().size())});
  std::vector<std::vector<Index>>().swap(identity_accounts);
  p.identities.Compact();
  p.accounts.Compact();
  p.roles.Compact();
  p.account_lists.Compact();
  p.attributes.Compact();
  p.permissions.Compact();
  p.values.Compact();
  p.rights.Compact();
}

// Standalone accounts (SCIM Accounts, Links with an owner): attach by owner name or id.
void BuildContext::AttachStandaloneAccounts() {
  Snapshot& s = snap;
  auto find_identity = [&](const std::string& name) -> Index {
    Id id = s.pool_.Find(name);
    auto it = id == kNoId ? s.identity_by_name_.end() : s.identity_by_name_.find(id);
    return it == s.identity_by_name_.end() ? kNoIndex : it->second;
  };
  absl::flat_hash_map<std::string, Index> owner_by_account_id;
  std::vector<bool> lists_account_ids(identity_accounts.size());  // SCIM Users naming their Accounts
  for (const IdentityObject& io : objects.identities) {
    Index owner = find_identity(io.name);
    for (const auto& id : io.account_ids) owner_by_account_id.emplace(id, owner);
    if (!io.account_ids.empty()) lists_account_ids[owner] = true;
  }
  absl::flat_hash_set<Index> identities_with_resources;
  for (AccountObject& each : objects.accounts) {
    const AccountObject a = std::move(each);  // released at the end of the iteration
    Index owner = kNoIndex;
    if (auto it = owner_by_account_id.find(a.id); !a.id.empty() && it != owner_by_account_id.end()) owner = it->second;
    if (owner == kNoIndex) owner = find_identity(a.identity);
    if (owner == kNoIndex)
      if (auto it = identity_by_id.find(a.identity); it != identity_by_id.end()) owner = it->second;
    if (owner == kNoIndex) {
      Diag(Severity::kError, ErrorCode::kInvalidValue,
           absl::StrCat("account of unknown identity '", a.identity, "' is skipped"), a.where,
           "Account[" + a.native_identity + "]");
      continue;
    }
    if (identities_with_resources.insert(owner).second && lists_account_ids[owner]) {
      // Accounts synthesized from the User's entitlements give way to real Account resources.
      identity_accounts[owner].clear();
    }
    AddAccount(a, owner);
  }
}

}  // namespace preflight
