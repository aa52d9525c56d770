// The passes "policies" (policies, constraints and their selectors) and
// "constraintIndex".
#include <algorithm>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/load/build_context.h"
#include "engine/load/role_semantics.h"

namespace preflight {
namespace {

// The policy kind from its executor class, or from its type when the executor is
// absent (docs/semantics.md, "Policy kinds"). Leaves `unsupported` set otherwise.
void ClassifyPolicy(const PolicyObject& po, Policy& p) {
  std::string_view executor = po.executor;
  auto is = [&](std::string_view suffix, std::string_view type) {
    return absl::EndsWith(ToAbsl(executor), ToAbsl(suffix)) || (executor.empty() && po.type == type);
  };
  if (is("EffectiveEntitlementSODPolicyExecutor", "EffectiveEntitlementSOD"))
    p.unsupported = "EffectiveEntitlementSOD needs the effective-access index";
  else if (is(".SODPolicyExecutor", "SOD"))
    p.kind = Policy::Kind::kRoleSod;
  else if (is(".EntitlementSODPolicyExecutor", "EntitlementSOD"))
    p.kind = Policy::Kind::kEntitlementSod;
  else if (is(".GenericPolicyExecutor", "Advanced"))
    p.kind = Policy::Kind::kAdvanced;
  else if (is(".AccountPolicyExecutor", "Account"))
    p.kind = Policy::Kind::kAccount;
  else if (is(".RiskPolicyExecutor", "Risk"))
    p.kind = Policy::Kind::kRisk;
  else if (is(".ActivityPolicyExecutor", "Activity"))
    p.kind = Policy::Kind::kActivity;
  else
    p.unsupported = absl::StrCat("policy type '", po.type, "' (executor '", po.executor,
                                 "') cannot be evaluated on a simulated plan");
}

MatchTerm::Type TermType(std::string_view type) {
  if (type.empty() || type == "Entitlement") return MatchTerm::Type::kEntitlement;
  if (type == "Permission") return MatchTerm::Type::kPermission;
  if (type == "IdentityAttribute") return MatchTerm::Type::kIdentityAttribute;
  if (type == "RoleAttribute") return MatchTerm::Type::kRoleAttribute;
  if (type == "EntitlementAttribute") return MatchTerm::Type::kEntitlementAttribute;
  return MatchTerm::Type::kTargetPermission;
}

}  // namespace

void BuildContext::ResolvePolicies() {
  Snapshot& s = snap;
  for (const PolicyObject& po : objects.policies) {
    std::string object = "Policy[" + po.name + "]";
    Id name = Intern(po.name);
    if (s.policy_by_name_.contains(name)) {
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, "policy defined twice; the first definition is used",
           po.where, object);
      continue;
    }
    Policy p = ConvertPolicy(po);
    Index index = static_cast<Index>(s.policies_.size());
    s.policy_by_name_.emplace(name, index);
    if (!po.id.empty()) s.policy_by_id_.emplace(Intern(po.id), index);
    if (p.active) s.any_active_policy_ = true;
    s.policies_.push_back(std::move(p));
  }
}

Policy BuildContext::ConvertPolicy(const PolicyObject& po) {
  std::string object = "Policy[" + po.name + "]";
  Policy p;
  p.name = po.name;
  p.id = po.id;
  p.type = po.type;
  p.executor = po.executor;
  p.active = po.state == "Active";
  p.violation_rule = po.violation_rule;
  for (const ConstraintObject& co : po.constraints)
    if (p.violation_rule.empty() && !co.disabled) p.violation_rule = co.violation_rule;
  ClassifyPolicy(po, p);
  if (p.kind == Policy::Kind::kUnsupported)
    Diag(Severity::kUnsupported, ErrorCode::kUnsupported, p.unsupported, po.where, object);
  // Account policies read no constraint (the first GenericConstraint only names their
  // violations); Risk and Activity policies cannot produce a new violation in a check.
  bool evaluated = p.kind == Policy::Kind::kRoleSod || p.kind == Policy::Kind::kEntitlementSod ||
                   p.kind == Policy::Kind::kAdvanced || p.kind == Policy::Kind::kUnsupported;
  for (const ConstraintObject& co : po.constraints) {
    if (evaluated) {
      p.constraints.push_back(ConvertConstraint(co, object));
      continue;
    }
    Constraint c;
    c.id = co.id;
    c.disabled = co.disabled;
    c.description = co.description;
    c.name = co.name;
    c.has_name = co.has_name;
    c.kind = co.kind == ConstraintObject::Kind::kGeneric ? Constraint::Kind::kGeneric : Constraint::Kind::kUnsupported;
    if (p.kind == Policy::Kind::kAccount && c.kind == Constraint::Kind::kGeneric && p.account_constraint == kNoIndex)
      p.account_constraint = static_cast<Index>(p.constraints.size());
    p.constraints.push_back(std::move(c));
  }
  return p;
}

Constraint BuildContext::ConvertConstraint(const ConstraintObject& co, const std::string& object) {
  Constraint c;
  c.id = co.id;
  c.disabled = co.disabled;
  c.description = co.description;
  c.name = co.name;
  c.has_name = co.has_name;
  std::string cobject = co.where.pointer.empty() ? object : co.where.pointer;
  if (co.kind == ConstraintObject::Kind::kRoleSod) {
    c.kind = Constraint::Kind::kRoleSod;
    c.left = Roles(co.left_roles, co.where, cobject);
    c.right = Roles(co.right_roles, co.where, cobject);
  } else if (co.kind == ConstraintObject::Kind::kGeneric) {
    c.kind = Constraint::Kind::kGeneric;
    for (const SelectorObject& so : co.selectors) c.selectors.push_back(ConvertSelector(so, co, cobject));
    if (c.selectors.empty() || c.selectors.size() > 2) {
      c.kind = Constraint::Kind::kUnsupported;
      c.unsupported = absl::StrCat("invalid constraint: ", c.selectors.size(), " selectors (IdentityIQ skips it)");
    }
    for (const Selector& sel : c.selectors)
      for (const auto& why : sel.unsupported) c.unsupported += (c.unsupported.empty() ? "" : "; ") + why;
  } else {
    c.kind = Constraint::Kind::kUnsupported;
    c.unsupported = absl::StrCat("<", co.element, "> constraints need activity data");
  }
  if (!c.unsupported.empty() && !c.disabled)
    Diag(Severity::kUnsupported, ErrorCode::kUnsupported, c.unsupported, co.where, cobject);
  return c;
}

Selector BuildContext::ConvertSelector(const SelectorObject& so, const ConstraintObject& co,
                                       const std::string& object) {
  Selector sel;
  sel.unsupported = so.unsupported;
  if (so.population) {
    Snapshot& s = snap;
    sel.has_population = true;
    for (Index pi = 0; pi < s.populations_.size() && sel.population == kNoIndex; ++pi)
      if (s.populations_[pi].name == *so.population) sel.population = pi;
    if (sel.population == kNoIndex)
      Diag(Severity::kWarning, ErrorCode::kInvalidValue,
           absl::StrCat("population '", *so.population,
                        "' is not in the snapshot; taken as one with a filter, which never matches in a check"),
           co.where, object);
  }
  sel.has_match_expression = so.has_match_expression;
  sel.match_and = so.match_and;
  for (const auto& t : so.terms) sel.terms.push_back(ConvertTerm(t, so, co, object, sel));
  sel.has_compound_filter = so.has_compound_filter;
  if (so.has_compound_filter) {
    std::vector<Index> apps;
    for (const auto& a : so.compound_applications) apps.push_back(App(a, co.where, object));
    for (const auto& f : so.compound_filter) {
      Filter filter = ConvertFilter(f, &apps, co.where, object);
      if (!FilterSupported(filter))
        sel.unsupported.push_back(absl::StrCat("filter operation '", UnsupportedOps(filter), "'"));
      sel.compound_filter.push_back(std::move(filter));
    }
  }
  return sel;
}

// A MatchTerm; a leaf without its own application reads the MatchExpression's. Term
// types the engine cannot evaluate make `sel` unsupported.
MatchTerm BuildContext::ConvertTerm(const MatchTermObject& t, const SelectorObject& so, const ConstraintObject& co,
                                    const std::string& object, Selector& sel) {
  MatchTerm m;
  std::string app_name = t.application;
  if (app_name.empty() && !t.container) {
    app_name = so.match_application;
    m.inherited_application = !app_name.empty();
  }
  if (!app_name.empty()) m.application = App(app_name, co.where, object);
  m.application_name = t.application;  // the term's own, for the response
  m.type = TermType(t.type);
  if (m.type == MatchTerm::Type::kRoleAttribute || m.type == MatchTerm::Type::kEntitlementAttribute ||
      m.type == MatchTerm::Type::kTargetPermission)
    sel.unsupported.push_back(absl::StrCat("match term type '", t.type, "'"));
  if (t.check_effective) sel.unsupported.push_back("checkEffective (effective-access index)");
  m.name = Intern(t.name);
  m.name_text = t.name;
  m.value_null = !t.value.has_value();
  m.value = t.value ? Intern(*t.value) : kNoId;
  m.value_text = t.value.value_or("");
  m.container = t.container;
  m.and_op = t.and_op;
  m.negative = t.negative;
  m.check_effective = t.check_effective;
  for (const auto& child : t.children) m.children.push_back(ConvertTerm(child, so, co, object, sel));
  return m;
}

// The constraint index (see Snapshot::ConstraintsNamingRole), and the active policies
// by name (what a check without a `policies` list evaluates).
void BuildContext::IndexConstraints() {
  Snapshot& s = snap;
  s.constraints_by_role_.resize(s.roles_.size());
  s.unsupported_constraints_.resize(s.policies_.size());
  for (Index pi = 0; pi < s.policies_.size(); ++pi) {
    const Policy& p = s.policies_[pi];
    IndexConstraintIdentity(s, pi);
    if (p.kind == Policy::Kind::kAccount || p.kind == Policy::Kind::kRisk || p.kind == Policy::Kind::kActivity) continue;
    for (Index ci = 0; ci < p.constraints.size(); ++ci) {
      const Constraint& c = p.constraints[ci];
      if (c.disabled) continue;
      if (!c.unsupported.empty()) {
        s.unsupported_constraints_[pi].push_back(ci);
        continue;
      }
      IndexConstraint(ConstraintRef{pi, ci}, c);
    }
  }
  for (Index i = 0; i < s.policies_.size(); ++i)
    if (s.policies_[i].active) s.active_by_name_.push_back(i);
  std::sort(s.active_by_name_.begin(), s.active_by_name_.end(),
            [&](Index a, Index b) { return s.policies_[a].name < s.policies_[b].name; });
}

void BuildContext::IndexConstraint(ConstraintRef ref, const Constraint& c) {
  Snapshot& s = snap;
  if (c.kind == Constraint::Kind::kRoleSod) {
    for (const auto* side : {&c.left, &c.right})
      for (Index r : *side) {
        auto& list = s.constraints_by_role_[r];
        if (list.empty() || !(list.back() == ref)) list.push_back(ref);
      }
    return;
  }
  bool always = false;
  std::vector<Snapshot::Key> keys;
  std::function<void(const MatchTerm&)> visit = [&](const MatchTerm& t) {
    if (t.container) {
      for (const MatchTerm& child : t.children) visit(child);
      return;
    }
    if (t.application == kNoIndex) {
      // Identity attributes: a plan changes them only through the identity configuration.
      always = always || s.has_identity_config_;
      return;
    }
    if (t.type == MatchTerm::Type::kPermission) {
      always = true;
      return;
    }
    // A positive term changes only when its value comes or goes (an account created
    // or deleted brings its values along); a negative or null term also when the
    // attribute or the application's accounts change at all.
    if (t.negative || t.value_null) {
      keys.push_back({t.application, kNoId, kNoId});
      keys.push_back({t.application, t.name, kNoId});
    }
    if (!t.value_null) keys.push_back({t.application, t.name, t.value});
  };
  // An unnamed generic constraint without an id is never constraint-equal to its pre
  // violation: every post violation of it is new.
  if (!c.has_name && c.id.empty()) always = true;
  for (const Selector& sel : c.selectors) {
    if (sel.has_compound_filter) always = true;
    for (const MatchTerm& t : sel.terms) visit(t);
  }
  if (always) {
    s.always_constraints_.push_back(ref);
    return;
  }
  for (const auto& k : keys) {
    auto& list = s.constraints_by_value_[k];
    if (list.empty() || !(list.back() == ref)) list.push_back(ref);
  }
}

}  // namespace preflight
