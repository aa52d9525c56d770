#include "engine/model/snapshot.h"

#include <algorithm>
#include <type_traits>

#include "engine/model/hash_slots.h"

namespace preflight {
namespace {
Index Lookup(const absl::flat_hash_map<std::string_view, Index, StringHash, std::equal_to<>>& map,
             std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? kNoIndex : it->second;
}
}  // namespace

Index Snapshot::FindIdentity(std::string_view name) const { return FindIdentity(name, SlotHash(name)); }

Index Snapshot::FindIdentity(std::string_view name, uint32_t hash) const {
  const PopulationStore& p = population_;
  uint32_t i = hash_slots::Find(p.identity_slots.span(), p.identities.size(), hash,
                                [&](uint32_t i) {
                                  Id id = p.IdentityName(i);
                                  p.PrefetchLists(i);  // while the name is read from the pool
                                  return pool_.Get(id) == name;
                                });
  return i == hash_slots::kNotFound ? kNoIndex : i;
}
namespace {
// At most this many cache lines of one identity's attribute records, and of its values,
// are asked for ahead (an identity with more reads the rest as it goes).
constexpr size_t kRunLines = 16;
void PrefetchLines(const void* from, const void* to) {
  const char* a = reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(from) & ~uintptr_t{63});
  const char* b = std::min(static_cast<const char*>(to), a + kRunLines * 64);
  for (; a < b; a += 64) __builtin_prefetch(a);
}
}  // namespace

void Snapshot::PrefetchIdentity(uint32_t hash, int step, bool runs) const {
  const PopulationStore& p = population_;
  if (p.identity_slots.empty()) return;
  if (step == 0) return __builtin_prefetch(&p.identity_slots[hash & (p.identity_slots.size() - 1)]);
  if (p.checks.on()) return;  // an unverified record may point anywhere
  const uint32_t i = hash_slots::FirstCandidate(p.identity_slots.span(), p.identities.size(), hash);
  if (i == hash_slots::kNotFound) return;
  const bool next = runs && i + 1 < p.identities.size();
  if (step == 1) {
    __builtin_prefetch(&p.identities[i]);
    if (next) __builtin_prefetch(&p.identities[i + 1]);
    return;
  }
  const IdentityRecord& r = p.identities[i];
  // The load stores an identity's attributes and then each of its accounts' (and their
  // values) in one run, up to where the next identity's start; when the columns are
  // laid out otherwise (an account attached later, an image of another layout) the
  // bound is wrong and only some prefetches are wasted.
  uint32_t attr_end = r.attributes.begin + r.attributes.count;
  if (next && p.identities[i + 1].attributes.begin > attr_end) attr_end = p.identities[i + 1].attributes.begin;
  // The attributes column ends with a record marking where the last values end.
  const bool has_run = runs && attr_end < p.attributes.size() && r.attributes.begin < attr_end;
  if (step == 2) {
    pool_.PrefetchGet(r.name, false);
    if (has_run) PrefetchLines(&p.attributes[r.attributes.begin], &p.attributes[attr_end] + 1);
    return p.PrefetchLists(i);
  }
  pool_.PrefetchGet(r.name, true);
  for (Index a : p.account_lists.span(r.accounts)) __builtin_prefetch(&p.accounts[a]);
  if (has_run) {
    const uint32_t first = p.attributes[r.attributes.begin].first(), end = p.attributes[attr_end].first();
    if (first < end && end <= p.values.size()) PrefetchLines(p.values.data() + first, p.values.data() + end);
  }
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

Snapshot::ValueIndexes Snapshot::FindValueIndexes(Index app, Id attr, Id value) const {
  const Key key{app, attr, value};
  // Both indexes hash the key alike: hashed once.
  static_assert(std::is_same_v<decltype(roles_reading_)::hasher, decltype(constraints_by_value_)::hasher>);
  const size_t hash = roles_reading_.hash_function()(key);
  ValueIndexes found;
  if (auto it = roles_reading_.find(key, hash); it != roles_reading_.end()) {
    __builtin_prefetch(it->second.data());
    found.reading = &it->second;
  }
  if (auto it = constraints_by_value_.find(key, hash); it != constraints_by_value_.end()) {
    __builtin_prefetch(it->second.data());
    found.naming = &it->second;
  }
  return found;
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
    if (kResourceTypes[t] == type)
      return {population_.resource_text[t], population_.resource_starts[t], population_.resource_frame_starts[t],
              population_.resource_frame_offsets[t]};
  return {};
}

namespace {

// Estimates of what heap objects hold: their own size is counted by whoever holds
// them; these count what they point to (vectors, long strings, hash tables). From the
// sizes, not the capacities, so that a snapshot opened from an image, whose containers
// were sized exactly, reports what the load that wrote it reported.
template <class T>
  requires std::is_trivially_copyable_v<T>
size_t Heap(const T&) {
  return 0;
}
template <class T>
size_t Heap(const std::vector<T>& v) {
  return v.size() * sizeof(T);
}
size_t Heap(const std::string& s) { return s.size() > 15 ? s.size() + 1 : 0; }
// A hash table's slots (a value and a control byte each) at its largest load, 7/8.
template <class M>
size_t HeapOfTable(const M& m) {
  return m.size() * (sizeof(typename M::value_type) + 1) * 8 / 7;
}
size_t Heap(const Filter& f) {
  size_t n = Heap(f.values) + Heap(f.children) + Heap(f.unsupported_op);
  for (const Filter& c : f.children) n += Heap(c);
  return n;
}
size_t Heap(const MatchTerm& t) {
  size_t n = Heap(t.children) + Heap(t.application_name) + Heap(t.name_text) + Heap(t.value_text);
  for (const MatchTerm& c : t.children) n += Heap(c);
  return n;
}
size_t Heap(const Selector& sel) {
  size_t n = Heap(sel.terms) + Heap(sel.compound_filter) + Heap(sel.unsupported);
  for (const MatchTerm& t : sel.terms) n += Heap(t);
  for (const Filter& f : sel.compound_filter) n += Heap(f);
  for (const std::string& u : sel.unsupported) n += Heap(u);
  return n;
}
size_t Heap(const Role& r) {
  size_t n = Heap(r.id) + Heap(r.description) + Heap(r.display_name) + Heap(r.inheritance) + Heap(r.requirements) +
             Heap(r.permits) + Heap(r.profiles) + Heap(r.supers_closure) + Heap(r.subs_closure);
  for (const Profile& p : r.profiles) {
    n += Heap(p.constraints) + Heap(p.permissions);
    for (const Filter& f : p.constraints) n += Heap(f);
    for (const Permission& pm : p.permissions) n += Heap(pm.rights);
  }
  return n;
}
size_t Heap(const Policy& p) {
  size_t n = Heap(p.name) + Heap(p.id) + Heap(p.type) + Heap(p.executor) + Heap(p.constraints) + Heap(p.unsupported) +
             Heap(p.violation_rule);
  for (const Constraint& c : p.constraints) {
    n += Heap(c.name) + Heap(c.id) + (c.description ? Heap(*c.description) : 0) + Heap(c.left) + Heap(c.right) +
         Heap(c.selectors) + Heap(c.unsupported);
    for (const Selector& sel : c.selectors) n += Heap(sel);
  }
  return n;
}
template <class T>
size_t HeapOfAll(const std::vector<T>& v) {
  size_t n = Heap(v);
  for (const T& x : v) n += Heap(x);
  return n;
}
// A table whose values are vectors.
template <class M>
size_t HeapOfIndex(const M& m) {
  size_t n = HeapOfTable(m);
  for (const auto& [key, list] : m) n += Heap(key) + Heap(list);
  return n;
}
}  // namespace

void Snapshot::AddHeapParts(Stats& s) const {
  s.parts.emplace_back("roles", HeapOfAll(roles_));
  s.parts.emplace_back("policies", HeapOfAll(policies_));
  size_t apps = Heap(applications_);
  for (const Application& a : applications_) apps += Heap(a.id) + Heap(a.type) + HeapOfTable(a.schema);
  size_t populations = Heap(populations_);
  for (const Population& p : populations_) populations += Heap(p.name) + Heap(p.id) + Heap(p.filter);
  s.parts.emplace_back("applications", apps + populations + HeapOfTable(identity_attribute_defs_));
  size_t indexes = HeapOfIndex(roles_by_value_) + HeapOfIndex(roles_reading_) + HeapOfIndex(constraints_by_value_) +
                   HeapOfIndex(constraints_by_id_) + HeapOfIndex(constraints_by_name_) +
                   HeapOfAll(constraints_by_role_) + HeapOfAll(unsupported_constraints_) + HeapOfAll(children_) +
                   Heap(unnamed_role_sod_) + Heap(unindexed_roles_) + Heap(always_constraints_) +
                   Heap(active_by_name_) + policy_bytes_.load(std::memory_order_relaxed);
  for (const NameMap* m : {&role_lookup_, &app_lookup_, &policy_lookup_, &policy_id_lookup_}) indexes += HeapOfTable(*m);
  s.parts.emplace_back("indexes", indexes);
  size_t diagnostics = Heap(diagnostics_);
  for (const Diagnostic& d : diagnostics_)
    diagnostics += Heap(d.message) + Heap(d.object) + Heap(d.where.file) + Heap(d.where.pointer);
  s.parts.emplace_back("diagnostics", diagnostics);
  s.parts.emplace_back("queryDocuments", query_bytes_.load(std::memory_order_relaxed));
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
  const AccountRange all_accounts = accounts();
  for (const IdentityView i : identities()) {  // views: a lazily verified image's records are checked
    if (i.flags & IdentityView::kDetectionConsistent) ++s.consistent_detection;
    if (i.flags & IdentityView::kExpansionNoop) ++s.expansion_noop;
    for (Index a : i.accounts)
      for (AttrView v : all_accounts[a].attributes) s.entitlement_values += v.values.size();
  }
  pool_.ForEachColumn([&](std::string_view name, const auto& column) { s.parts.emplace_back(name, column.bytes()); });
  population_.ForEachColumn(
      [&](std::string_view name, const auto& column) { s.parts.emplace_back(name, column.bytes()); });
  AddHeapParts(s);
  size_t bytes = 0;
  for (const auto& part : s.parts) bytes += part.second;
  s.approx_bytes = bytes;
  return s;
}

}  // namespace preflight
