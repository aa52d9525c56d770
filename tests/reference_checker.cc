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

bool ProfilesMatch(const RoleObject& r, const State& st) {
  if (r.profiles.empty()) return false;
  bool any = false, all = true;
  for (const auto& p : r.profiles) {
    bool matched = false;
    for (const Account& acc : st.accounts) {
      if (acc.application != p.application) continue;
      bool ok = true;
      for (const auto& f : p.constraints) ok = ok && FilterMatches(f, acc.attributes);
      if (ok) matched = true;
    }
    any = any || matched;
    all = all && matched;
  }
  return r.or_profiles ? any : all;
}

bool Detectable(const RoleObject& r) {
  if (r.type == "business" || r.type == "organizational") return false;
  if (r.profiles.empty()) return false;
  for (const auto& p : r.profiles)
    if (p.application.empty()) return false;
  return true;
}

// A super matches when it has no profiles, is disabled, or its profiles match; and
// its own supers match too (bottom-up correlation).
bool SuperMatches(const Model& m, const std::string& name, const State& st, std::set<std::string>& path) {
  const RoleObject* r = m.Role(name);
  if (!r) return true;
  if (!path.insert(name).second) return true;  // inheritance cycle: do not loop
  bool ok = r->disabled || r->profiles.empty() || ProfilesMatch(*r, st);
  for (const auto& up : r->inheritance) ok = ok && SuperMatches(m, up, st, path);
  path.erase(name);
  return ok;
}

// The post step's detection: every detectable role, no index. Roles detected before
// keep their order; newly detected ones follow in snapshot order.
std::vector<std::string> Detect(const Model& m, const State& st) {
  std::set<std::string> now;
  for (const std::string& name : m.role_order) {
    const RoleObject& r = *m.Role(name);
    if (!Detectable(r) || r.disabled || !ProfilesMatch(r, st)) continue;
    bool ok = true;
    std::set<std::string> path{name};
    for (const auto& up : r.inheritance)
      if (up != name) ok = ok && SuperMatches(m, up, st, path);
    if (ok) now.insert(name);
  }
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
      if (ar.name != "assignedRoles" && ar.name != "detectedRoles") continue;
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

// ---- Policies (1.4-1.6).

enum class PolicyKind { kRoleSod, kEntitlementSod, kAdvanced, kOther };

PolicyKind KindOf(const PolicyObject& p) {
  const std::string& e = p.executor;
  if (EndsWith(e, "EffectiveEntitlementSODPolicyExecutor") || (e.empty() && p.type == "EffectiveEntitlementSOD"))
    return PolicyKind::kOther;
  if (EndsWith(e, ".SODPolicyExecutor") || (e.empty() && p.type == "SOD")) return PolicyKind::kRoleSod;
  if (EndsWith(e, ".EntitlementSODPolicyExecutor") || (e.empty() && p.type == "EntitlementSOD"))
    return PolicyKind::kEntitlementSod;
  if (EndsWith(e, ".GenericPolicyExecutor") || (e.empty() && p.type == "Advanced")) return PolicyKind::kAdvanced;
  return PolicyKind::kOther;
}

struct Found {
  size_t constraint = 0;
  std::vector<std::string> left, right;
  std::vector<RefEntitlement> entitlements;
};

// Held roles with origins: detected then assigned, each closed upward over inheritance.
std::map<std::string, std::vector<std::string>> HeldRoles(const Model& m, const State& st) {
  std::map<std::string, std::vector<std::string>> held;
  auto add = [&](const std::string& role, const std::string& origin) {
    auto& o = held[role];
    if (std::find(o.begin(), o.end(), origin) == o.end()) o.push_back(origin);
  };
  auto flatten = [&](const std::vector<std::string>& roles) {
    for (const std::string& h : roles) {
      if (!m.Role(h)) continue;
      std::set<std::string> seen;
      std::vector<std::string> stack{h};
      while (!stack.empty()) {
        std::string r = stack.back();
        stack.pop_back();
        if (!seen.insert(r).second) continue;
        add(r, h);
        if (const RoleObject* ro = m.Role(r))
          for (const auto& up : ro->inheritance) stack.push_back(up);
      }
    }
  };
  flatten(st.detected);
  flatten(st.assigned);
  return held;
}

std::vector<std::string> Dedup(const std::vector<std::string>& names, const Model& m) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (m.Role(n) && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

bool RoleSod(const Model& m, const ConstraintObject& c, const std::map<std::string, std::vector<std::string>>& held,
             Found& out) {
  std::vector<std::string> left = Dedup(c.left_roles, m), right = Dedup(c.right_roles, m);
  if (left.empty() || right.empty()) return false;
  auto holds = [&](const std::string& r) { return held.count(r) > 0; };
  if (!std::any_of(left.begin(), left.end(), holds) || !std::any_of(right.begin(), right.end(), holds)) return false;
  auto add_all = [](std::vector<std::string>& list, const std::vector<std::string>& items) {
    for (const auto& i : items)
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
  };
  for (const auto& l : left) {
    if (!holds(l)) continue;
    for (const auto& r : right) {
      if (!holds(r) || r == l) continue;
      add_all(out.left, held.at(l));
      add_all(out.right, held.at(r));
    }
  }
  return true;
}

struct TermResult {
  bool match = false;
  std::vector<const MatchTermObject*> leaves;  // matched leaves, once per matching account
};

TermResult Terms(const std::vector<MatchTermObject>& terms, bool and_op, const std::string& default_app,
                 const State& st);

TermResult Term(const MatchTermObject& t, const std::string& default_app, const State& st) {
  if (t.container) return Terms(t.children, t.and_op, default_app, st);
  if (!(t.type.empty() || t.type == "Entitlement")) throw Unsupported{"match term type " + t.type};
  if (t.negative) throw Unsupported{"negative match term"};
  if (t.check_effective) throw Unsupported{"checkEffective"};
  std::string app = t.application.empty() ? default_app : t.application;
  if (app.empty()) throw Unsupported{"identity attribute term"};
  TermResult r;
  // Every account of the identity on that application; the term is listed once per
  // account it matches on (1.5).
  for (const Account& a : st.accounts) {
    if (a.application != app) continue;
    auto it = a.attributes.find(t.name);
    bool present = it != a.attributes.end() && !it->second.values.empty();
    bool m = !t.value ? !present
                      : present && std::find(it->second.values.begin(), it->second.values.end(), *t.value) !=
                                       it->second.values.end();
    if (m) r.leaves.push_back(&t);
  }
  r.match = !r.leaves.empty();
  return r;
}

TermResult Terms(const std::vector<MatchTermObject>& terms, bool and_op, const std::string& default_app,
                 const State& st) {
  TermResult out;
  if (terms.empty()) return out;  // an expression with no terms is false
  out.match = and_op;
  for (const auto& t : terms) {
    TermResult r = Term(t, default_app, st);
    if (and_op && !r.match) return TermResult{};  // a failed AND contributes nothing
    if (r.match) {
      out.match = true;
      out.leaves.insert(out.leaves.end(), r.leaves.begin(), r.leaves.end());
    }
  }
  return out;
}

bool Generic(const ConstraintObject& c, PolicyKind kind, const State& st, Found& out) {
  if (c.selectors.empty() || c.selectors.size() > 2) return false;  // "Invalid constraint"
  for (const auto& s : c.selectors)
    if (!s.unsupported.empty() || s.has_compound_filter) throw Unsupported{"selector part"};
  std::vector<RefEntitlement> ents;
  for (const auto& s : c.selectors) {
    if (!s.has_match_expression) return false;
    TermResult r = Terms(s.terms, s.match_and, s.match_application, st);
    if (!r.match) return false;
    for (const MatchTermObject* t : r.leaves) {
      RefEntitlement e;
      if (!t->application.empty()) e.application = t->application;  // an inherited app is reported as null
      e.attribute = t->name;
      e.value = t->value.value_or("");
      ents.push_back(e);
    }
  }
  if (kind == PolicyKind::kEntitlementSod) out.entitlements = ents;
  return true;
}

std::vector<Found> Evaluate(const Model& m, const PolicyObject& p, const State& st) {
  std::vector<Found> out;
  PolicyKind kind = KindOf(p);
  if (kind == PolicyKind::kOther) return out;
  auto held = HeldRoles(m, st);
  for (size_t i = 0; i < p.constraints.size(); ++i) {
    const ConstraintObject& c = p.constraints[i];
    if (c.disabled) continue;
    Found f;
    f.constraint = i;
    bool fired = false;
    if (c.kind == ConstraintObject::Kind::kRoleSod) fired = RoleSod(m, c, held, f);
    else if (c.kind == ConstraintObject::Kind::kGeneric) fired = Generic(c, kind, st, f);
    if (fired) out.push_back(std::move(f));
  }
  return out;
}

// InterrogatorFacade.isConstraintUnchanged (4.2): same constraint; bundle CSVs equal
// when both are non-null; violating entitlements equal ignoring order when both are
// non-null. An empty CSV / list is null in IdentityIQ (nothing was ever added).
bool Unchanged(const Found& pre, const Found& post) {
  if (pre.constraint != post.constraint) return false;
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
      a.attributes[attr.name] = Attr{attr.values, attr.multi || m.SchemaMulti(ao.application, attr.name).value_or(false)};
    }
    st.accounts.push_back(std::move(a));
  }
  st.assigned = Dedup(idn.assigned_roles, m);
  st.detected = Dedup(idn.detected_roles, m);
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
    State pre = StoredState(m, *idn->second);
    for (const std::string& r : pre.assigned) ApplyProvisions(m, pre, Expand(m, r));

    // POST: the plan applied to the pre state, then IT roles re-detected.
    State post = pre;
    PlanApplier(m, post).Apply(plan);
    post.detected = Detect(m, post);

    for (const PolicyObject* p : selected) {
      std::vector<Found> before = Evaluate(m, *p, pre);
      std::vector<Found> after = Evaluate(m, *p, post);
      for (const Found& v : after) {
        bool old = std::any_of(before.begin(), before.end(), [&](const Found& b) { return Unchanged(b, v); });
        if (old) continue;
        const ConstraintObject& c = p->constraints[v.constraint];
        RefViolation out;
        out.policy_name = p->name;
        out.policy_type = p->type;
        out.constraint_name = c.name;
        if (c.kind == ConstraintObject::Kind::kRoleSod) {
          if (!c.has_name) {
            auto join = [](const std::vector<std::string>& v) {
              std::string s;
              for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
              return s;
            };
            out.constraint_name = join(c.left_roles) + " : " + join(c.right_roles);
          }
          out.description = c.description;
        }
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

std::string FormatViolations(const std::vector<RefViolation>& violations) {
  std::ostringstream os;
  if (violations.empty()) os << "  (none)\n";
  for (const auto& v : violations) {
    os << "  " << v.policy_name << " [" << v.policy_type << "] / " << v.constraint_name;
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
