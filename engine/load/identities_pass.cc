// The pass "identities": identities and their accounts, read from the loaders' packed
// chunks (IdentityChunk), each chunk released once converted, so the model grows into
// the memory they leave.
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"
#include "engine/model/hash_slots.h"

namespace preflight {

// One chunk's strings as the snapshot's: each interned on its first use, so the pool
// interns the same strings in the same order as converting the objects one by one would
// (the order of ids is the order attributes and policies are sorted in). The pass's
// first uses go through the chunk's strings roughly in their order (the order they were
// packed in), so the pool's table slots of the strings a little ahead are fetched while
// this one is probed: each probe is otherwise a cache miss waited for alone.
class BuildContext::ChunkStrings {
 public:
  ChunkStrings(BuildContext& ctx, const IdentityChunk& chunk)
      : ctx_(ctx), chunk_(chunk), ids_(chunk.string_count(), kUnmapped) {}
  Id operator()(IdentityChunk::Str s) {
    Id& id = ids_[s];
    if (id == kUnmapped) {
      for (size_t ahead = std::min<size_t>(size_t{s} + kAhead, ids_.size()); prefetched_ < ahead; ++prefetched_)
        ctx_.snap.pool_.Prefetch(chunk_.hashes[prefetched_]);
      id = ctx_.snap.pool_.Intern(chunk_.Get(s), chunk_.hashes[s]);
    }
    return id;
  }
  // The role a string names (BuildContext::FindRole), or kNoIndex.
  Index Role(IdentityChunk::Str s) {
    if (roles_.empty()) roles_.assign(ids_.size(), kUnresolved);
    Index& role = roles_[s];
    if (role == kUnresolved) role = ctx_.FindRole(chunk_.Get(s));
    return role;
  }
  const IdentityChunk& chunk() const { return chunk_; }

 private:
  static constexpr Id kUnmapped = kNoId;  // kNoId is never an interned string's id
  static constexpr Index kUnresolved = kNoIndex - 1;  // never a role's index
  static constexpr size_t kAhead = 16;
  BuildContext& ctx_;
  const IdentityChunk& chunk_;
  std::vector<Id> ids_;
  std::vector<Index> roles_;
  size_t prefetched_ = 0;  // strings [0, prefetched_) have had their slots fetched
};

// Into the population's columns directly: the attributes' ids gathered in the chunk's
// order (the order they are interned in), then sorted by name as a list of runs.
Range BuildContext::StoreAttributes(ChunkStrings& strings, IdentityChunk::AttributeRun attrs, const Application* app) {
  const IdentityChunk& chunk = strings.chunk();
  std::vector<PendingAttribute>& pending = pending_attributes_;
  std::vector<Id>& ids = pending_values_;
  pending.clear();
  ids.clear();
  chunk.ForEachAttribute(attrs, [&](const IdentityChunk::Attribute& a, std::span<const IdentityChunk::Str> values) {
    if (values.empty() && !a.multi()) return;  // null
    PendingAttribute& v = pending.emplace_back();
    v.name = strings(a.name());
    v.multi = a.multi();
    v.begin = static_cast<uint32_t>(ids.size());
    v.size = a.size;
    for (IdentityChunk::Str value : values) ids.push_back(strings(value));
  });
  std::sort(pending.begin(), pending.end(),
            [](const PendingAttribute& x, const PendingAttribute& y) { return x.name < y.name; });
  std::vector<AttrRecord>& records = snap.population_.attributes.Build();
  std::vector<Id>& values = snap.population_.values.Build();
  Range r{static_cast<uint32_t>(records.size()), 0};
  for (size_t i = 0, next; i < pending.size(); i = next) {
    // Repeated names (repeated entries) merged into one multi-valued attribute; multi-valued
    // too where an account's application declares it so, where the source lost the list.
    bool multi = pending[i].multi;
    size_t count = pending[i].size;
    for (next = i + 1; next < pending.size() && pending[next].name == pending[i].name; ++next) {
      multi = true;
      count += pending[next].size;
    }
    if (app && app->IsMulti(pending[i].name)) multi = true;
    if (values.size() + count > AttrRecord::kFirst) {
      if (!values_full)
        Diag(Severity::kError, ErrorCode::kTooMany,
             "more attribute values than a snapshot holds (2^31); the rest are dropped", {}, "");
      values_full = true;
      break;
    }
    records.push_back({pending[i].name, static_cast<uint32_t>(values.size()) | (multi ? AttrRecord::kMulti : 0)});
    for (size_t k = i; k < next; ++k)
      values.insert(values.end(), ids.begin() + pending[k].begin, ids.begin() + pending[k].begin + pending[k].size);
    ++r.count;
  }
  return r;
}

Index BuildContext::AddAccount(ChunkStrings& strings, const IdentityChunk::Account& a, Index owner) {
  Snapshot& s = snap;
  const IdentityChunk& chunk = strings.chunk();
  AccountRecord acc;
  acc.id = strings(a.id);
  acc.from_scim = a.from_scim;
  // The application by name; App() adds (and reports) one the snapshot does not define.
  Id application = strings(a.application);
  if (auto it = s.app_by_name_.find(application); it != s.app_by_name_.end()) {
    acc.application = it->second;
  } else {
    acc.application = App(chunk.Get(a.application), chunk.Where(a),
                          absl::StrCat("Link[", ToAbsl(chunk.Get(a.native_identity)), "]"));
  }
  acc.instance = chunk.Get(a.instance).empty() ? kNoId : strings(a.instance);
  acc.native_identity = strings(a.native_identity);
  acc.display_name = chunk.Get(a.display_name).empty() ? kNoId : strings(a.display_name);
  acc.identity = owner;
  acc.attributes = StoreAttributes(strings, a.attributes, &s.applications_[acc.application]);
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
  attached_.push_back({owner, index});
  return index;
}

void BuildContext::AddIdentities(const IdentityChunk& chunk, AccountOwners& owners) {
  Snapshot& s = snap;
  PopulationStore& p = s.population_;
  std::vector<IdentityRecord>& identities = p.identities.Build();
  ChunkStrings strings(*this, chunk);
  for (const IdentityChunk::Identity& io : chunk.identities) {
    std::string_view name_text = chunk.Get(io.name);
    Id name = strings(io.name);
    auto [it, added] = s.identity_by_name_.try_emplace(name, static_cast<Index>(identities.size()));
    Index index = it->second;
    if (added) identity_accounts_.emplace_back();
    // SCIM Users naming their Accounts: the owner of each (the first definition of the name).
    for (IdentityChunk::Str account : chunk.List(io.account_ids)) {
      owners.Add(chunk.Get(account), chunk.hashes[account], index);
      identity_accounts_[index].lists_account_ids = true;
    }
    if (!added) {
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, "identity defined twice; the first definition is used",
           chunk.Where(io), absl::StrCat("Identity[", ToAbsl(name_text), "]"));
      continue;
    }
    IdentityRecord identity;
    identity.name = name;
    identity.id = strings(io.id);
    identity.display_name = strings(io.display_name);
    identity.from_scim = io.from_scim;
    identity.inactive = io.inactive;
    // Known roles, de-duplicated, in order; each unknown one reported.
    auto roles = [&](IdentityChunk::Run names) {
      std::vector<Index>& column = p.roles.Build();
      Range r{static_cast<uint32_t>(column.size()), 0};
      for (IdentityChunk::Str n : chunk.List(names)) {
        Index role = strings.Role(n);
        if (role == kNoIndex)
          Diag(Severity::kError, ErrorCode::kInvalidValue, absl::StrCat("unknown role '", ToAbsl(chunk.Get(n)), "'"),
               chunk.Where(io), absl::StrCat("Identity[", ToAbsl(name_text), "]"));
        else if (std::find(column.begin() + r.begin, column.end(), role) == column.end())
          column.push_back(role);
      }
      r.count = static_cast<uint32_t>(column.size()) - r.begin;
      return r;
    };
    identity.assigned_roles = roles(io.assigned_roles);
    identity.detected_roles = roles(io.detected_roles);
    identity.attributes = StoreAttributes(strings, io.attributes, nullptr);
    identities.push_back(identity);
    for (const IdentityChunk::Account& a : chunk.Accounts(io.accounts)) AddAccount(strings, a, index);
  }
}

void BuildContext::ResolveIdentities() {
  PackIdentities(objects);  // any added as objects, after the chunks
  // Room for every identity, account, attribute and value the chunks hold (a few null
  // attributes and repeated identities fewer in the end), so that the columns do not grow
  // by copying themselves: a column growing from N to 2N bytes holds 3N for a moment.
  size_t identity_count = 0, account_count = 0, attribute_count = 0, value_count = 0, string_count = 0;
  size_t account_id_count = 0;
  uint64_t text_bytes = 0;
  for (const IdentityChunk& chunk : objects.identity_chunks) {
    string_count += chunk.string_count();
    text_bytes += chunk.text.size();
    identity_count += chunk.identities.size();
    for (const IdentityChunk::Identity& io : chunk.identities) account_id_count += io.account_ids.size;
    account_count += chunk.accounts.size();
    attribute_count += chunk.attributes.size();
    for (const IdentityChunk::Attribute& a : chunk.attributes) value_count += a.size;
  }
  PopulationStore& p = snap.population_;
  p.identities.Build().reserve(p.identities.Build().size() + identity_count);
  p.accounts.Build().reserve(p.accounts.Build().size() + account_count);
  p.attributes.Build().reserve(p.attributes.Build().size() + attribute_count + 1);  // and the end marker
  p.values.Build().reserve(p.values.Build().size() + value_count);
  identity_accounts_.reserve(identity_accounts_.size() + identity_count);
  attached_.reserve(attached_.size() + account_count);
  snap.pool_.Reserve(text_bytes, string_count);  // the chunks' strings, fewer once the same across chunks
  AccountOwners owners(account_id_count);
  for (IdentityChunk& chunk : objects.identity_chunks) {
    AddIdentities(chunk, owners);
    if (chunk.standalone.size == 0) chunk = IdentityChunk();
  }
  AttachStandaloneAccounts(owners);
  std::vector<IdentityChunk>().swap(objects.identity_chunks);
  StoreIdentityAccounts();
  // The end of the last attribute's values (AttrRecord).
  p.attributes.Build().push_back({kNoId, static_cast<uint32_t>(p.values.Build().size())});
  p.identities.Compact();
  p.accounts.Compact();
  p.roles.Compact();
  p.account_lists.Compact();
  p.attributes.Compact();
  p.permissions.Compact();
  p.values.Compact();
  p.rights.Compact();
}

// Each identity's accounts in the order they were attached, those given up left out: the
// pairs counted by owner, then placed (a counting sort, which keeps their order).
void BuildContext::StoreIdentityAccounts() {
  PopulationStore& p = snap.population_;
  std::vector<IdentityRecord>& identities = p.identities.Build();
  std::vector<Index>& lists = p.account_lists.Build();
  auto kept = [&](size_t k) { return k >= identity_accounts_[attached_[k].owner].dropped_before; };
  for (size_t k = 0; k < attached_.size(); ++k)
    if (kept(k)) identities[attached_[k].owner].accounts.count++;
  size_t at = lists.size();
  for (IdentityRecord& identity : identities) {
    identity.accounts.begin = static_cast<uint32_t>(at);
    at += identity.accounts.count;
  }
  lists.resize(at);
  std::vector<uint32_t> next(identities.size());
  for (size_t i = 0; i < identities.size(); ++i) next[i] = identities[i].accounts.begin;
  for (size_t k = 0; k < attached_.size(); ++k)
    if (kept(k)) lists[next[attached_[k].owner]++] = attached_[k].account;
  std::vector<AttachedAccount>().swap(attached_);
  std::vector<IdentityAccounts>().swap(identity_accounts_);
}

BuildContext::AccountOwners::AccountOwners(size_t ids) : slots_(hash_slots::CapacityFor(ids), 0), capacity_(ids) {
  ends_.reserve(ids);
  owners_.reserve(ids);
}

void BuildContext::AccountOwners::Add(std::string_view id, uint32_t hash, Index owner) {
  // A later duplicate is placed after the first in its probe sequence: Find sees the first.
  const auto position = static_cast<uint32_t>(ends_.size());
  text_.append(id);
  ends_.push_back(static_cast<uint32_t>(text_.size()));
  owners_.push_back(owner);
  hash_slots::Insert(slots_, capacity_, hash, position);
}

Index BuildContext::AccountOwners::Find(std::string_view id, uint32_t hash) const {
  const uint32_t i = hash_slots::Find(slots_, capacity_, hash, [&](uint32_t position) {
    const uint32_t begin = position ? ends_[position - 1] : 0;
    return std::string_view(text_).substr(begin, ends_[position] - begin) == id;
  });
  return i == hash_slots::kNotFound ? kNoIndex : owners_[i];
}

// Standalone accounts (SCIM Accounts, Links with an owner), in order: attached by the
// owner's name or id.
void BuildContext::AttachStandaloneAccounts(const AccountOwners& owners) {
  Snapshot& s = snap;
  // Identities by id (the first of each), for owners named by id.
  absl::flat_hash_map<Id, Index> identity_by_id;
  bool any_standalone = false;
  for (const IdentityChunk& chunk : objects.identity_chunks) any_standalone |= chunk.standalone.size > 0;
  const std::vector<IdentityRecord>& identities = s.population_.identities.Build();
  if (any_standalone)
    for (Index i = 0; i < identities.size(); ++i)
      if (!s.pool_.Get(identities[i].id).empty()) identity_by_id.emplace(identities[i].id, i);
  for (IdentityChunk& chunk : objects.identity_chunks) {
    ChunkStrings strings(*this, chunk);
    std::span<const IdentityChunk::Account> accounts = chunk.Accounts(chunk.standalone);
    constexpr size_t kAhead = 8;  // the owners' slots of the accounts a little ahead, fetched meanwhile
    for (size_t k = 0; k < std::min(kAhead, accounts.size()); ++k) owners.Prefetch(chunk.hashes[accounts[k].id]);
    for (size_t k = 0; k < accounts.size(); ++k) {
      const IdentityChunk::Account& a = accounts[k];
      if (k + kAhead < accounts.size()) owners.Prefetch(chunk.hashes[accounts[k + kAhead].id]);
      std::string_view id = chunk.Get(a.id), identity = chunk.Get(a.identity);
      Index owner = id.empty() ? kNoIndex : owners.Find(id, chunk.hashes[a.id]);
      if (owner == kNoIndex) {  // by the owner's name, then by its id
        Id named = s.pool_.Find(identity, chunk.hashes[a.identity]);
        if (auto it = s.identity_by_name_.find(named); named != kNoId && it != s.identity_by_name_.end())
          owner = it->second;
        else if (auto by_id = identity_by_id.find(named); by_id != identity_by_id.end())
          owner = by_id->second;
      }
      if (owner == kNoIndex) {
        Diag(Severity::kError, ErrorCode::kInvalidValue,
             absl::StrCat("account of unknown identity '", ToAbsl(identity), "' is skipped"), chunk.Where(a),
             absl::StrCat("Account[", ToAbsl(chunk.Get(a.native_identity)), "]"));
        continue;
      }
      if (IdentityAccounts& held = identity_accounts_[owner]; !held.has_resources) {
        held.has_resources = true;
        // Accounts synthesized from the User's entitlements give way to real Account resources.
        if (held.lists_account_ids) held.dropped_before = static_cast<uint32_t>(attached_.size());
      }
      AddAccount(strings, a, owner);
    }
    chunk = IdentityChunk();
  }
}

}  // namespace preflight
