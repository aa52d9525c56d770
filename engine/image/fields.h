#pragma once
// The field list of every model struct an image holds: one function per struct, used by
// the writer and the reader alike (engine/image/archive.h), so a field added to the model
// is one line here. References name their table (Ref: must point at a row; Opt: may be
// none); the reader checks them against the header's counts.

#include <string>
#include <vector>

#include "engine/image/archive.h"
#include "engine/model/snapshot.h"

namespace preflight {

// The Snapshot's private members, for the image (a friend of Snapshot).
struct ImageAccess {
  using Key = Snapshot::Key;
  using NameMap = Snapshot::NameMap;
  template <class Ar>
  static void Fields(Ar& ar, Snapshot& s);
  // The mapped columns' contents, against the header's counts (engine/image/image.cc).
  template <class Check>
  static void CheckColumns(const Snapshot& s, Check& check);
  // An opened image: its facts, and what keeps the mapped bytes alive.
  static void Attach(Snapshot& s, std::shared_ptr<const void> mapping, const ImageInfo& info) {
    s.image_mapping_ = std::move(mapping);
    s.image_ = info;
  }
  // The on-access checks of an image whose columns are not verified yet: on until
  // `verification` ends well (engine/model/record_check.h).
  static void CheckOnAccess(Snapshot& s, std::shared_ptr<ImageVerification> verification) {
    s.population_.role_rows = s.roles_.size();
    s.population_.application_rows = s.applications_.size();
    s.image_verification_ = std::move(verification);
    SetChecks(s, true);
  }
  static void SetChecks(const Snapshot& s, bool on) {
    s.population_.checks.Set(on);
    s.pool_.checks().Set(on);
  }
};

namespace image {

template <>
inline constexpr Filter::Op kEnumLast<Filter::Op> = Filter::Op::kUnsupported;
template <>
inline constexpr Filter::MatchMode kEnumLast<Filter::MatchMode> = Filter::MatchMode::kAnywhere;
template <>
inline constexpr MatchTerm::Type kEnumLast<MatchTerm::Type> = MatchTerm::Type::kTargetPermission;
template <>
inline constexpr Constraint::Kind kEnumLast<Constraint::Kind> = Constraint::Kind::kUnsupported;
template <>
inline constexpr Policy::Kind kEnumLast<Policy::Kind> = Policy::Kind::kUnsupported;
template <>
inline constexpr Severity kEnumLast<Severity> = Severity::kUnsupported;
template <>
inline constexpr ErrorCode kEnumLast<ErrorCode> = ErrorCode::kNoSuchResource;

template <class Ar>
void Fields(Ar& ar, Permission& p) {
  ar(Ref(p.target, Table::kStrings), Refs(p.rights, Table::kStrings));
}

template <class Ar>
void Fields(Ar& ar, Application& a) {
  ar(Ref(a.name, Table::kStrings), a.id, a.type, a.from_scim, a.case_insensitive, a.has_account_schema,
     Opt(a.identity_attribute, Table::kStrings), RefKeys(a.schema, Table::kStrings));
}

template <class Ar>
void Fields(Ar& ar, Filter& f) {
  Nesting<Ar> nested(ar);
  ar(f.op, Opt(f.property, Table::kStrings), Opt(f.application, Table::kApplications), f.compound_account,
     Refs(f.values, Table::kStrings), f.has_value, f.value_is_list, f.ignore_case, f.match_mode, f.children,
     f.unsupported_op);
}

template <class Ar>
void Fields(Ar& ar, Profile& p) {
  ar(Opt(p.application, Table::kApplications), p.constraints, p.permissions);
}

template <class Ar>
void Fields(Ar& ar, Role& r) {
  ar(Ref(r.name, Table::kStrings), r.id, r.description, r.from_scim, Ref(r.type, Table::kStrings), r.display_name,
     r.disabled, r.or_profiles, r.detectable, r.reached, r.has_type_definition, r.type_detectable,
     r.type_assignable, r.type_assigned_detectable, Refs(r.inheritance, Table::kRoles),
     Refs(r.requirements, Table::kRoles), Refs(r.permits, Table::kRoles), r.profiles,
     Refs(r.supers_closure, Table::kRoles), Refs(r.subs_closure, Table::kRoles), r.profiles_supported);
}

template <class Ar>
void Fields(Ar& ar, MatchTerm& t) {
  Nesting<Ar> nested(ar);
  ar(t.type, Opt(t.application, Table::kApplications), t.inherited_application, Opt(t.name, Table::kStrings),
     Opt(t.value, Table::kStrings), t.value_null, t.container, t.and_op, t.negative, t.check_effective, t.children,
     t.application_name, t.name_text, t.value_text);
}

template <class Ar>
void Fields(Ar& ar, Selector& s) {
  ar(s.has_match_expression, s.match_and, s.terms, s.has_compound_filter, s.compound_filter, s.has_population,
     Opt(s.population, Table::kPopulations), s.unsupported);
}

template <class Ar>
void Fields(Ar& ar, Population& p) {
  ar(p.name, p.id, p.has_filter, p.filter);
}

template <class Ar>
void Fields(Ar& ar, Constraint& c) {
  ar(c.kind, c.name, c.has_name, c.id, c.disabled, c.description, Refs(c.left, Table::kRoles),
     Refs(c.right, Table::kRoles), c.selectors, c.unsupported);
}

template <class Ar>
void Fields(Ar& ar, Policy& p) {
  ar(p.kind, p.name, p.id, p.type, p.executor, p.active, p.constraints, p.unsupported, p.account_constraint,
     p.violation_rule);
  if constexpr (Ar::kReading)
    if (p.account_constraint != kNoIndex && p.account_constraint >= p.constraints.size())
      ar.Fail("a policy's account constraint outside its constraints");
}

template <class Ar>
void Fields(Ar& ar, ConstraintRef& c) {
  ar(Ref(c.policy, Table::kPolicies), c.constraint);
  if constexpr (Ar::kReading) ar.CheckConstraint(c.policy, c.constraint);
}

template <class Ar>
void Fields(Ar& ar, ImageAccess::Key& k) {
  ar(Opt(k.app, Table::kApplications), Opt(k.attr, Table::kStrings), Opt(k.value, Table::kStrings));
}

template <class Ar>
void Fields(Ar& ar, Location& l) {
  ar(l.file, l.line, l.column, l.offset, l.pointer);
}

template <class Ar>
void Fields(Ar& ar, Diagnostic& d) {
  ar(d.severity, d.code, d.message, d.where, d.object);
}

template <class Ar>
void Fields(Ar& ar, LoadTimings::Pass& p) {
  ar(p.name, p.ms);
}

template <class Ar>
void Fields(Ar& ar, LoadTimings& t) {
  ar(t.files, t.bytes, t.read_ms, t.parse_ms, t.build_ms, t.passes);
}

// A text-keyed lookup whose keys are views into the pool: written as (string id, row).
template <class Ar>
void Names(Ar& ar, ImageAccess::NameMap& m, const StringPool& pool, Table table) {
  std::vector<uint32_t> keys, rows;
  if constexpr (!Ar::kReading) {
    for (const auto& [name, row] : m) {
      keys.push_back(pool.Find(name));
      rows.push_back(row);
    }
  }
  ar(Refs(keys, Table::kStrings), Refs(rows, table));
  if constexpr (Ar::kReading) {
    if (keys.size() != rows.size()) return ar.Fail("a lookup with more names than rows");
    m.clear();
    m.reserve(keys.size());
    for (size_t i = 0; i < keys.size() && ar.ok(); ++i)
      if (!m.emplace(pool.Get(keys[i]), rows[i]).second) ar.Fail("a repeated name in a lookup");
  }
}

}  // namespace image

// Every reference and Range of the population's and the pool's columns. A check sees
// either the whole-column facts (counts, shapes) or the rows of one chunk of a column
// (engine/image/image.cc splits the columns so that the work is shared by the cores). A
// row's checks report to the sink `c` they are given (Ref, In), which may be a local of
// the check's loop.
template <class Check>
void ImageAccess::CheckColumns(const Snapshot& s, Check& check) {
  using image::Table;
  const Column<char>* text = nullptr;
  const Column<uint32_t>* starts = nullptr;
  const Column<uint32_t>* slots = nullptr;
  s.pool_.ForEachColumn([&](std::string_view name, const auto& column) {
    if constexpr (std::is_same_v<std::decay_t<decltype(column)>, Column<char>>)
      text = &column;
    else
      (name == "pool.starts" ? starts : slots) = &column;
  });
  check.Starts("pool.starts", *starts, text->size(), false);
  if (!check.ok()) return;
  check.Count("pool.starts", starts->size() - 1, Table::kStrings);
  check.Slots("pool.slots", *slots, starts->size() - 1);
  const PopulationStore& p = s.population_;
  check.Count("identities", p.identities.size(), Table::kIdentities);
  check.Count("accounts", p.accounts.size(), Table::kAccounts);
  check.Count("entitlements", p.entitlements.size(), Table::kEntitlements);
  if (!check.ok()) return;
  // The attributes column ends with a record marking the end of the last values (AttrRecord).
  const size_t attributes = p.attributes.empty() ? 0 : p.attributes.size() - 1;
  check.Rows("identities", p.identities, [&](auto& c, const IdentityRecord& r) {
    c.Ref(r.name, Table::kStrings);
    c.Ref(r.id, Table::kStrings);  // interned, "" when absent
    c.Ref(r.display_name, Table::kStrings);
    c.In(r.assigned_roles, p.roles.size(), "identity.roles");
    c.In(r.detected_roles, p.roles.size(), "identity.roles");
    c.In(r.accounts, p.account_lists.size(), "identity.accounts");
    c.In(r.attributes, attributes, "attributes");
  });
  check.Rows("accounts", p.accounts, [&](auto& c, const AccountRecord& r) {
    for (Id id : {r.id, r.native_identity}) c.Ref(id, Table::kStrings);
    for (Id id : {r.instance, r.display_name}) c.Ref(id, Table::kStrings, true);
    c.Ref(r.application, Table::kApplications);
    c.Ref(r.identity, Table::kIdentities, true);
    c.In(r.attributes, attributes, "attributes");
    c.In(r.permissions, p.permissions.size(), "permissions");
  });
  check.Rows("identity.roles", p.roles, [&](auto& c, Index r) { c.Ref(r, Table::kRoles); });
  check.Rows("identity.accounts", p.account_lists, [&](auto& c, Index a) { c.Ref(a, Table::kAccounts); });
  // Each record's values begin where the previous record's do or later, within values.
  check.Rows("attributes", p.attributes, [&](auto& c, const AttrRecord& r) { c.Ref(r.name, Table::kStrings, true); });
  check.Ascending("attributes", p.attributes, [](const AttrRecord& r) { return r.first(); }, p.values.size(), "values");
  check.Rows("permissions", p.permissions, [&](auto& c, const PermissionRecord& r) {
    c.Ref(r.target, Table::kStrings);
    c.In(r.rights, p.rights.size(), "rights");
  });
  check.Rows("values", p.values, [&](auto& c, Id id) { c.Ref(id, Table::kStrings); });
  check.Rows("rights", p.rights, [&](auto& c, Id id) { c.Ref(id, Table::kStrings); });
  check.Rows("entitlements", p.entitlements, [&](auto& c, const EntitlementRecord& r) {
    c.Ref(r.application, Table::kApplications, true);
    for (Id id : {r.attribute, r.value, r.id, r.display_name, r.type}) c.Ref(id, Table::kStrings);
  });
  check.Slots("identity.slots", p.identity_slots, p.identities.size());
  // The SCIM resources' texts (engine/model/packed_texts.h): packed in frames, the texts'
  // offsets are within the frames' uncompressed bytes; stored as they are (version 2, no
  // frames), within the text column. TextList's reader checks each text it reads as well.
  for (size_t t = 0; t < kResourceTypes.size(); ++t) {
    const Column<uint64_t>& frames = p.resource_frame_starts[t];
    const bool packed = !frames.empty() || !p.resource_frame_offsets[t].empty();
    const uint64_t raw = !packed ? p.resource_text[t].size() : frames.empty() ? 0 : frames[frames.size() - 1];
    check.Starts("resources.starts", p.resource_starts[t], raw, true);
    check.Starts("resources.frames", frames, raw, true);
    check.Starts("resources.frameOffsets", p.resource_frame_offsets[t], p.resource_text[t].size(), true);
  }
}

// Everything but the columns (which ForEachColumn lists, engine/image/image.cc).
template <class Ar>
void ImageAccess::Fields(Ar& ar, Snapshot& s) {
  using image::Opt;
  using image::PerRow;
  using image::Ref;
  using image::RefKeys;
  using image::Refs;
  using image::Rows;
  using image::Table;
  ar(Rows(s.applications_, Table::kApplications), Rows(s.roles_, Table::kRoles), Rows(s.policies_, Table::kPolicies));
  if constexpr (Ar::kReading) ar.SetConstraintCounts(s.policies_);
  ar(s.diagnostics_, Rows(s.populations_, Table::kPopulations), s.any_assigned_detectable_, s.has_identity_config_,
     RefKeys(s.identity_attribute_defs_, Table::kStrings), s.constraints_by_id_, s.constraints_by_name_,
     s.unnamed_role_sod_, s.timings_, s.any_active_policy_, Refs(s.active_by_name_, Table::kPolicies));
  image::Names(ar, s.role_lookup_, s.pool_, Table::kRoles);
  image::Names(ar, s.app_lookup_, s.pool_, Table::kApplications);
  image::Names(ar, s.policy_lookup_, s.pool_, Table::kPolicies);
  image::Names(ar, s.policy_id_lookup_, s.pool_, Table::kPolicies);
  ar(s.roles_by_value_, Refs(s.unindexed_roles_, Table::kRoles), s.roles_reading_, s.any_permission_profiles_,
     s.constraints_by_role_, s.constraints_by_value_, s.always_constraints_,
     PerRow(s.unsupported_constraints_, Table::kPolicies), PerRow(s.children_, Table::kRoles), s.source_hash_);
  if constexpr (Ar::kReading) {
    // Lists of rows inside maps and per-row indexes: each entry must point at a row.
    for (const auto& [key, roles] : s.roles_by_value_) ar.CheckRefs(roles, Table::kRoles);
    for (const auto& [key, roles] : s.roles_reading_) ar.CheckRefs(roles, Table::kRoles);
    for (const auto& roles : s.children_) ar.CheckRefs(roles, Table::kRoles);
    if (s.constraints_by_role_.size() > s.roles_.size()) ar.Fail("a constraint index of more rows than roles");
    for (size_t p = 0; p < s.unsupported_constraints_.size() && ar.ok(); ++p)
      for (Index c : s.unsupported_constraints_[p]) ar.CheckConstraint(static_cast<Index>(p), c);
  }
}

}  // namespace preflight
