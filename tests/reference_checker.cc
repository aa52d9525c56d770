// The reference checker: research/iiq-semantics.md transcribed as directly as
// possible, with std::map/std::set/std::string and no indexes. Section numbers in the
// comments point at the research note. Independent of engine/plan and engine/policy.

#include "tests/reference_checker.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace preflight::reference {
namespace {

thread_local RefOptions g_options;  // set for the duration of one ReferenceCheck call
// ReferenceCurrentViolations: the identity is the stored one, whose id is real, so a
// population's query runs on it (a check's copy has none).
thread_local bool g_stored_identity = false;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
bool EqualsIgnoreCase(const std::string& a, const std::string& b) { return Lower(a) == Lower(b); }
bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Unsupported {
  std::string why;
};
struct RequestError {
  std::string why;
};

// ---- The identity state: accounts with attribute values, assigned and detected roles.

struct Attr {
  std::vector<std::string> values;
  bool list = false;  // stored as a java.util.List (matters for EQ, 2.2)
};

struct Account {
  std::string application;
  std::string instance;
  std::string native_identity;
  std::string display_name;
  std::map<std::string, Attr> attributes;
};

struct State {
  std::vector<Account> accounts;
  std::vector<std::string> assigned;  // role names, in order
  std::vector<std::string> detected;
  std::map<std::string, Attr> identity;  // identity attributes
};

// One entitlement a role's profile provisions (2.3).
struct Provision {
  std::string application;
  std::string attribute;
  std::string value;
  bool operator==(const Provision&) const = default;
};

// ---- The snapshot, by name.

class Model {
 public:
  explicit Model(const SnapshotObjects& o) : objects(o) {
    for (const auto& a : o.applications) apps.emplace(a.name, &a);  // first definition wins
    for (const auto& r : o.roles) {
      if (roles.emplace(r.name, &r).second) role_order.push_back(r.name);
    }
    for (const auto& i : o.identities) identities.emplace(i.name, &i);
    for (const auto& p : o.policies) {
      if (policies.emplace(p.name, &p).second) policy_order.push_back(&p);
      if (!p.id.empty()) policy_ids.emplace(p.id, &p);
    }
    if (!o.accounts.empty()) throw Unsupported{"standalone accounts"};
    for (const auto& r : o.roles) {
      for (const auto& p : r.profiles)
        if (!p.permissions.empty()) throw Unsupported{"profile permissions"};
    }
  }

  const RoleObject* Role(const std::string& name) const {
    auto it = roles.find(name);
    return it == roles.end() ? nullptr : it->second;
  }
  const ApplicationObject* App(const std::string& name) const {
    auto it = apps.find(name);
    return it == apps.end() ? nullptr : it->second;
  }
  // The account schema's multi flag; nullopt when the attribute is not in the schema.
  std::optional<bool> SchemaMulti(const std::string& app, const std::string& attr) const {
    const ApplicationObject* a = App(app);
    if (!a) return std::nullopt;
    for (const auto& s : a->account_schema)
      if (s.name == attr) return s.multi;
    return std::nullopt;
  }
  bool HasSchema(const std::string& app) const {
    const ApplicationObject* a = App(app);
    return a && a->has_account_schema;
  }
  bool CaseInsensitive(const std::string& app) const {
    const ApplicationObject* a = App(app);
    return a && a->case_insensitive;
  }

  const SnapshotObjects& objects;
  std::map<std::string, const ApplicationObject*> apps;
  std::map<std::string, const RoleObject*> roles;
  std::vector<std::string> role_order;  // first definition order ("snapshot order")
  std::map<std::string, const IdentityObject*> identities;
  std::map<std::string, const PolicyObject*> policies;
  std::map<std::string, const PolicyObject*> policy_ids;
  std::vector<const PolicyObject*> policy_order;
};

// ---- Attribute operations (3.4).

bool SameValue(const Model& m, const std::string& app, const std::string& a, const std::string& b) {
  return a == b || (m.CaseInsensitive(app) && EqualsIgnoreCase(a, b));
}

void AddValues(const Model& m, Account& acc, const std::string& name, const std::vector<std::string>& values,
               bool request_is_list) {
  std::optional<bool> schema_multi = m.SchemaMulti(acc.application, name);
  auto it = acc.attributes.find(name);
  bool existing_list = it != acc.attributes.end() && it->second.list;
  // Union for a multi-valued attribute; an application without a schema accepts
  // everything (6.11) and a stored list stays a list; otherwise Add replaces.
  bool multi = schema_multi.value_or(false) || !m.HasSchema(acc.application) || existing_list ||
               (request_is_list && values.size() > 1);
  if (!multi) {
    if (values.empty()) return;
    acc.attributes[name] = Attr{{values.front()}, false};
    return;
  }
  Attr& attr = acc.attributes[name];
  for (const std::string& v : values) {
    bool dup = false;
    for (const std::string& x : attr.values) dup = dup || SameValue(m, acc.application, v, x);
    if (!dup) attr.values.push_back(v);
  }
  attr.list = attr.list || schema_multi.value_or(false) || attr.values.size() > 1;
  if (attr.values.empty()) acc.attributes.erase(name);
}

void RemoveValues(const Model& m, Account& acc, const std::string& name, const std::vector<std::string>& values) {
  auto it = acc.attributes.find(name);
  if (it == acc.attributes.end()) return;
  std::vector<std::string> kept;
  for (const std::string& x : it->second.values) {
    bool gone = false;
    for (const std::string& v : values) gone = gone || SameValue(m, acc.application, v, x);
    if (!gone) kept.push_back(x);
  }
  it->second.values = kept;
  if (kept.empty()) acc.attributes.erase(it);  // an emptied list becomes null
}

void SetValues(const Model& m, Account& acc, const std::string& name, const std::vector<std::string>& values,
               bool request_is_list) {
  if (values.empty()) {
    acc.attributes.erase(name);
    return;
  }
  acc.attributes[name] = Attr{values, request_is_list || m.SchemaMulti(acc.application, name).value_or(false)};
}

// "A request for an attribute the application's account schema does not define is
// dropped" (3.4, 6.11), except the link edits.
bool Dropped(const Model& m, const std::string& app, const std::string& name) {
  if (name == "IIQDisabled" || name == "IIQLocked" || name == "directPermissions") return false;
  return m.HasSchema(app) && !m.SchemaMulti(app, name).has_value();
}

// ---- Role expansion (2.3): the assigned role, its supers (skipping disabled ones),
// its requirements recursively (skipping disabled ones) and their supers; each role's
// profiles give Add requests from EQ / CONTAINS_ALL leaves (first child of an OR; the
// first profile only with orProfiles).

void LeafProvisions(const std::string& app, const FilterObject& f, std::vector<Provision>& out) {
  std::string op = Upper(f.op);
  if (op == "EQ" || op == "CONTAINS_ALL") {
    for (const std::string& v : f.values) out.push_back({app, f.property, v});
  } else if (op == "AND") {
    for (const auto& c : f.children) LeafProvisions(app, c, out);
  } else if (op == "OR") {
    if (!f.children.empty()) LeafProvisions(app, f.children.front(), out);
  }
}

std::vector<Provision> Expand(const Model& m, const std::string& assigned) {
  std::vector<Provision> out;
  std::set<std::string> seen;
  std::vector<std::string> queue{assigned};
  bool fifo = g_options.expansion_in_document_order;
  for (size_t i = 0; fifo ? i < queue.size() : !queue.empty(); ++i) {
    std::string name;
    if (fifo) {
      name = queue[i];
    } else {
      name = queue.back();
      queue.pop_back();
    }
    if (!seen.insert(name).second) continue;
    const RoleObject* r = m.Role(name);
    if (!r) continue;
    if (r->disabled && name != assigned) continue;
    for (const auto& p : r->profiles) {
      for (const auto& f : p.constraints) LeafProvisions(p.application, f, out);
      if (r->or_profiles) break;
    }
    for (const auto& up : r->inheritance) queue.push_back(up);
    for (const auto& req : r->requirements) queue.push_back(req);
  }
  return out;
}

Account& AccountFor(State& st, const std::string& app) {
  for (Account& a : st.accounts)
    if (a.application == app) return a;
  Account a;
  a.application = app;
  a.native_identity = "???";
  st.accounts.push_back(std::move(a));
  return st.accounts.back();
}

void ApplyProvisions(const Model& m, State& st, const std::vector<Provision>& provisions) {
  for (const Provision& p : provisions) {
    if (p.application.empty()) continue;
    Account& acc = AccountFor(st, p.application);
    if (g_options.drop_unschema_expansions && Dropped(m, p.application, p.attribute)) continue;
    AddValues(m, acc, p.attribute, {p.value}, false);
  }
}

// ---- Profile matching and detection (2.2).

bool FilterMatches(const FilterObject& f, const std::map<std::string, Attr>& attrs) {
  std::string op = Upper(f.op);
  if (op == "AND") {
    for (const auto& c : f.children)
      if (!FilterMatches(c, attrs)) return false;
    return true;
  }
  if (op == "OR") {
    for (const auto& c : f.children)
      if (FilterMatches(c, attrs)) return true;
    return false;
  }
  if (op == "NOT") return !f.children.empty() && !FilterMatches(f.children.front(), attrs);
  auto it = attrs.find(f.property);
  const Attr* a = it == attrs.end() || it->second.values.empty() ? nullptr : &it->second;
  auto eq = [&](const std::string& x, const std::string& y) { return f.ignore_case ? EqualsIgnoreCase(x, y) : x == y; };
  auto contains = [&](const std::vector<std::string>& list, const std::string& v) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& x) { return eq(x, v); });
  };
  if (op == "CONTAINS_ALL") {
    // The account value, a list or a scalar promoted to a list, holds every value.
    if (!a) return false;
    for (const std::string& v : f.values)
      if (!contains(a->values, v)) return false;
    return true;
  }
  if (op == "EQ") {
    // filterValue.equals(accountValue): a scalar never equals a list.
    if (!f.has_value) return !a;
    if (!a) return false;
    if (f.value_is_list) {
      if (!a->list || a->values.size() != f.values.size()) return false;
      for (size_t i = 0; i < f.values.size(); ++i)
        if (!eq(f.values[i], a->values[i])) return false;
      return true;
    }
    return !a->list && a->values.size() == 1 && !f.values.empty() && eq(f.values[0], a->values[0]);
  }
  if (op == "IN") {
    if (!a) return false;
    for (const std::string& x : a->values)
      if (contains(f.values, x)) return true;
    return false;
  }
  throw Unsupported{"profile filter " + f.op};
}

// Role types (RoleTypeDefinition): ObjectConfig Bundle's when the snapshot has them,
// else IdentityIQ's shipped defaults (init.xml). Unknown or empty type names have no
// definition (Bundle.getRoleTypeDefinition() is null).
struct RoleType {
  bool detectable = true;   // !noDetection
  bool assignable = false;  // !noAutoAssignment && !noManualAssignment
  bool assigned_detectable = false;  // noDetectionUnlessAssigned
};
std::optional<RoleType> TypeOf(const Model& m, const std::string& type) {
  if (!m.objects.role_types.empty()) {
    for (const auto& t : m.objects.role_types)
      if (t.name == type)
        return RoleType{!t.no_detection, !t.no_auto_assignment && !t.no_manual_assignment,
                        t.no_detection_unless_assigned};
    return std::nullopt;
  }
  if (type == "organizational") return RoleType{false, false};
  if (type == "business") return RoleType{false, true};
  if (type == "it" || type == "entitlement") return RoleType{true, false};
  return std::nullopt;
}

// EntitlementCorrelator's detection, transcribed: the least specific detectable roles
// are the roots (CorrelationModel.isLeastSpecific, with its recursion as written);
// evaluateTopDown descends into the sub roles of every matching role whose supers all
// match (evaluateSupersBottomUp), and adds a role (addMatchIfAllowed: enabled, with
// profiles) only when no sub-role branch added something. isMatching is memoized.
class Correlator {
 public:
  Correlator(const Model& m, const State& st) : m_(m), st_(st) {
    for (const std::string& name : m.role_order)
      for (const auto& up : m.Role(name)->inheritance)
        if (m.Role(up)) subs_[up].push_back(name);
  }

  // doFullCorrelation without assignment rules: guided detection for each assignment
  // (its detectable required and permitted roles, the role and its detectable supers),
  // then unguided detection from the least specific roles; each phase with its own
  // state, the detections kept together.
  std::set<std::string> Detect() {
    for (const std::string& a : st_.assigned) {
      Phase();
      for (const std::string& root : GuidedRoots(a)) TopDown(root, 0);
    }
    Phase();
    for (const std::string& name : m_.role_order)
      if (LeastSpecific(name, 0)) TopDown(name, 0);
    return kept_;
  }

 private:
  std::vector<std::string> Supers(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& up : m_.Role(name)->inheritance)
      if (m_.Role(up)) out.push_back(up);
    return out;
  }
  static void Guard(int depth) {
    if (depth > 64) throw Unsupported{"role inheritance cycle"};
  }

  void Phase() { matching_.clear(); }

  // CorrelationRole._detectable: an untyped role is detectable.
  bool Detectable(const std::string& name) const {
    auto type = TypeOf(m_, m_.Role(name)->type);
    return !type || type->detectable;
  }
  bool AssignedDetectable(const std::string& name) const {
    auto type = TypeOf(m_, m_.Role(name)->type);
    return type && type->assigned_detectable;
  }

  // CorrelationRole.loadRequiredAndPermittedRecursive: requirements and permits (that
  // have a role type) of the role, of the roles it inherits from, and theirs.
  void RequiredAndPermitted(const std::string& name, std::set<std::string>& seen, std::vector<std::string>& out) const {
    if (!seen.insert(name).second) return;
    const RoleObject* r = m_.Role(name);
    for (const auto& up : r->inheritance)
      if (m_.Role(up)) RequiredAndPermitted(up, seen, out);
    for (const auto* list : {&r->requirements, &r->permits}) {
      for (const auto& x : *list)
        if (m_.Role(x)) RequiredAndPermitted(x, seen, out);
      for (const auto& x : *list)
        if (m_.Role(x) && TypeOf(m_, m_.Role(x)->type)) out.push_back(x);
    }
  }

  // CorrelationModel.getDetectableRolesForAssignment.
  std::vector<std::string> GuidedRoots(const std::string& assigned) const {
    std::vector<std::string> roots, rp;
    std::set<std::string> seen;
    RequiredAndPermitted(assigned, seen, rp);
    for (const auto& x : rp)
      if (Detectable(x) || AssignedDetectable(x)) roots.push_back(x);
    if (Detectable(assigned)) roots.push_back(assigned);
    std::vector<std::string> stack{assigned};  // getInheritedDetectables
    std::set<std::string> up_seen;
    while (!stack.empty()) {
      std::string r = stack.back();
      stack.pop_back();
      if (!up_seen.insert(r).second) continue;
      if (Detectable(r)) roots.push_back(r);
      for (const auto& up : Supers(r)) stack.push_back(up);
    }
    return roots;
  }

  // isAssignedOrRequiredOrPermitted.
  bool AssignedOrRequiredOrPermitted(const std::string& name) const {
    for (const auto& a : st_.assigned) {
      if (a == name) return true;
      std::set<std::string> seen;
      std::vector<std::string> rp;
      RequiredAndPermitted(a, seen, rp);
      if (std::find(rp.begin(), rp.end(), name) != rp.end()) return true;
    }
    return false;
  }

  bool LeastSpecific(const std::string& name, int depth) const {
    Guard(depth);
    bool am_i = Detectable(name) && !AssignedDetectable(name);
    if (am_i)
      for (const auto& parent : Supers(name))
        if (LeastSpecific(parent, depth + 1)) return false;
    return am_i;
  }

  bool IsMatching(const std::string& name) {
    if (auto it = matching_.find(name); it != matching_.end()) return it->second;
    const RoleObject& r = *m_.Role(name);
    bool match;
    if (r.disabled || r.profiles.empty()) {
      match = true;  // pass-through for the hierarchy walk
    } else {
      size_t matched = 0;
      for (const auto& p : r.profiles) {
        for (const Account& acc : st_.accounts) {
          if (acc.application != p.application) continue;
          bool ok = true;
          for (const auto& f : p.constraints) ok = ok && FilterMatches(f, acc.attributes);
          if (ok) {
            ++matched;
            break;
          }
        }
      }
      match = matched == r.profiles.size() || (r.or_profiles && matched > 0);
    }
    matching_[name] = match;
    return match;
  }

  bool SupersBottomUp(const std::string& name, int depth) {
    Guard(depth);
    for (const auto& up : Supers(name))
      if (!IsMatching(up) || !SupersBottomUp(up, depth + 1)) return false;
    return true;
  }

  bool TopDown(const std::string& name, int depth) {
    Guard(depth);
    bool something = false;
    if (IsMatching(name)) {
      if (!SupersBottomUp(name, 0)) return false;
      auto subs = subs_.find(name);
      if (subs == subs_.end()) {
        something = AddIfAllowed(name);
      } else {
        for (const auto& sub : subs->second)
          if (TopDown(sub, depth + 1)) something = true;
        if (!something) something = AddIfAllowed(name);
      }
    }
    return something;
  }

  // A match of a noDetectionUnlessAssigned role that is not assigned, required or
  // permitted is "silent": it stops the walk above it but is not kept.
  bool AddIfAllowed(const std::string& name) {
    const RoleObject& r = *m_.Role(name);
    if (r.disabled || r.profiles.empty()) return false;
    if (!AssignedDetectable(name) || AssignedOrRequiredOrPermitted(name)) kept_.insert(name);
    return true;
  }

  const Model& m_;
  const State& st_;
  std::map<std::string, std::vector<std::string>> subs_;
  std::map<std::string, bool> matching_;
  std::set<std::string> kept_;
};

// The post step's detection. Roles detected before keep their order; newly detected
// ones follow in snapshot order.
std::vector<std::string> Detect(const Model& m, const State& st) {
  std::set<std::string> now = Correlator(m, st).Detect();
  std::vector<std::string> out;
  for (const std::string& r : st.detected)
    if (now.count(r) && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  for (const std::string& r : m.role_order)
    if (now.count(r) && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  return out;
}

// ---- The plan (3.2, 3.4).

class PlanApplier {
 public:
  PlanApplier(const Model& m, State& st) : m_(m), st_(st) {}

  void Apply(const ProvisioningPlan& plan) {
    for (const AccountRequest& req : plan.accounts) ApplyRequest(req);
    ApplyProvisions(m_, st_, plan_provisions_);
    Deprovision();
  }

 private:
  void ApplyRequest(const AccountRequest& req) {
    if (req.result && req.result->status == "failed") return;
    if (req.is_iiq()) return ApplyIiq(req);
    if (!req.application || req.application->empty()) throw RequestError{"application is required"};
    const std::string& app = *req.application;
    if (!m_.App(app)) throw RequestError{"unknown application " + app};
    if (!req.permissions.empty()) throw Unsupported{"permission requests"};
    std::string instance = req.instance.value_or("");
    // Identity.getLink: null nativeIdentity = the first account; case-insensitive
    // nativeIdentity, then the display name exactly.
    std::optional<size_t> found;
    for (size_t i = 0; i < st_.accounts.size() && !found; ++i) {
      const Account& a = st_.accounts[i];
      if (a.application != app || (!instance.empty() && a.instance != instance)) continue;
      if (!req.native_identity || EqualsIgnoreCase(a.native_identity, *req.native_identity)) found = i;
    }
    for (size_t i = 0; i < st_.accounts.size() && !found && req.native_identity; ++i) {
      const Account& a = st_.accounts[i];
      if (a.application == app && !a.display_name.empty() && a.display_name == *req.native_identity) found = i;
    }
    AccountOp op = req.effective_op();
    if (op == AccountOp::kDelete) {
      if (found) st_.accounts.erase(st_.accounts.begin() + static_cast<long>(*found));
      return;
    }
    const ApplicationObject& application = *m_.App(app);
    bool needs = !req.attributes.empty() || op == AccountOp::kDisable || op == AccountOp::kEnable ||
                 op == AccountOp::kLock || op == AccountOp::kUnlock;
    if (!found) {
      if (!needs) return;  // a Create with no requests creates nothing
      Account a;
      a.application = app;
      a.instance = instance;
      std::string native = req.native_identity.value_or("");
      if (native.empty() && !application.identity_attribute.empty())
        for (const AttributeRequest& ar : req.attributes)
          if (ar.name == application.identity_attribute && ar.value.kind == Value::Kind::kString) native = ar.value.str;
      a.native_identity = native.empty() ? "???" : native;
      st_.accounts.push_back(std::move(a));
      found = st_.accounts.size() - 1;
    }
    Account& acc = st_.accounts[*found];
    if (op == AccountOp::kDisable) acc.attributes["IIQDisabled"] = Attr{{"true"}, false};
    if (op == AccountOp::kEnable) acc.attributes.erase("IIQDisabled");
    if (op == AccountOp::kLock) acc.attributes["IIQLocked"] = Attr{{"true"}, false};
    if (op == AccountOp::kUnlock) acc.attributes.erase("IIQLocked");
    for (const AttributeRequest& ar : req.attributes) {
      if (ar.result && ar.result->status == "failed") continue;
      if (ar.name.empty()) throw RequestError{"attribute name is required"};
      if (!application.identity_attribute.empty() && ar.name == application.identity_attribute) {
        if (ar.value.kind == Value::Kind::kString) acc.native_identity = ar.value.str;
        continue;
      }
      if (Dropped(m_, app, ar.name)) continue;
      std::vector<std::string> values = ar.value.Strings();
      switch (ar.effective_op()) {
        case AttributeOp::kAdd: AddValues(m_, acc, ar.name, values, ar.value.is_list()); break;
        case AttributeOp::kRemove:
        case AttributeOp::kRevoke: RemoveValues(m_, acc, ar.name, values); break;
        case AttributeOp::kSet:
        case AttributeOp::kRetain: SetValues(m_, acc, ar.name, values, ar.value.is_list()); break;
      }
    }
  }

  void ApplyIiq(const AccountRequest& req) {
    for (const AttributeRequest& ar : req.attributes) {
      if (ar.result && ar.result->status == "failed") continue;
      if (ar.name != "assignedRoles" && ar.name != "detectedRoles") {
        IdentityAttribute(ar);
        continue;
      }
      std::vector<std::string> roles = ar.value.Strings();
      for (const auto& r : roles)
        if (!m_.Role(r)) throw RequestError{"unknown role " + r};
      AttributeOp op = ar.effective_op();
      auto expand = [&](const std::string& r) {
        for (const Provision& p : Expand(m_, r)) plan_provisions_.push_back(p);
      };
      if (ar.name == "detectedRoles") {
        if (op == AttributeOp::kAdd || op == AttributeOp::kSet)
          for (const auto& r : roles) expand(r);
        continue;
      }
      auto& assigned = st_.assigned;
      if (op == AttributeOp::kSet) {
        for (const auto& r : assigned)
          if (std::find(roles.begin(), roles.end(), r) == roles.end()) removed_.push_back(r);
        assigned.clear();
        op = AttributeOp::kAdd;  // a Set role operation becomes Add for the entitlements
      }
      if (op == AttributeOp::kAdd || op == AttributeOp::kRetain) {
        for (const auto& r : roles) {
          if (std::find(assigned.begin(), assigned.end(), r) == assigned.end()) assigned.push_back(r);
          expand(r);
        }
      } else {
        for (const auto& r : roles) {
          auto it = std::find(assigned.begin(), assigned.end(), r);
          if (it != assigned.end()) {
            assigned.erase(it);
            removed_.push_back(r);
          }
        }
      }
    }
  }

  // IIQEvaluator.processIIQPlan -> processIdentityAttribute: only attributes ObjectConfig
  // Identity defines; Add appends, Remove drops the first equal value, Set replaces
  // (a list for a multi-valued attribute), no op changes nothing.
  void IdentityAttribute(const AttributeRequest& ar) {
    if (ar.name == "manager") throw Unsupported{"manager request"};
    const IdentityAttributeObject* def = nullptr;
    for (const auto& a : m_.objects.identity_attributes)
      if (a.name == ar.name && !def) def = &a;
    if (!m_.objects.has_identity_config || !def || !ar.op) return;
    Attr& attr = st_.identity[ar.name];
    std::vector<std::string> values = ar.value.Strings();
    if (*ar.op == AttributeOp::kAdd || *ar.op == AttributeOp::kRemove) {
      for (const auto& v : values) {
        if (*ar.op == AttributeOp::kAdd) attr.values.push_back(v);
        else if (auto it = std::find(attr.values.begin(), attr.values.end(), v); it != attr.values.end())
          attr.values.erase(it);
      }
      attr.list = true;
    } else if (*ar.op == AttributeOp::kSet) {
      attr.values = values;
      attr.list = def->multi || values.size() > 1;
    }
    if (attr.values.empty()) st_.identity.erase(ar.name);
  }

  // A de-assigned role takes back the entitlements no remaining assigned role needs.
  void Deprovision() {
    if (removed_.empty()) return;
    std::vector<Provision> kept;
    for (const auto& r : st_.assigned)
      for (const Provision& p : Expand(m_, r)) kept.push_back(p);
    for (const auto& r : removed_) {
      for (const Provision& p : Expand(m_, r)) {
        if (p.application.empty() || std::find(kept.begin(), kept.end(), p) != kept.end()) continue;
        for (Account& a : st_.accounts)
          if (a.application == p.application) RemoveValues(m_, a, p.attribute, {p.value});
      }
    }
  }

  const Model& m_;
  State& st_;
  std::vector<Provision> plan_provisions_;
  std::vector<std::string> removed_;
};

// ---- Policies (1.4-1.7).

enum class PolicyKind { kRoleSod, kEntitlementSod, kAdvanced, kAccount, kRisk, kActivity, kOther };

PolicyKind KindOf(const PolicyObject& p) {
  const std::string& e = p.executor;
  if (EndsWith(e, "EffectiveEntitlementSODPolicyExecutor") || (e.empty() && p.type == "EffectiveEntitlementSOD"))
    return PolicyKind::kOther;
  if (EndsWith(e, ".SODPolicyExecutor") || (e.empty() && p.type == "SOD")) return PolicyKind::kRoleSod;
  if (EndsWith(e, ".EntitlementSODPolicyExecutor") || (e.empty() && p.type == "EntitlementSOD"))
    return PolicyKind::kEntitlementSod;
  if (EndsWith(e, ".GenericPolicyExecutor") || (e.empty() && p.type == "Advanced")) return PolicyKind::kAdvanced;
  if (EndsWith(e, ".AccountPolicyExecutor") || (e.empty() && p.type == "Account")) return PolicyKind::kAccount;
  if (EndsWith(e, ".RiskPolicyExecutor") || (e.empty() && p.type == "Risk")) return PolicyKind::kRisk;
  if (EndsWith(e, ".ActivityPolicyExecutor") || (e.empty() && p.type == "Activity")) return PolicyKind::kActivity;
  return PolicyKind::kOther;
}

// One PolicyViolation as an executor builds it.
struct Found {
  const PolicyObject* policy = nullptr;
  size_t constraint = 0;  // for the report's description
  std::string constraint_id;                   // "" is null
  std::optional<std::string> constraint_name;  // null when the constraint has none
  std::optional<std::string> description;
  std::vector<std::string> left, right;        // empty is a null CSV
  std::vector<RefEntitlement> entitlements;    // empty is null
};

void Guard(int depth) {
  if (depth > 64) throw Unsupported{"role inheritance cycle"};
}

std::vector<std::string> KnownSupers(const Model& m, const std::string& name) {
  std::vector<std::string> out;
  if (const RoleObject* r = m.Role(name))
    for (const auto& up : r->inheritance)
      if (m.Role(up)) out.push_back(up);
  return out;
}

// SODPolicyExecutor.flatten / addBundle / AssignedBundle.addOrigin, transcribed: every
// detected, then assigned role, and every role it inherits from, with the roles that
// put the identity there ("origins", insertion-ordered, unique).
class HeldRoles {
 public:
  HeldRoles(const Model& m, const State& st) : m_(m) {
    for (const auto& b : st.detected) AddBundle(b, b, 0);
    for (const auto& b : st.assigned) AddBundle(b, b, 0);
  }
  bool Holds(const std::string& r) const { return origins_.count(r) > 0; }
  const std::vector<std::string>& Origins(const std::string& r) const { return origins_.at(r); }

 private:
  void AddBundle(const std::string& b, const std::string& origin, int depth) {
    Guard(depth);
    AddOrigin(b, origin, origins_[b], 0);
    for (const auto& s : KnownSupers(m_, b)) AddBundle(s, origin, depth + 1);
  }
  static void Add(std::vector<std::string>& list, const std::string& r) {
    if (std::find(list.begin(), list.end(), r) == list.end()) list.push_back(r);
  }
  // "traverse the hierarchy looking for _bundle ... only process the hierarchy if this
  // is detected": follows the first inherited role that is the bundle or detectable.
  void AddOrigin(const std::string& bundle, const std::string& o, std::vector<std::string>& out, int depth) {
    Guard(depth);
    Add(out, o);
    if (o == bundle) return;
    auto otype = TypeOf(m_, m_.Role(o)->type);
    if (otype && !otype->detectable) return;
    for (const auto& i : KnownSupers(m_, o)) {
      auto itype = TypeOf(m_, m_.Role(i)->type);
      if (i == bundle) {
        if (!(itype && itype->assignable)) Add(out, i);
        return;
      }
      if (!itype || itype->detectable) {
        AddOrigin(bundle, i, out, depth + 1);
        return;
      }
    }
  }

  const Model& m_;
  std::map<std::string, std::vector<std::string>> origins_;
};

std::vector<std::string> Dedup(const std::vector<std::string>& names, const Model& m) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (m.Role(n) && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

std::string Csv(const std::vector<std::string>& v) {
  if (v.empty()) return "null";  // StringBuffer.append of a null String
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

bool RoleSod(const Model& m, const ConstraintObject& c, const HeldRoles& held, Found& out) {
  std::vector<std::string> left = Dedup(c.left_roles, m), right = Dedup(c.right_roles, m);
  if (left.empty() || right.empty()) return false;
  auto holds = [&](const std::string& r) { return held.Holds(r); };
  if (!std::any_of(left.begin(), left.end(), holds) || !std::any_of(right.begin(), right.end(), holds)) return false;
  auto add_all = [](std::vector<std::string>& list, const std::vector<std::string>& items) {
    for (const auto& i : items)
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
  };
  for (const auto& l : left) {
    if (!holds(l)) continue;
    for (const auto& r : right) {
      if (!holds(r) || r == l) continue;
      add_all(out.left, held.Origins(l));
      add_all(out.right, held.Origins(r));
    }
  }
  // addViolation: "fake one up from the l/r bundle lists we calculated above".
  out.constraint_name = c.has_name ? c.name : Csv(out.left) + " : " + Csv(out.right);
  out.description = c.description;
  return true;
}

// ---- Matchmaker (1.5): TermMatcher.getMatchingLeaves, match and getMatches.

// compare(): a null value matches an absent attribute; otherwise the value is the
// attribute or one of its list's elements (String.equals).
bool Compare(const std::optional<std::string>& value, const Attr* a) {
  bool present = a && !a->values.empty();
  if (!value) return !present;
  return present && std::find(a->values.begin(), a->values.end(), *value) != a->values.end();
}

// The term once per account it matches on; a negative term flips: listed once when
// nothing matched, not at all otherwise.
size_t MatchingLeaves(const MatchTermObject& t, const std::string& default_app, const State& st) {
  if (!(t.type.empty() || t.type == "Entitlement")) throw Unsupported{"match term type " + t.type};
  if (t.check_effective) throw Unsupported{"checkEffective"};
  std::string app = t.application.empty() ? default_app : t.application;
  size_t n = 0;
  if (!t.name.empty() && app.empty()) {
    // No application: Identity.getAttribute(name).
    auto it = st.identity.find(t.name);
    if (Compare(t.value, it == st.identity.end() ? nullptr : &it->second)) ++n;
  } else if (!t.name.empty()) {
    for (const Account& a : st.accounts) {
      if (a.application != app) continue;
      auto it = a.attributes.find(t.name);
      if (Compare(t.value, it == a.attributes.end() ? nullptr : &it->second)) ++n;
    }
  }
  if (t.negative) return n == 0 ? 1 : 0;
  return n;
}

bool TermMatch(const MatchTermObject& t, const std::string& default_app, const State& st);

// ExpressionMatcher.match / a container's match: stop at the first false (and) or the
// first true (or); the result is the last term's.
bool ListMatch(const std::vector<MatchTermObject>& terms, bool and_op, const std::string& default_app,
               const State& st) {
  bool match = false;
  for (const auto& t : terms) {
    match = TermMatch(t, default_app, st);
    if ((!match && and_op) || (match && !and_op)) break;
  }
  return match;
}

bool TermMatch(const MatchTermObject& t, const std::string& default_app, const State& st) {
  if (t.container) return ListMatch(t.children, t.and_op, default_app, st);
  return MatchingLeaves(t, default_app, st) > 0;
}

// TermMatcher.getMatches: a container lists its children's matches whatever its own
// and flag says.
void TermMatches(const MatchTermObject& t, const std::string& default_app, const State& st,
                 std::vector<const MatchTermObject*>& out) {
  if (t.container) {
    for (const auto& c : t.children) TermMatches(c, default_app, st, out);
    return;
  }
  for (size_t n = MatchingLeaves(t, default_app, st); n > 0; --n) out.push_back(&t);
}

// ExpressionMatcher.getMatches: an AND expression with a term that lists nothing lists
// nothing.
std::vector<const MatchTermObject*> ExpressionMatches(const SelectorObject& s, const State& st) {
  std::vector<const MatchTermObject*> out;
  for (const auto& t : s.terms) {
    std::vector<const MatchTermObject*> tmp;
    TermMatches(t, s.match_application, st, tmp);
    if (s.match_and && tmp.empty()) return {};
    out.insert(out.end(), tmp.begin(), tmp.end());
  }
  return out;
}

// Matchmaker.isMatch: every present part must match; an empty selector matches.
bool SelectorMatch(const Model& m, const SelectorObject& s, const State& st) {
  bool match = true;
  if (s.has_match_expression) match = !s.terms.empty() && ListMatch(s.terms, s.match_and, s.match_application, st);
  if (match && s.population) {
    // doQuery(identity.getId() = null): the copy a check evaluates has no id, so a
    // population with a filter never matches. Preflight assumes a population the
    // snapshot lacks has one; a population without a filter adds no condition.
    const GroupDefinitionObject* pop = nullptr;
    for (const auto& g : m.objects.populations)
      if (g.name == *s.population && !pop) pop = &g;
    if (!pop || (pop->filter && !(g_stored_identity && FilterMatches(*pop->filter, st.identity)))) match = false;
  }
  return match;
}

bool Generic(const Model& m, const ConstraintObject& c, PolicyKind kind, const State& st, Found& out) {
  for (const auto& s : c.selectors)
    if (!s.unsupported.empty() || s.has_compound_filter) throw Unsupported{"selector part"};
  if (c.selectors.empty() || c.selectors.size() > 2) return false;  // "Invalid constraint"
  for (const auto& s : c.selectors)
    if (!SelectorMatch(m, s, st)) return false;
  if (kind == PolicyKind::kEntitlementSod) {
    // EntitlementSODPolicyExecutor.getEntitlementMatches: each selector's MatchExpression.
    for (const auto& s : c.selectors) {
      if (!s.has_match_expression) continue;
      for (const MatchTermObject* t : ExpressionMatches(s, st)) {
        RefEntitlement e;
        if (!t->application.empty()) e.application = t->application;  // an inherited app is reported as null
        e.attribute = t->name;
        e.value = t->value.value_or("");
        out.entitlements.push_back(e);
      }
    }
  }
  // "do NOT use setConstraint(BaseConstraint), it trashes the description"
  if (c.has_name) out.constraint_name = c.name;
  return true;
}

// AccountPolicyExecutor: more than one account on an application (and instance) is a
// violation of the policy's first GenericConstraint. `accounts` are the stored links
// before the plan (evaluateUsingQuery) and the simulated ones after (evaluateUsingLinks).
void AccountPolicy(const PolicyObject& p, const std::vector<Account>& accounts, std::vector<Found>& out) {
  std::map<std::string, size_t> count;
  for (const auto& a : accounts) ++count[a.instance.empty() ? a.application : a.application + ":" + a.instance];
  const ConstraintObject* first = nullptr;
  size_t index = 0;
  for (size_t i = 0; i < p.constraints.size() && !first; ++i)
    if (p.constraints[i].kind == ConstraintObject::Kind::kGeneric) first = &p.constraints[index = i];
  for (const auto& [key, n] : count) {
    if (n < 2) continue;
    Found f;
    f.policy = &p;
    if (first) {
      f.constraint = index;
      f.constraint_id = first->id;
      if (first->has_name) f.constraint_name = first->name;
      f.description = first->description;
    }
    out.push_back(std::move(f));
  }
}

std::vector<Found> Evaluate(const Model& m, const PolicyObject& p, const State& st, const State& stored) {
  std::vector<Found> out;
  PolicyKind kind = KindOf(p);
  if (kind == PolicyKind::kAccount) {
    AccountPolicy(p, stored.accounts, out);
    return out;
  }
  // Risk: the scorecard does not change in a check. Activity: queried on the null id.
  if (kind != PolicyKind::kRoleSod && kind != PolicyKind::kEntitlementSod && kind != PolicyKind::kAdvanced) return out;
  HeldRoles held(m, st);
  for (size_t i = 0; i < p.constraints.size(); ++i) {
    const ConstraintObject& c = p.constraints[i];
    if (c.disabled) continue;
    Found f;
    f.policy = &p;
    f.constraint = i;
    f.constraint_id = c.id;
    bool fired = false;
    if (kind == PolicyKind::kRoleSod) {
      if (c.kind == ConstraintObject::Kind::kRoleSod) fired = RoleSod(m, c, held, f);
    } else if (c.kind == ConstraintObject::Kind::kGeneric) {
      fired = Generic(m, c, kind, st, f);
    }
    if (fired) out.push_back(std::move(f));
  }
  return out;
}

// PolicyViolation.isConstraintEqual: the constraint ids when both have one, else the
// constraint names when both have one, else not equal.
bool ConstraintEqual(const Found& a, const Found& b) {
  if (!a.constraint_id.empty() && !b.constraint_id.empty()) return a.constraint_id == b.constraint_id;
  return a.constraint_name && b.constraint_name && *a.constraint_name == *b.constraint_name;
}

// InterrogatorFacade.isConstraintUnchanged (4.2): bundle CSVs equal when both are
// non-null; violating entitlements equal ignoring order when both are non-null. An
// empty CSV / list is null in IdentityIQ (nothing was ever added).
bool Unchanged(const Found& pre, const Found& post) {
  bool wild = g_options.null_lists_match_anything;
  auto both = [&](const auto& a, const auto& b) { return !wild || (!a.empty() && !b.empty()); };
  if (both(pre.left, post.left) && pre.left != post.left) return false;
  if (both(pre.right, post.right) && pre.right != post.right) return false;
  if (both(pre.entitlements, post.entitlements)) {
    auto key = [](const RefEntitlement& e) {
      return std::make_tuple(e.application.has_value(), e.application.value_or(""), e.attribute, e.value);
    };
    std::vector<decltype(key(pre.entitlements[0]))> a, b;
    for (const auto& e : pre.entitlements) a.push_back(key(e));
    for (const auto& e : post.entitlements) b.push_back(key(e));
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) return false;
  }
  return true;
}

State StoredState(const Model& m, const IdentityObject& idn) {
  State st;
  for (const AccountObject& ao : idn.accounts) {
    Account a;
    a.application = ao.application;
    a.instance = ao.instance;
    a.native_identity = ao.native_identity;
    a.display_name = ao.display_name;
    if (!ao.permissions.empty()) throw Unsupported{"account permissions"};
    for (const AttributeObject& attr : ao.attributes) {
      if (attr.values.empty() && !attr.multi) continue;  // null
      auto it = a.attributes.find(attr.name);
      if (it != a.attributes.end()) {  // a repeated key: one multi-valued attribute
        it->second.list = true;
        it->second.values.insert(it->second.values.end(), attr.values.begin(), attr.values.end());
        continue;
      }
      a.attributes[attr.name] = Attr{{attr.values.begin(), attr.values.end()}, attr.multi || m.SchemaMulti(ao.application, attr.name).value_or(false)};
    }
    st.accounts.push_back(std::move(a));
  }
  st.assigned = Dedup(idn.assigned_roles, m);
  st.detected = Dedup(idn.detected_roles, m);
  for (const AttributeObject& attr : idn.attributes) {
    if (attr.values.empty() && !attr.multi) continue;  // null
    Attr& a = st.identity[attr.name];
    a.values.insert(a.values.end(), attr.values.begin(), attr.values.end());
    a.list = a.list || attr.multi;
    if (a.values.empty()) st.identity.erase(attr.name);
  }
  return st;
}

}  // namespace

RefResult ReferenceCheck(const SnapshotObjects& objects, const std::string& identity, const ProvisioningPlan& plan,
                         const std::optional<std::vector<std::string>>& policies, const RefOptions& options) {
  g_options = options;
  RefResult result;
  try {
    Model m(objects);
    bool any_active = false;
    for (const PolicyObject* p : m.policy_order) any_active = any_active || p->state == "Active";
    if (!any_active) return result;  // "anyPoliciesPresent" (4.2)

    // Policy selection (4.3).
    std::vector<const PolicyObject*> selected;
    if (!policies || policies->empty()) {
      for (const PolicyObject* p : m.policy_order)
        if (p->state == "Active") selected.push_back(p);
      std::stable_sort(selected.begin(), selected.end(),
                       [](const PolicyObject* a, const PolicyObject* b) { return a->name < b->name; });
    } else {
      for (const std::string& name : *policies) {
        if (auto it = m.policies.find(name); it != m.policies.end()) selected.push_back(it->second);
        else if (auto jt = m.policy_ids.find(name); jt != m.policy_ids.end()) selected.push_back(jt->second);
      }
    }

    auto idn = m.identities.find(identity);
    if (idn == m.identities.end()) throw RequestError{"unknown identity " + identity};

    // PRE: stored accounts plus the assigned roles re-provisioned; detected as stored.
    State stored = StoredState(m, *idn->second);
    State pre = stored;
    for (const std::string& r : pre.assigned) ApplyProvisions(m, pre, Expand(m, r));

    // POST: the plan applied to the pre state, then IT roles re-detected.
    State post = pre;
    PlanApplier(m, post).Apply(plan);
    post.detected = Detect(m, post);

    // getNewViolations: a post violation is new unless some pre violation (of any
    // checked policy) is constraint-equal to it and unchanged.
    std::vector<Found> before;
    for (const PolicyObject* p : selected) {
      std::vector<Found> v = Evaluate(m, *p, pre, stored);
      before.insert(before.end(), v.begin(), v.end());
    }
    for (const PolicyObject* p : selected) {
      for (const Found& v : Evaluate(m, *p, post, post)) {
        bool old = std::any_of(before.begin(), before.end(),
                               [&](const Found& b) { return ConstraintEqual(b, v) && Unchanged(b, v); });
        if (old) continue;
        RefViolation out;
        out.policy_name = p->name;
        out.policy_type = p->type;
        out.constraint_name = v.constraint_name;
        out.description = v.description;
        out.left_bundles = v.left;
        out.right_bundles = v.right;
        out.entitlements = v.entitlements;
        result.violations.push_back(std::move(out));
      }
    }
  } catch (const Unsupported& u) {
    result = RefResult{};
    result.unsupported = true;
    result.why = u.why;
  } catch (const RequestError& e) {
    result = RefResult{};
    result.error = true;
    result.why = e.why;
  }
  return result;
}

RefResult ReferenceCurrentViolations(const SnapshotObjects& objects, const std::string& identity,
                                     const std::optional<std::vector<std::string>>& policies,
                                     const RefOptions& options) {
  g_options = options;
  g_stored_identity = true;
  RefResult result;
  try {
    Model m(objects);
    bool any_active = false;
    for (const PolicyObject* p : m.policy_order) any_active = any_active || p->state == "Active";
    if (any_active) {
      std::vector<const PolicyObject*> selected;
      if (!policies || policies->empty()) {
        for (const PolicyObject* p : m.policy_order)
          if (p->state == "Active") selected.push_back(p);
        std::stable_sort(selected.begin(), selected.end(),
                         [](const PolicyObject* a, const PolicyObject* b) { return a->name < b->name; });
      } else {
        for (const std::string& name : *policies) {
          if (auto it = m.policies.find(name); it != m.policies.end()) selected.push_back(it->second);
          else if (auto jt = m.policy_ids.find(name); jt != m.policy_ids.end()) selected.push_back(jt->second);
        }
      }
      auto idn = m.identities.find(identity);
      if (idn == m.identities.end()) throw RequestError{"unknown identity " + identity};
      // The check's PRE state: stored accounts plus the assigned roles re-provisioned.
      State stored = StoredState(m, *idn->second);
      State pre = stored;
      for (const std::string& r : pre.assigned) ApplyProvisions(m, pre, Expand(m, r));
      for (const PolicyObject* p : selected) {
        for (const Found& v : Evaluate(m, *p, pre, stored)) {
          RefViolation out;
          out.policy_name = p->name;
          out.policy_type = p->type;
          out.constraint_name = v.constraint_name;
          out.description = v.description;
          out.left_bundles = v.left;
          out.right_bundles = v.right;
          out.entitlements = v.entitlements;
          result.violations.push_back(std::move(out));
        }
      }
    }
  } catch (const Unsupported& u) {
    result = RefResult{};
    result.unsupported = true;
    result.why = u.why;
  } catch (const RequestError& e) {
    result = RefResult{};
    result.error = true;
    result.why = e.why;
  }
  g_stored_identity = false;
  return result;
}

std::string FormatViolations(const std::vector<RefViolation>& violations) {
  std::ostringstream os;
  if (violations.empty()) os << "  (none)\n";
  for (const auto& v : violations) {
    os << "  " << v.policy_name << " [" << v.policy_type << "] / " << v.constraint_name.value_or("(null)");
    if (v.description) os << " (\"" << *v.description << "\")";
    os << "\n    left=[";
    for (size_t i = 0; i < v.left_bundles.size(); ++i) os << (i ? "," : "") << v.left_bundles[i];
    os << "] right=[";
    for (size_t i = 0; i < v.right_bundles.size(); ++i) os << (i ? "," : "") << v.right_bundles[i];
    os << "] entitlements=[";
    for (size_t i = 0; i < v.entitlements.size(); ++i) {
      const auto& e = v.entitlements[i];
      os << (i ? " " : "") << (e.application ? *e.application : "null") << ":" << e.attribute << "=" << e.value;
    }
    os << "]\n";
  }
  return os.str();
}

}  // namespace preflight::reference
