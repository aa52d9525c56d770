#pragma once
// The immutable, indexed snapshot: every name interned to an Id, objects in flat
// arrays addressed by 32-bit indices, the upward role closure precomputed, and
// indexes from roles and entitlement values to what mentions them. Built once by
// SnapshotBuilder, then shared read-only by any number of threads.

#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "engine/model/population.h"
#include "engine/model/string_pool.h"
#include "engine/util/error.h"

namespace preflight {

struct Application {
  Id name = kNoId;
  std::string id;
  std::string type;
  bool from_scim = false;
  bool case_insensitive = false;
  bool has_account_schema = false;
  Id identity_attribute = kNoId;
  // Account schema: attribute name -> multi-valued?
  absl::flat_hash_map<Id, bool> schema;
  bool IsMulti(Id attr) const {
    auto it = schema.find(attr);
    return it != schema.end() && it->second;
  }
};

// A sailpoint.object.Filter, resolved.
struct Filter {
  enum class Op { kEq, kNe, kLt, kGt, kLe, kGe, kIn, kContainsAll, kLike, kNotNull, kIsNull,
                  kIsEmpty, kAnd, kOr, kNot, kUnsupported };
  enum class MatchMode { kExact, kStart, kEnd, kAnywhere };
  Op op = Op::kUnsupported;
  Id property = kNoId;
  // CompoundFilter: the account application a "N:attr" / "App:attr" property
  // addresses; kNoIndex for an identity attribute.
  Index application = kNoIndex;
  bool compound_account = false;
  std::vector<Id> values;
  bool has_value = false;
  bool value_is_list = false;
  bool ignore_case = false;
  MatchMode match_mode = MatchMode::kExact;
  std::vector<Filter> children;
  std::string unsupported_op;  // the operation text when op == kUnsupported
};

struct Profile {
  Index application = kNoIndex;
  std::vector<Filter> constraints;
  std::vector<Permission> permissions;
};

struct Role {
  Id name = kNoId;
  std::string id;
  std::string description;
  bool from_scim = false;
  Id type = kNoId;
  std::string display_name;
  bool disabled = false;
  bool or_profiles = false;
  // Detection adds the role when it is enabled and has profiles every one of which
  // detection can evaluate (EntitlementCorrelator.addMatchIfAllowed), and when the walk
  // reaches it: `reached` when it or a role it inherits from is a root of the unguided
  // walk (detectable type, not noDetectionUnlessAssigned: the least specific
  // detectable roles); otherwise only from an assignment's roles (guided detection).
  bool detectable = false;
  bool reached = false;
  // Its RoleTypeDefinition (ObjectConfig Bundle, else IdentityIQ's defaults), for
  // SODPolicyExecutor.AssignedBundle.addOrigin: none for an untyped role or a type the
  // configuration does not define.
  bool has_type_definition = false;
  bool type_detectable = true;   // !noDetection
  bool type_assignable = false;  // !noAutoAssignment && !noManualAssignment
  // noDetectionUnlessAssigned: detected only when assigned, or required or permitted by
  // an assigned role (and reached by the guided walk from those).
  bool type_assigned_detectable = false;
  std::vector<Index> inheritance;  // direct supers
  std::vector<Index> requirements;
  std::vector<Index> permits;
  std::vector<Profile> profiles;
  // Derived at build time.
  std::vector<Index> supers_closure;  // every role this one inherits from, transitively, no self
  std::vector<Index> subs_closure;    // every role inheriting from this one, transitively, no self
  bool profiles_supported = true;     // every profile filter is one detection can evaluate
};

struct MatchTerm {
  enum class Type { kEntitlement, kPermission, kIdentityAttribute, kRoleAttribute,
                    kEntitlementAttribute, kTargetPermission };
  Type type = Type::kEntitlement;
  Index application = kNoIndex;  // the term's own ApplicationRef
  bool inherited_application = false;  // application came from the expression
  Id name = kNoId;
  Id value = kNoId;
  bool value_null = false;
  bool container = false;
  bool and_op = false;
  bool negative = false;
  bool check_effective = false;
  std::vector<MatchTerm> children;
  // Text for the response's `entitlements` objects.
  std::string application_name, name_text, value_text;
};

struct Selector {
  bool has_match_expression = false;
  bool match_and = false;
  std::vector<MatchTerm> terms;
  bool has_compound_filter = false;
  std::vector<Filter> compound_filter;  // AND of these roots
  // <PopulationRef>: IdentityIQ runs the population's filter as a query on the
  // identity's id, which is null in a check (Provisioner.impactAnalysis), so a
  // population with a filter never matches there. kNoIndex: not in the snapshot.
  bool has_population = false;
  Index population = kNoIndex;
  std::vector<std::string> unsupported;  // reasons this selector cannot be evaluated
};

// A GroupDefinition (population).
struct Population {
  std::string name;
  std::string id;
  bool has_filter = false;
  Filter filter;  // over identity attributes
};

struct Constraint {
  enum class Kind { kRoleSod, kGeneric, kUnsupported };
  Kind kind = Kind::kUnsupported;
  std::string name;  // constraintName in the response
  // Without a name: a role SoD violation is named from its own bundle lists
  // (SODPolicyExecutor.addViolation), a generic one has no constraintName.
  bool has_name = true;
  std::string id;
  bool disabled = false;
  std::optional<std::string> description;
  std::vector<Index> left;   // role SoD
  std::vector<Index> right;
  std::vector<Selector> selectors;  // generic: 1 (simple) or 2 (left, right)
  std::string unsupported;  // why it cannot be evaluated (kUnsupported or an unsupported selector)
};

struct Policy {
  // kAccount: AccountPolicyExecutor. kRisk, kActivity: evaluated, and never new in a
  // check (the score does not change; activity is queried on the check's null id).
  enum class Kind { kRoleSod, kEntitlementSod, kAdvanced, kAccount, kRisk, kActivity, kUnsupported };
  Kind kind = Kind::kUnsupported;
  std::string name;
  std::string id;
  std::string type;
  std::string executor;
  bool active = false;
  std::vector<Constraint> constraints;
  std::string unsupported;  // for kUnsupported: why
  // kAccount: the constraint its violations carry (the first GenericConstraint), or kNoIndex.
  Index account_constraint = kNoIndex;
  // A BeanShell violation rule (the policy's or a constraint's) that IdentityIQ runs on
  // each violation (AbstractPolicyExecutor.formatViolation); reported, not run.
  std::string violation_rule;
};

// Where a role or entitlement value is named by policies, so a check looks only at
// constraints its delta can touch.
struct SnapshotObjects;

struct ConstraintRef {
  Index policy;
  Index constraint;
  friend bool operator==(const ConstraintRef&, const ConstraintRef&) = default;
  friend bool operator<(const ConstraintRef& a, const ConstraintRef& b) {
    return a.policy != b.policy ? a.policy < b.policy : a.constraint < b.constraint;
  }
};

// Time spent per load stage, for `preflight snapshot stats`.
struct LoadTimings {
  size_t files = 0;
  size_t bytes = 0;
  double read_ms = 0, parse_ms = 0, build_ms = 0;
  // The build's passes in the order they ran (engine/load/build_context.h); their
  // times add up to about build_ms.
  struct Pass {
    std::string name;
    double ms = 0;
  };
  std::vector<Pass> passes;
};

// A snapshot opened from a compiled image (engine/image/image.h): the image's own facts.
struct ImageInfo {
  uint32_t format_version = 0;
  uint64_t file_bytes = 0;
  double open_ms = 0;
  double open_cpu_ms = 0;  // the open's CPU time, on every thread (open_ms also counts waiting for a core)
  std::string verify = "full";  // "full": verified whole at open; "lazy": on access and in the background
};

// The columns of an image opened with verify "lazy": verified on a background thread
// (engine/image/image.cc). A failure makes the snapshot fail closed: every later call of
// an Engine over it is that error (FailClosed below).
class ImageVerification {
 public:
  enum State { kVerifying, kVerified, kFailed };
  State state() const { return state_.load(std::memory_order_acquire); }
  std::string_view name() const {
    switch (state()) {
      case kVerifying: return "verifying";
      case kVerified: return "verified";
      case kFailed: break;
    }
    return "failed";
  }
  absl::Status failure() const { return state() == kFailed ? failure_ : absl::OkStatus(); }
  // Until the state is no longer kVerifying.
  void Wait() const { state_.wait(kVerifying, std::memory_order_acquire); }
  void Verified() { Finish(kVerified); }
  void Failed(absl::Status failure) {
    failure_ = std::move(failure);
    Finish(kFailed);
  }

 private:
  void Finish(State s) {
    state_.store(s, std::memory_order_release);
    state_.notify_all();
  }
  std::atomic<State> state_{kVerifying};
  absl::Status failure_;  // written once, before the state says kFailed
};

class Snapshot {
 public:
  const StringPool& pool() const { return pool_; }
  std::string_view str(Id id) const { return pool_.Get(id); }

  const std::vector<Application>& applications() const { return applications_; }
  const std::vector<Role>& roles() const { return roles_; }
  const std::vector<Policy>& policies() const { return policies_; }
  // Views of the stored identities and accounts, made on access (engine/model/population.h).
  IdentityRange identities() const { return {&population_, population_.identities.size()}; }
  AccountRange accounts() const { return {&population_, population_.accounts.size()}; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  const Column<EntitlementRecord>& entitlements() const { return population_.entitlements; }
  const std::vector<Population>& populations() const { return populations_; }
  // Some role type is noDetectionUnlessAssigned: detection depends on assignments.
  bool any_assigned_detectable() const { return any_assigned_detectable_; }
  // ObjectConfig Identity: the identity attributes a plan may set on the IIQ
  // application (IIQEvaluator.processIdentityAttribute), name -> multi-valued.
  bool has_identity_config() const { return has_identity_config_; }
  const absl::flat_hash_map<Id, bool>& identity_attribute_defs() const { return identity_attribute_defs_; }
  // The constraints (enabled; an Account policy's first GenericConstraint) a violation
  // may be constraint-equal to (PolicyViolation.isConstraintEqual: ids when both have
  // one, else names): by id, by name, and the unnamed role SoD ones, whose violations
  // are named from their bundle lists.
  const std::vector<ConstraintRef>* ConstraintsWithId(std::string_view id) const;
  const std::vector<ConstraintRef>* ConstraintsNamed(std::string_view name) const;
  const std::vector<ConstraintRef>& UnnamedRoleSodConstraints() const { return unnamed_role_sod_; }

  Index FindIdentity(std::string_view name) const;
  // The same with the name's SlotHash (engine/model/hash_slots.h) computed already.
  Index FindIdentity(std::string_view name, uint32_t hash) const;
  // The identity lookup's misses one after the other are the slot, the record, where the
  // name's text starts, and the text. A caller with other lookups to do asks for them in
  // steps 0-3 (each, once the step before is in cache, fetches the next), interleaved with
  // its own, then calls FindIdentity. Step 2 also asks for the identity's lists and step 3
  // for its account records (what a check reads next). With `runs`, step 2 asks for the
  // attribute records of the identity and its accounts (one run in load order, bounded
  // by the next identity's) and step 3 for their values: the check reads them next, and
  // otherwise each is a miss found only once the one before has arrived.
  void PrefetchIdentity(uint32_t hash, int step, bool runs = false) const;
  Index FindRole(std::string_view name) const;
  Index FindPolicy(std::string_view name_or_id) const;
  Index FindApplication(std::string_view name) const;
  bool any_active_policy() const { return any_active_policy_; }
  // Active policies ordered by name: what a check without a `policies` list evaluates.
  const std::vector<Index>& ActivePoliciesByName() const { return active_by_name_; }

  // Roles whose detection profiles mention (application, attribute, value).
  const std::vector<Index>* RolesMentioning(Index app, Id attr, Id value) const;
  // Roles whose profiles cannot be indexed by value (NE, ISNULL, LIKE...): always candidates.
  const std::vector<Index>& UnindexedDetectableRoles() const { return unindexed_roles_; }
  // Roles whose detection a change of the accounts can alter, keyed like the
  // check's account changes (see SnapshotBuilder::Build).
  const std::vector<Index>* RolesReading(Index app, Id attr, Id value) const;
  // What RolesReading and ConstraintsNamingValue answer for one key, found together.
  struct ValueIndexes {
    const std::vector<Index>* reading = nullptr;
    const std::vector<ConstraintRef>* naming = nullptr;
  };
  // Both, the key hashed once, and asks for the lists found (a check finds every
  // changed key at once, then detection and the constraint index read the lists).
  ValueIndexes FindValueIndexes(Index app, Id attr, Id value) const;
  // Roles with permission profiles (a permission change re-detects everything).
  bool any_permission_profiles() const { return any_permission_profiles_; }
  // Roles that directly inherit from the given role.
  const std::vector<Index>& Children(Index role) const { return children_[role]; }

  // The constraint index. A constraint's answer can change between the pre and post
  // states only if something it reads changed: a role on one of its sides (role SoD),
  // or an (application, attribute, value) one of its terms names (generic). `attr` or
  // `value` kNoId stands for "any change of that attribute / that application's
  // accounts". Constraints whose inputs cannot be indexed (CompoundFilters, permission
  // terms) are always evaluated.
  const std::vector<ConstraintRef>* ConstraintsNamingRole(Index role) const;
  const std::vector<ConstraintRef>* ConstraintsNamingValue(Index app, Id attr, Id value) const;
  const std::vector<ConstraintRef>& AlwaysEvaluatedConstraints() const { return always_constraints_; }
  // Unsupported, enabled constraints of a policy (reported on every check that selects it).
  const std::vector<Index>& UnsupportedConstraints(Index policy) const { return unsupported_constraints_[policy]; }

  // Summary for `preflight snapshot stats`.
  struct Stats {
    size_t identities = 0, accounts = 0, roles = 0, policies = 0, constraints = 0,
           applications = 0, entitlements = 0, role_assignments = 0, entitlement_values = 0,
           strings = 0, approx_bytes = 0,
           consistent_detection = 0, expansion_noop = 0;
    // The model's bytes by part, in a fixed order: every column (the bytes of its
    // elements), then estimates of the heap objects (roles, policies, applications,
    // indexes and lookups, diagnostics) and of the query documents once a query built
    // them. approx_bytes is their sum.
    std::vector<std::pair<std::string, size_t>> parts;
  };
  Stats stats() const;
  const LoadTimings& timings() const { return timings_; }

  // A hash of the source texts' content, in load order: 16 hex digits, the same in
  // every process (engine/load/source_hash.h). Sources given as objects do not count.
  std::string_view source_hash() const { return source_hash_; }
  // Set when the snapshot was opened from a compiled image.
  const std::optional<ImageInfo>& image() const { return image_; }
  // Set when that image's columns are verified in the background (verify "lazy").
  const ImageVerification* image_verification() const { return image_verification_.get(); }
  // The error this snapshot fails closed with: an image whose background verification
  // failed. OK otherwise.
  absl::Status ImageFailure() const {
    return image_verification_ ? image_verification_->failure() : absl::OkStatus();
  }

  // SCIM resources read from SCIM exports, by resource type ("Users", "Accounts", ...),
  // as JSON text. Objects read from XML have none (the query stage renders them).
  TextList Resources(std::string_view type) const;

  // The population side's columns and the string pool's, in a fixed order, as
  // f(std::string_view name, Column<T>& column): what an image writes and maps.
  const PopulationStore& population() const { return population_; }
  template <class F>
  void ForEachColumn(F f) {
    pool_.ForEachColumn(f);
    population_.ForEachColumn(f);
  }
  template <class F>
  void ForEachColumn(F f) const {
    pool_.ForEachColumn(f);
    population_.ForEachColumn(f);
  }

  // The query stage's documents of one resource type (`slot` < kQuerySlots), built on the
  // first query of that type (engine/query/snapshot_query.cc), so a query of Users does not
  // render every account. `bytes` estimates what the state holds, for stats().
  static constexpr size_t kQuerySlots = 8;
  template <typename T, typename Build>
  const T& LazyQueryState(size_t slot, Build build, size_t (*bytes)(const T&)) const {
    absl::call_once(query_once_[slot], [&] {
      try {
        T* state = build();
        query_state_[slot] = std::shared_ptr<void>(state, [](void* p) { delete static_cast<T*>(p); });
        query_bytes_.fetch_add(bytes(*state), std::memory_order_relaxed);
      } catch (const CorruptRecord&) {  // a lazily verified image's bad record: every query of it fails
        query_failed_[slot] = std::current_exception();
      }
    });
    if (query_failed_[slot]) std::rethrow_exception(query_failed_[slot]);
    return *static_cast<const T*>(query_state_[slot].get());
  }

  // The check's tables derived from the policies and roles, built on the first check, so
  // that a snapshot opened from an image gets them without the image holding them: slot 0
  // the constraint table (engine/policy/constraint_table.h), slot 1 the roles' facts
  // (engine/plan/role_facts.h). Counted in the "indexes" part of stats() once built.
  static constexpr size_t kPolicySlots = 2;
  template <typename T>
  const T& LazyPolicyState(T* (*build)(const Snapshot&), size_t (*bytes)(const T&), size_t slot = 0) const {
    absl::call_once(policy_once_[slot], [&] {
      T* state = build(*this);
      policy_state_[slot] = std::shared_ptr<void>(state, [](void* p) { delete static_cast<T*>(p); });
      policy_bytes_.fetch_add(bytes(*state), std::memory_order_relaxed);
    });
    return *static_cast<const T*>(policy_state_[slot].get());
  }

 private:
  friend class SnapshotBuilder;
  friend struct ImageAccess;  // engine/image: writes and reads every member
  friend class BuildContext;  // the load passes (engine/load)
  friend void PrecomputeIdentityFlags(Snapshot& snapshot);
  friend void ApplyRoleTypes(Snapshot& snapshot, const SnapshotObjects& objects);
  friend void IndexConstraintIdentity(Snapshot& snapshot, Index policy);
  StringPool pool_;
  std::vector<Application> applications_;
  std::vector<Role> roles_;
  std::vector<Policy> policies_;
  PopulationStore population_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<Population> populations_;
  bool any_assigned_detectable_ = false;
  bool has_identity_config_ = false;
  absl::flat_hash_map<Id, bool> identity_attribute_defs_;
  absl::flat_hash_map<std::string, std::vector<ConstraintRef>> constraints_by_id_, constraints_by_name_;
  std::vector<ConstraintRef> unnamed_role_sod_;
  LoadTimings timings_;
  bool any_active_policy_ = false;
  std::vector<Index> active_by_name_;

  // While building: by interned name. Once built, lookups go straight from the text
  // (keys are views into the pool), one hash probe instead of two; identities through
  // the population's slot table.
  absl::flat_hash_map<Id, Index> identity_by_name_, role_by_name_, app_by_name_, policy_by_name_,
      policy_by_id_;
  using NameMap = absl::flat_hash_map<std::string_view, Index, StringHash, std::equal_to<>>;
  NameMap role_lookup_, app_lookup_, policy_lookup_, policy_id_lookup_;
  struct Key {
    Index app;
    Id attr;
    Id value;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) { return H::combine(std::move(h), k.app, k.attr, k.value); }
  };
  absl::flat_hash_map<Key, std::vector<Index>> roles_by_value_;
  std::vector<Index> unindexed_roles_;
  absl::flat_hash_map<Key, std::vector<Index>> roles_reading_;
  bool any_permission_profiles_ = false;
  std::vector<std::vector<ConstraintRef>> constraints_by_role_;
  absl::flat_hash_map<Key, std::vector<ConstraintRef>> constraints_by_value_;
  std::vector<ConstraintRef> always_constraints_;
  std::vector<std::vector<Index>> unsupported_constraints_;
  std::vector<std::vector<Index>> children_;
  std::string source_hash_;
  mutable std::array<absl::once_flag, kQuerySlots> query_once_;
  mutable std::array<std::shared_ptr<void>, kQuerySlots> query_state_;
  mutable std::array<std::exception_ptr, kQuerySlots> query_failed_;
  mutable std::atomic<size_t> query_bytes_{0};
  mutable std::array<absl::once_flag, kPolicySlots> policy_once_;
  mutable std::array<std::shared_ptr<void>, kPolicySlots> policy_state_;
  mutable std::atomic<size_t> policy_bytes_{0};
  void AddHeapParts(Stats& s) const;
  std::optional<ImageInfo> image_;
  std::shared_ptr<const void> image_mapping_;  // the mapped image, kept while anything views it
  std::shared_ptr<ImageVerification> image_verification_;
};

// Runs f(), a call that reads `s`, failing closed on a corrupt image: the error of an
// image whose background verification failed (before or while f ran), or of a record
// f read that is corrupt (CorruptRecord). f returns absl::Status or absl::StatusOr.
template <class F>
auto FailClosed(const Snapshot& s, F f) -> decltype(f()) {
  if (absl::Status failed = s.ImageFailure(); !failed.ok()) return failed;
  try {
    auto result = f();
    if (absl::Status failed = s.ImageFailure(); !failed.ok()) return failed;
    return result;
  } catch (const CorruptRecord& e) {
    return e.status();
  }
}

}  // namespace preflight
