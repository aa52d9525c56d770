#include "engine/load/role_semantics.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace preflight {
namespace {

struct TypeDefinition {
  bool detectable;  // RoleTypeDefinition.isDetectable: !noDetection
  bool assignable;  // isAssignable: !noAutoAssignment && !noManualAssignment
  bool assigned_detectable = false;  // noDetectionUnlessAssigned
};

// IdentityIQ's shipped role types (init.xml, ObjectConfig Bundle).
absl::flat_hash_map<std::string, TypeDefinition> DefaultTypes() {
  return {{"organizational", {false, false}}, {"business", {false, true}}, {"it", {true, false}},
          {"entitlement", {true, false}}};
}

}  // namespace

void ApplyRoleTypes(Snapshot& s, const SnapshotObjects& objects) {
  absl::flat_hash_map<std::string, TypeDefinition> types;
  if (objects.role_types.empty()) {
    types = DefaultTypes();
  } else {
    for (const RoleTypeObject& t : objects.role_types)
      types.emplace(t.name, TypeDefinition{!t.no_detection, !t.no_auto_assignment && !t.no_manual_assignment,
                                           t.no_detection_unless_assigned});
  }
  std::vector<Role>& roles = s.roles_;
  for (Role& r : roles) {
    auto it = types.find(ToAbsl(s.str(r.type)));
    r.has_type_definition = it != types.end();
    r.type_detectable = !r.has_type_definition || it->second.detectable;
    r.type_assignable = r.has_type_definition && it->second.assignable;
    r.type_assigned_detectable = r.has_type_definition && it->second.assigned_detectable;
    s.any_assigned_detectable_ = s.any_assigned_detectable_ || r.type_assigned_detectable;
  }
  // CorrelationRole: a root of the unguided walk is detectable and not
  // noDetectionUnlessAssigned (isLeastSpecificDetectable).
  auto root = [](const Role& r) { return r.type_detectable && !r.type_assigned_detectable; };
  std::vector<bool> in_cycle(roles.size(), false);
  for (Index i = 0; i < roles.size(); ++i) {
    Role& r = roles[i];
    bool reached = root(r);
    for (Index up : r.supers_closure) {
      reached = reached || root(roles[up]);
      roles[up].subs_closure.push_back(i);
      const auto& above = roles[up].supers_closure;
      if (std::find(above.begin(), above.end(), i) != above.end()) in_cycle[i] = true;
    }
    r.reached = reached;
    r.detectable = r.detectable && !in_cycle[i];
  }
  // One diagnostic per cycle: the roles that reach each other, in snapshot order.
  std::vector<bool> reported(roles.size(), false);
  for (Index i = 0; i < roles.size(); ++i) {
    if (!in_cycle[i] || reported[i]) continue;
    std::vector<std::string> names{std::string(s.str(roles[i].name))};
    reported[i] = true;
    for (Index j : roles[i].supers_closure) {
      const auto& back = roles[j].supers_closure;
      if (!reported[j] && std::find(back.begin(), back.end(), i) != back.end()) {
        reported[j] = true;
        names.emplace_back(s.str(roles[j].name));
      }
    }
    s.diagnostics_.push_back({Severity::kError, ErrorCode::kInvalidValue,
                              absl::StrCat("role inheritance cycle through ", absl::StrJoin(names, ", "),
                                           ": IdentityIQ's detection and role SoD recurse on it without end; "
                                           "these roles are never detected"),
                              {}, absl::StrCat("Bundle[", names.front(), "]")});
  }
}

void IndexConstraintIdentity(Snapshot& s, Index pi) {
  const Policy& p = s.policies_[pi];
  auto add = [&](Index ci) {
    const Constraint& c = p.constraints[ci];
    ConstraintRef ref{pi, ci};
    if (!c.id.empty()) s.constraints_by_id_[c.id].push_back(ref);
    if (c.has_name) s.constraints_by_name_[c.name].push_back(ref);
    else if (c.kind == Constraint::Kind::kRoleSod) s.unnamed_role_sod_.push_back(ref);
  };
  switch (p.kind) {
    case Policy::Kind::kAccount:
      if (p.account_constraint != kNoIndex) add(p.account_constraint);
      return;
    case Policy::Kind::kRoleSod:
    case Policy::Kind::kEntitlementSod:
    case Policy::Kind::kAdvanced:
      for (Index ci = 0; ci < p.constraints.size(); ++ci)
        if (!p.constraints[ci].disabled) add(ci);
      return;
    default: return;
  }
}

}  // namespace preflight
