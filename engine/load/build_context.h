#pragma once
// The state of one snapshot build, and the passes that make a Snapshot out of the
// loaders' SnapshotObjects. Each pass is a named step that reads what the passes
// before it built (docs/architecture.md, "load"); SnapshotBuilder::Build runs them in
// order and times each one.

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/load/snapshot_builder.h"
#include "engine/model/objects.h"
#include "engine/model/snapshot.h"

namespace preflight {

class BuildContext {
 public:
  BuildContext(Snapshot& s, SnapshotObjects& o) : snap(s), objects(o) {}

  Snapshot& snap;
  SnapshotObjects& objects;
  // References by id or display name, while resolving.
  absl::flat_hash_map<std::string, Index> role_by_id, role_by_display;
  // Account ids SCIM Users name, with their owners (AccountOwners), while standalone
  // accounts are still being attached.
  class AccountOwners {
   public:
    // Room for `ids` ids: no more are added.
    explicit AccountOwners(size_t ids);
    // `id` named by `owner`; `hash` its SlotHash. The first to name an id owns it.
    void Add(std::string_view id, uint32_t hash, Index owner);
    // The owner of `id`, or kNoIndex.
    Index Find(std::string_view id, uint32_t hash) const;
    // A hint: a Find of this hash comes soon.
    void Prefetch(uint32_t hash) const {
      if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
    }

   private:
    // The ids end to end, id i being text_[i ? ends_[i - 1] : 0, ends_[i]), and a table of
    // their positions by hash (engine/model/hash_slots.h): no string per id.
    std::string text_;
    std::vector<uint32_t> ends_;
    std::vector<Index> owners_;
    std::vector<uint32_t> slots_;
    size_t capacity_;
  };
  bool values_full = false;  // Store(attributes) reached AttrRecord's limit

  // The passes, in the order SnapshotBuilder::Build runs them (LoadPasses()).
  void ResolveApplications();   // applications (names, account schemas)
  void ResolveRoles();          // roles: names first, then bodies and profiles
  void IndexRoles();            // upward role closure and the detection indexes
  void ResolveIdentities();     // identities and accounts, accounts attached to owners
  void ResolvePopulations();    // GroupDefinitions and ObjectConfig Identity (engine/load/populations_pass.cc)
  void ResolvePolicies();       // policies, constraints and their selectors
  void IndexConstraints();      // the constraint index and the active policies by name
  void ResolveEntitlements();   // managed attributes (SCIM Entitlements)
  void BuildQueryDocuments();   // SCIM resources parsed into query documents
  void BuildLookups();          // text-keyed lookups; releases the source objects
  void ComputeIdentityFlags();  // expansion no-op and detection consistency per identity

  // Helpers the passes share.
  Id Intern(std::string_view s) { return snap.pool_.Intern(s); }
  void Diag(Severity sev, ErrorCode code, std::string message, const Location& where, std::string object) {
    snap.diagnostics_.push_back({sev, code, std::move(message), where, std::move(object)});
  }
  // An application by name; one the snapshot does not define is added, with a warning.
  Index App(std::string_view name, const Location& where, const std::string& object);
  // A role by name, id or display name; kNoIndex (and an error) when unknown.
  Index Role(std::string_view name, const Location& where, const std::string& object);
  // The same without the error.
  Index FindRole(std::string_view name);
  // Known roles, de-duplicated, in order (`names`: a list of strings or string views).
  template <class Names>
  std::vector<Index> Roles(const Names& names, const Location& where, const std::string& object) {
    std::vector<Index> out;
    for (const auto& n : names) {
      Index r = Role(n, where, object);
      if (r != kNoIndex && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
    return out;
  }
  Permission ConvertPermission(const PermissionObject& p);
  // Appended to the population's columns: where they went.
  Range Store(const std::vector<Permission>& permissions);
  Range Store(std::span<const Index> list, Column<Index>& column);
  // A Filter; `compound_apps` (the selector's applications) for CompoundFilters, whose
  // "N:attr" and "App:attr" properties address account attributes.
  Filter ConvertFilter(const FilterObject& f, const std::vector<Index>* compound_apps, const Location& where,
                       const std::string& object);
  static bool FilterSupported(const Filter& f);
  static std::string UnsupportedOps(const Filter& f);

 private:
  class ChunkStrings;  // engine/load/identities_pass.cc
  // Attributes appended to the population's columns: sorted by name, nulls dropped,
  // repeated names merged into one list; `app`, an account's application, makes multi-valued
  // the attributes its schema says are.
  Range StoreAttributes(ChunkStrings& strings, IdentityChunk::AttributeRun attrs, const Application* app);
  struct PendingAttribute {  // an attribute's name and its values' run of pending_values_
    Id name;
    bool multi;
    uint32_t begin, size;
  };
  std::vector<PendingAttribute> pending_attributes_;  // reused from one list to the next
  std::vector<Id> pending_values_;
  void AddIdentities(const IdentityChunk& chunk, AccountOwners& owners);
  Index AddAccount(ChunkStrings& strings, const IdentityChunk::Account& a, Index owner);
  void AttachStandaloneAccounts(const AccountOwners& owners);
  // Each identity's accounts, in the order they were attached: (owner, account) pairs,
  // grouped by owner once every account is attached (StoreIdentityAccounts).
  struct AttachedAccount {
    Index owner, account;
  };
  std::vector<AttachedAccount> attached_;
  // Per identity: its pairs before attached_[dropped_before] were given up (a SCIM User's
  // accounts made from its entitlements, once an Account resource names it).
  struct IdentityAccounts {
    uint32_t dropped_before = 0;
    bool lists_account_ids = false;  // a SCIM User naming its Accounts
    bool has_resources = false;      // an Account resource attached
  };
  std::vector<IdentityAccounts> identity_accounts_;
  void StoreIdentityAccounts();
  void ConvertRole(const RoleObject& r, Index i);
  void IndexRoleValues(Index i);
  void IndexRoleReads(Index i);
  Policy ConvertPolicy(const PolicyObject& po);
  Constraint ConvertConstraint(const ConstraintObject& co, const std::string& object);
  Selector ConvertSelector(const SelectorObject& so, const ConstraintObject& co, const std::string& object);
  MatchTerm ConvertTerm(const MatchTermObject& t, const SelectorObject& so, const ConstraintObject& co,
                        const std::string& object, Selector& sel);
  void IndexConstraint(ConstraintRef ref, const Constraint& c);
};

// One named pass of the build.
struct LoadPass {
  std::string_view name;  // as reported in LoadTimings::passes
  void (BuildContext::*run)();
};

// Every pass, in order.
std::span<const LoadPass> LoadPasses();

}  // namespace preflight
