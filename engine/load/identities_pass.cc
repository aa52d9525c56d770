// The pass "identities": identities and their accounts, read from the loaders' packed
// chunks (IdentityChunk), each chunk released once converted, so the model grows into
// the memory they leave.
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"

namespace preflight {

// One chunk's strings as the snapshot's: each interned on its first use, so the pool
// interns the same strings in the same order as converting the objects one by one would
// (the order of ids is the order attributes and policies are sorted in).
class BuildContext::ChunkStrings {
 public:
  ChunkStrings(BuildContext& ctx, const IdentityChunk& chunk)
      : ctx_(ctx), chunk_(chunk), ids_(chunk.string_count(), kUnmapped) {}
  Id operator()(IdentityChunk::Str s) {
    Id& id = ids_[s];
    if (id == kUnmapped) id = ctx_.Intern(chunk_.Get(s));
    return id;
  }
  const IdentityChunk& chunk() const { return chunk_; }

 private:
  static constexpr Id kUnmapped = kNoId;  // kNoId is never an interned string's id
  BuildContext& ctx_;
  const IdentityChunk& chunk_;
  std::vector<Id> ids_;
};

std::vector<AttrValues> BuildContext::Attrs(ChunkStrings& strings, IdentityChunk::Run attrs) {
  const IdentityChunk& chunk = strings.chunk();
  std::vector<AttrValues> out;
  out.reserve(attrs.size);
  for (const IdentityChunk::Attribute& a : chunk.Attributes(attrs)) {
    if (a.values.size == 0 && !a.multi) continue;  // null
    AttrValues& v = out.emplace_back();
    v.name = strings(a.name);
    v.multi = a.multi;
    v.values.reserve(a.values.size);
    for (IdentityChunk::Str value : chunk.List(a.values)) v.values.push_back(strings(value));
  }
  std::sort(out.begin(), out.end(), [](const AttrValues& x, const AttrValues& y) { return x.name < y.name; });
  // Merge duplicate keys (repeated entries) into one multi-valued attribute.
  std::vector<AttrValues> merged;
  for (auto& v : out) {
    if (!merged.empty() && merged.back().name == v.name) {
      merged.back().multi = true;
      merged.back().values.insert(merged.back().values.end(), v.values.begin(), v.values.end());
    } else {
      merged.push_back(std::move(v));
    }
  }
  return merged;
}

Index BuildContext::AddAccount(ChunkStrings& strings, const IdentityChunk::Account& a, Index owner) {
  Snapshot& s = snap;
  const IdentityChunk& chunk = strings.chunk();
  std::string_view native_identity = chunk.Get(a.native_identity), id = chunk.Get(a.id);
  AccountRecord acc;
  acc.id = strings(a.id);
  acc.from_scim = a.from_scim;
  acc.application =
      App(chunk.Get(a.application), chunk.Where(a.where), absl::StrCat("Link[", ToAbsl(native_identity), "]"));
  acc.instance = chunk.Get(a.instance).empty() ? kNoId : strings(a.instance);
  acc.native_identity = strings(a.native_identity);
  acc.display_name = chunk.Get(a.display_name).empty() ? kNoId : strings(a.display_name);
  acc.identity = owner;
  std::vector<AttrValues> attributes = Attrs(strings, a.attributes);
  // Multi-valued per the application's schema, where the source lost the list.
  const Application& app = s.applications_[acc.application];
  for (AttrValues& v : attributes)
    if (app.IsMulti(v.name)) v.multi = true;
  acc.attributes = Store(attributes);
  std::vector<Permission> permissions;
  for (const IdentityChunk::Permission& p : chunk.Permissions(a.permissions)) {
    Permission& pm = permissions.emplace_back();
    pm.target = strings(p.target);
    for (IdentityChunk::Str right : chunk.List(p.rights)) pm.rights.push_back(strings(right));
  }
  acc.permissions = Store(permissions);
  acc.disabled = a.disabled;
  acc.locked = a.locked;
  std::vector<AccountRecord>& accounts = s.population_.accounts.Build();
  Index index = static_cast<Index>(accounts.size());
  accounts.push_back(acc);
  identity_accounts[owner].push_back(index);
  if (!id.empty()) account_by_id.emplace(std::string(id), index);
  return index;
}

void BuildContext::AddIdentities(const IdentityChunk& chunk) {
  Snapshot& s = snap;
  PopulationStore& p = s.population_;
  std::vector<IdentityRecord>& identities = p.identities.Build();
  ChunkStrings strings(*this, chunk);
  for (const IdentityChunk::Identity& io : chunk.identities) {
    std::string_view name_text = chunk.Get(io.name);
    Id name = strings(io.name);
    auto [it, added] = s.identity_by_name_.try_emplace(name, static_cast<Index>(identities.size()));
    Index index = it->second;
    // SCIM Users naming their Accounts: the owner of each (the first definition of the name).
    for (IdentityChunk::Str account : chunk.List(io.account_ids)) {
      owner_by_account_id.emplace(std::string(chunk.Get(account)), index);
      lists_account_ids.insert(index);
    }
    if (!added) {
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, "identity defined twice; the first definition is used",
           chunk.Where(io.where), absl::StrCat("Identity[", ToAbsl(name_text), "]"));
      continue;
    }
    std::string_view id = chunk.Get(io.id);
    if (!id.empty()) identity_by_id.emplace(std::string(id), index);
    IdentityRecord identity;
    identity.name = name;
    identity.id = strings(io.id);
    identity.display_name = strings(io.display_name);
    identity.from_scim = io.from_scim;
    identity.inactive = io.inactive;
    if (io.assigned_roles.size + io.detected_roles.size > 0) {
      Location where = chunk.Where(io.where);
      std::string object = absl::StrCat("Identity[", ToAbsl(name_text), "]");
      auto roles = [&](IdentityChunk::Run names) {
        std::vector<std::string_view> texts;
        for (IdentityChunk::Str n : chunk.List(names)) texts.push_back(chunk.Get(n));
        return Store(Roles(texts, where, object), p.roles);
      };
      identity.assigned_roles = roles(io.assigned_roles);
      identity.detected_roles = roles(io.detected_roles);
    } else {
      identity.assigned_roles = identity.detected_roles = Range{static_cast<uint32_t>(p.roles.Build().size()), 0};
    }
    identity.attributes = Store(Attrs(strings, io.attributes));
    identities.push_back(identity);
    identity_accounts.emplace_back();
    for (const IdentityChunk::Account& a : chunk.Accounts(io.accounts)) AddAccount(strings, a, index);
  }
}

void BuildContext::ResolveIdentities() {
  PackIdentities(objects);  // any added as objects, after the chunks
  // Room for every identity, account, attribute and value the chunks hold (a few null
  // attributes and repeated identities fewer in the end), so that the columns do not grow
  // by copying themselves: a column growing from N to 2N bytes holds 3N for a moment.
  size_t identity_count = 0, account_count = 0, attribute_count = 0, value_count = 0;
  for (const IdentityChunk& chunk : objects.identity_chunks) {
    identity_count += chunk.identities.size();
    account_count += chunk.accounts.size();
    attribute_count += chunk.attributes.size();
    for (const IdentityChunk::Attribute& a : chunk.attributes) value_count += a.values.size;
  }
  PopulationStore& p = snap.population_;
  p.identities.Build().reserve(p.identities.Build().size() + identity_count);
  p.accounts.Build().reserve(p.accounts.Build().size() + account_count);
  p.attributes.Build().reserve(p.attributes.Build().size() + attribute_count + 1);  // and the end marker
  p.values.Build().reserve(p.values.Build().size() + value_count);
  identity_accounts.reserve(identity_accounts.size() + identity_count);
  for (IdentityChunk& chunk : objects.identity_chunks) {
    AddIdentities(chunk);
    if (chunk.standalone.size == 0) chunk = IdentityChunk();
  }
  AttachStandaloneAccounts();
  std::vector<IdentityChunk>().swap(objects.identity_chunks);
  std::vector<IdentityRecord>& identities = p.identities.Build();
  for (size_t i = 0; i < identities.size(); ++i) identities[i].accounts = Store(identity_accounts[i], p.account_lists);
  // The end of the last attribute's values (AttrRecord).
  p.attributes.Build().push_back({kNoId, static_cast<uint32_t>(p.values.Build().size())});
  std::vector<std::vector<Index>>().swap(identity_accounts);
  absl::flat_hash_map<std::string, Index>().swap(owner_by_account_id);
  p.identities.Compact();
  p.accounts.Compact();
  p.roles.Compact();
  p.account_lists.Compact();
  p.attributes.Compact();
  p.permissions.Compact();
  p.values.Compact();
  p.rights.Compact();
}

// Standalone accounts (SCIM Accounts, Links with an owner), in order: attached by the
// owner's name or id.
void BuildContext::AttachStandaloneAccounts() {
  Snapshot& s = snap;
  auto find_identity = [&](std::string_view name) -> Index {
    Id id = s.pool_.Find(name);
    auto it = id == kNoId ? s.identity_by_name_.end() : s.identity_by_name_.find(id);
    return it == s.identity_by_name_.end() ? kNoIndex : it->second;
  };
  absl::flat_hash_set<Index> identities_with_resources;
  for (IdentityChunk& chunk : objects.identity_chunks) {
    ChunkStrings strings(*this, chunk);
    for (const IdentityChunk::Account& a : chunk.Accounts(chunk.standalone)) {
      std::string_view id = chunk.Get(a.id), identity = chunk.Get(a.identity);
      Index owner = kNoIndex;
      if (auto it = owner_by_account_id.find(ToAbsl(id)); !id.empty() && it != owner_by_account_id.end()) owner = it->second;
      if (owner == kNoIndex) owner = find_identity(identity);
      if (owner == kNoIndex)
        if (auto it = identity_by_id.find(ToAbsl(identity)); it != identity_by_id.end()) owner = it->second;
      if (owner == kNoIndex) {
        Diag(Severity::kError, ErrorCode::kInvalidValue,
             absl::StrCat("account of unknown identity '", ToAbsl(identity), "' is skipped"), chunk.Where(a.where),
             absl::StrCat("Account[", ToAbsl(chunk.Get(a.native_identity)), "]"));
        continue;
      }
      if (identities_with_resources.insert(owner).second && lists_account_ids.contains(owner)) {
        // Accounts synthesized from the User's entitlements give way to real Account resources.
        identity_accounts[owner].clear();
      }
      AddAccount(strings, a, owner);
    }
    chunk = IdentityChunk();
  }
}

}  // namespace preflight
