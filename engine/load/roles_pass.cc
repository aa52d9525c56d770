// The passes "applications", "roles" and "roleIndexes".
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"
#include "engine/load/role_semantics.h"

namespace preflight {
namespace {

// Role types whose defaults forbid detection (docs/semantics.md, "Role detection").

}  // namespace

void BuildContext::ResolveApplications() {
  Snapshot& s = snap;
  for (const ApplicationObject& a : objects.applications) {
    Id name = Intern(a.name);
    if (s.app_by_name_.contains(name)) {
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, "application defined twice; the first definition is used",
           a.where, "Application[" + a.name + "]");
      continue;
    }
    Application app;
    app.name = name;
    app.case_insensitive = a.case_insensitive;
    app.has_account_schema = a.has_account_schema;
    app.identity_attribute = a.identity_attribute.empty() ? kNoId : Intern(a.identity_attribute);
    app.id = a.id;
    app.type = a.type;
    app.from_scim = a.from_scim;
    for (const auto& attr : a.account_schema) app.schema[Intern(attr.name)] = attr.multi;
    s.app_by_name_.emplace(name, static_cast<Index>(s.applications_.size()));
    s.applications_.push_back(std::move(app));
  }
}

// Names first (so references resolve in any order), then the bodies. When the same
// role comes twice (XML and SCIM), the definition with profiles wins.
void BuildContext::ResolveRoles() {
  Snapshot& s = snap;
  std::vector<const RoleObject*> role_objects;
  for (const RoleObject& r : objects.roles) {
    Id name = Intern(r.name);
    auto it = s.role_by_name_.find(name);
    if (it != s.role_by_name_.end()) {
      const RoleObject*& kept = role_objects[it->second];
      if (kept->profiles.empty() && !r.profiles.empty()) kept = &r;
      continue;
    }
    Index index = static_cast<Index>(role_objects.size());
    s.role_by_name_.emplace(name, index);
    role_objects.push_back(&r);
    if (!r.id.empty()) role_by_id.emplace(r.id, index);
    if (!r.display_name.empty()) role_by_display.emplace(r.display_name, index);
  }
  s.roles_.resize(role_objects.size());
  s.children_.resize(role_objects.size());
  for (Index i = 0; i < role_objects.size(); ++i) ConvertRole(*role_objects[i], i);
}

void BuildContext::ConvertRole(const RoleObject& r, Index i) {
  Snapshot& s = snap;
  std::string object = "Bundle[" + r.name + "]";
  preflight::Role& role = s.roles_[i];
  role.name = Intern(r.name);
  role.id = r.id;
  role.description = r.description;
  role.from_scim = r.from_scim;
  role.type = Intern(r.type);
  role.display_name = r.display_name;
  role.disabled = r.disabled;
  role.or_profiles = r.or_profiles;
  role.inheritance = Roles(r.inheritance, r.where, object);
  if (std::find(role.inheritance.begin(), role.inheritance.end(), i) != role.inheritance.end()) {
    Diag(Severity::kError, ErrorCode::kInvalidValue,
         "role inheritance cycle: the role inherits from itself (IdentityIQ recurses on it without end)", r.where,
         object);
    role.inheritance.erase(std::remove(role.inheritance.begin(), role.inheritance.end(), i), role.inheritance.end());
  }
  role.requirements = Roles(r.requirements, r.where, object);
  role.permits = Roles(r.permits, r.where, object);
  for (const ProfileObject& p : r.profiles) {
    Profile profile;
    profile.application = p.application.empty() ? kNoIndex : App(p.application, r.where, object);
    for (const FilterObject& f : p.constraints) {
      Filter filter = ConvertFilter(f, nullptr, r.where, object);
      if (!FilterSupported(filter)) {
        role.profiles_supported = false;
        Diag(Severity::kUnsupported, ErrorCode::kUnsupported,
             absl::StrCat("profile filter operation '", UnsupportedOps(filter),
                          "' is not supported; the role is never detected"),
             r.where, object);
      }
      profile.constraints.push_back(std::move(filter));
    }
    for (const PermissionObject& perm : p.permissions) profile.permissions.push_back(ConvertPermission(perm));
    if (profile.application == kNoIndex) {
      role.profiles_supported = false;
      Diag(Severity::kUnsupported, ErrorCode::kUnsupported, "profile without an application", r.where, object);
    }
    role.profiles.push_back(std::move(profile));
  }
  role.detectable = !role.profiles.empty() && role.profiles_supported;  // and reached: ApplyRoleTypes
  for (Index super : role.inheritance) s.children_[super].push_back(i);
}

void BuildContext::IndexRoles() {
  Snapshot& s = snap;
  // Upward closure, iteratively, cycle-safe.
  for (Index i = 0; i < s.roles_.size(); ++i) {
    std::vector<Index> stack(s.roles_[i].inheritance.begin(), s.roles_[i].inheritance.end());
    std::vector<Index>& closure = s.roles_[i].supers_closure;
    while (!stack.empty()) {
      Index r = stack.back();
      stack.pop_back();
      if (r == i || std::find(closure.begin(), closure.end(), r) != closure.end()) continue;
      closure.push_back(r);
      for (Index up : s.roles_[r].inheritance) stack.push_back(up);
    }
  }
  ApplyRoleTypes(s, objects);
  for (Index i = 0; i < s.roles_.size(); ++i) IndexRoleValues(i);
  for (Index i = 0; i < s.roles_.size(); ++i) IndexRoleReads(i);
}

// Detection index: (application, attribute, value) -> roles whose profile needs it.
void BuildContext::IndexRoleValues(Index i) {
  Snapshot& s = snap;
  const preflight::Role& role = s.roles_[i];
  if (!role.detectable) return;
  // One indexable leaf per profile: a top-level positive EQ / CONTAINS_ALL / IN.
  std::vector<std::vector<std::pair<Id, Id>>> keys_per_profile;
  bool all_indexable = true, any_indexable = false;
  for (const Profile& p : role.profiles) {
    std::vector<std::pair<Id, Id>> keys;
    for (const Filter& f : p.constraints) {
      if (f.ignore_case || f.values.empty()) continue;
      if (f.op == Filter::Op::kEq || f.op == Filter::Op::kContainsAll) {
        keys.push_back({f.property, f.values.front()});
        break;
      }
      if (f.op == Filter::Op::kIn) {
        for (Id v : f.values) keys.push_back({f.property, v});
        break;
      }
    }
    if (keys.empty()) all_indexable = false;
    else any_indexable = true;
    keys_per_profile.push_back(std::move(keys));
  }
  bool indexable = role.or_profiles ? all_indexable : any_indexable;
  if (!indexable) {
    s.unindexed_roles_.push_back(i);
    return;
  }
  for (size_t p = 0; p < role.profiles.size(); ++p) {
    for (const auto& [attr, value] : keys_per_profile[p]) {
      auto& list = s.roles_by_value_[Snapshot::Key{role.profiles[p].application, attr, value}];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
    if (!role.or_profiles && !keys_per_profile[p].empty()) break;  // AND: one profile suffices
  }
}

// Which roles a change of the accounts can re-detect (incremental detection), in the
// key space of the check's account changes:
//  (app, attr, value)  a positive leaf (case-sensitive CONTAINS_ALL / IN) naming the value;
//  (app, attr, -)      any other leaf reading the attribute;
//  (app, -, -)         profiles that could match an account holding none of their
//                      values (no positive leaf), or that need permissions.
void BuildContext::IndexRoleReads(Index i) {
  Snapshot& s = snap;
  const preflight::Role& role = s.roles_[i];
  auto add = [&](Index app, Id attr, Id value) {
    auto& list = s.roles_reading_[Snapshot::Key{app, attr, value}];
    if (list.empty() || list.back() != i) list.push_back(i);
  };
  for (const Profile& p : role.profiles) {
    bool positive = false;
    // (filter, under an AND chain from the profile root?)
    std::vector<std::pair<const Filter*, bool>> stack;
    for (const Filter& f : p.constraints) stack.push_back({&f, true});
    while (!stack.empty()) {
      auto [f, and_chain] = stack.back();
      stack.pop_back();
      bool composite = f->op == Filter::Op::kAnd || f->op == Filter::Op::kOr || f->op == Filter::Op::kNot;
      if (composite) {
        for (const Filter& c : f->children) stack.push_back({&c, and_chain && f->op == Filter::Op::kAnd});
        continue;
      }
      bool value_leaf = (f->op == Filter::Op::kContainsAll || f->op == Filter::Op::kIn) && !f->ignore_case &&
                        !f->values.empty();
      if (value_leaf) {
        for (Id v : f->values) add(p.application, f->property, v);
        positive = positive || and_chain;
        if (f->op == Filter::Op::kIn) add(p.application, f->property, kNoId);  // IN reads a single value
      } else {
        add(p.application, f->property, kNoId);
      }
    }
    if (!positive || !p.permissions.empty()) add(p.application, kNoId, kNoId);
    if (!p.permissions.empty()) s.any_permission_profiles_ = true;
  }
}

}  // namespace preflight
