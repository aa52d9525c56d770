#include "tests/random_snapshot.h"
#include "tests/image_roundtrip.h"

#include <algorithm>
#include <sstream>

namespace preflight::testing {

uint32_t SeededChoices::Below(uint32_t n) {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return n == 0 ? 0 : static_cast<uint32_t>(z % n);
}

namespace {

// Attribute vocabulary shared by all applications: small pools so that profiles,
// constraints, accounts and plans keep colliding.
struct AttrSpec {
  const char* name;
  bool multi;
  std::vector<std::string> values;
};
const std::vector<AttrSpec>& Vocabulary() {
  static const std::vector<AttrSpec> v = {
      {"groups", true, {"g0", "g1", "g2", "g3", "g4", "G1"}},
      {"roles", true, {"r0", "r1", "r2"}},
      {"level", false, {"L1", "L2", "L3"}},
      {"region", false, {"eu", "us"}},
  };
  return v;
}
const AttrSpec& MultiAttr(Choices& c) { return Vocabulary()[c.Below(2)]; }
const AttrSpec& SingleAttr(Choices& c) { return Vocabulary()[2 + c.Below(2)]; }
const AttrSpec& AnyAttr(Choices& c) { return Vocabulary()[c.Below(4)]; }

const std::vector<std::string> kDepartments = {"Finance", "IT", "Sales"};

class Generator {
 public:
  explicit Generator(Choices& c) : c_(c) {}

  RandomCase Run() {
    Applications();
    Roles();
    Identities();
    Populations();
    Policies();
    RandomCase out;
    out.identity = c_.Pick(identity_names_);
    if (c_.Percent(3)) out.identity = "nobody";
    const IdentityObject* target = nullptr;
    for (const auto& i : objects_.identities)
      if (i.name == out.identity) target = &i;
    out.plan = Plan(target);
    uint32_t p = c_.Below(100);
    if (p < 70) {
      // absent: every active policy
    } else if (p < 75) {
      out.policies = std::vector<std::string>{};
    } else {
      std::vector<std::string> names;
      uint32_t n = c_.Range(1, 3);
      for (uint32_t i = 0; i < n; ++i) {
        if (c_.Percent(10)) names.push_back("NoSuchPolicy");
        else names.push_back(c_.Pick(policy_names_));
      }
      out.policies = names;
    }
    out.objects = std::move(objects_);
    return out;
  }

 private:
  bool HasSchema(const std::string& app) const {
    for (const auto& a : objects_.applications)
      if (a.name == app) return a.has_account_schema;
    return false;
  }

  void Applications() {
    uint32_t n = c_.Range(3, 5);
    for (uint32_t i = 0; i < n; ++i) {
      ApplicationObject a;
      a.name = "App" + std::to_string(i);
      a.case_insensitive = c_.Percent(25);
      a.has_account_schema = c_.Percent(80);
      if (a.has_account_schema) {
        a.identity_attribute = "id";
        a.account_schema.push_back({"id", false, false});
        for (const auto& s : Vocabulary()) a.account_schema.push_back({s.name, s.multi, s.multi});
      }
      app_names_.push_back(a.name);
      objects_.applications.push_back(std::move(a));
    }
  }

  FilterObject Leaf(const std::string& app) {
    FilterObject f;
    // EQ only on single-valued schema attributes (the way profiles are written);
    // CONTAINS_ALL on multi-valued ones, and on everything without a schema.
    bool eq = HasSchema(app) && c_.Percent(35);
    const AttrSpec& spec = eq ? SingleAttr(c_) : MultiAttr(c_);
    f.property = spec.name;
    if (c_.Percent(3)) f.property = "extra";  // not in the schema: provisioning drops it
    f.has_value = true;
    if (eq) {
      f.op = "EQ";
      f.values = {c_.Pick(spec.values)};
    } else {
      f.op = "CONTAINS_ALL";
      f.value_is_list = true;
      f.values = {c_.Pick(spec.values)};
      if (c_.Percent(25)) {
        std::string v = c_.Pick(spec.values);
        if (v != f.values[0]) f.values.push_back(v);
      }
    }
    return f;
  }

  void Roles() {
    // Now and then the role types come from an ObjectConfig Bundle that adds a type
    // detected only when assigned, required or permitted (noDetectionUnlessAssigned).
    bool assigned_only = c_.Percent(25);
    if (assigned_only) {
      objects_.role_types = {{"organizational", true, true, true, false}, {"business", true, false, false, false},
                             {"it", false, true, true, false}, {"entitlement", false, true, true, false},
                             {"assignedOnly", false, true, true, true}};
    }
    uint32_t n = c_.Range(5, 30);
    std::vector<std::string> it, biz;
    for (uint32_t i = 0; i < n; ++i) {
      RoleObject r;
      bool is_it = i < 2 || c_.Percent(55);
      r.disabled = c_.Percent(10);
      if (is_it) {
        r.name = "IT" + std::to_string(i);
        // Typed as IdentityIQ ships them, or untyped / of a type the snapshot does not
        // define (no RoleTypeDefinition: detectable, not assignable).
        uint32_t type = c_.Below(100);
        r.type = type < 80 ? "it" : type < 88 ? "entitlement" : type < 94 ? "" : "application";
        if (assigned_only && c_.Percent(30)) r.type = "assignedOnly";
        uint32_t profiles = c_.Percent(80) ? 1 : 2;
        if (c_.Percent(4)) profiles = 0;  // never detected, only assigned
        r.or_profiles = profiles == 2 && c_.Percent(50);
        for (uint32_t p = 0; p < profiles; ++p) {
          ProfileObject po;
          po.application = c_.Pick(app_names_);
          uint32_t leaves = c_.Range(1, 3);
          for (uint32_t l = 0; l < leaves; ++l) {
            if (c_.Percent(10)) {
              FilterObject orf;
              orf.op = "OR";
              orf.children = {Leaf(po.application), Leaf(po.application)};
              po.constraints.push_back(std::move(orf));
            } else {
              po.constraints.push_back(Leaf(po.application));
            }
          }
          r.profiles.push_back(std::move(po));
        }
        // Chains and diamonds build up (most specific detection, origin chains); now and
        // then an IT role inherits a business role.
        if (!it.empty() && c_.Percent(40)) r.inheritance.push_back(c_.Pick(it));
        if (!it.empty() && c_.Percent(10)) {
          std::string second = c_.Pick(it);
          if (std::find(r.inheritance.begin(), r.inheritance.end(), second) == r.inheritance.end())
            r.inheritance.push_back(second);
        }
        if (!biz.empty() && c_.Percent(5)) r.inheritance.push_back(c_.Pick(biz));
        it.push_back(r.name);
      } else {
        r.name = "Biz" + std::to_string(i);
        r.type = c_.Percent(90) ? "business" : "organizational";
        if (!it.empty()) {
          uint32_t k = c_.Range(c_.Percent(10) ? 0 : 1, 3);
          for (uint32_t j = 0; j < k; ++j) {
            std::string req = c_.Pick(it);
            if (std::find(r.requirements.begin(), r.requirements.end(), req) == r.requirements.end())
              r.requirements.push_back(req);
          }
          if (c_.Percent(10)) r.permits.push_back(c_.Pick(it));
        }
        if (!biz.empty() && c_.Percent(30)) r.inheritance.push_back(c_.Pick(biz));
        biz.push_back(r.name);
      }
      role_names_.push_back(r.name);
      objects_.roles.push_back(std::move(r));
    }
    it_names_ = it;
    biz_names_ = biz;
  }

  std::vector<std::string> SomeRoles(uint32_t max, const std::vector<std::string>& pool) {
    std::vector<std::string> out;
    if (pool.empty()) return out;
    uint32_t k = c_.Range(0, max);
    for (uint32_t i = 0; i < k; ++i) {
      std::string r = c_.Pick(pool);
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
    return out;
  }

  const RoleObject* FindRole(const std::string& name) const {
    for (const auto& r : objects_.roles)
      if (r.name == name) return &r;
    return nullptr;
  }

  AttributeObject RandomAttribute(const std::string& app) {
    const AttrSpec& spec = AnyAttr(c_);
    AttributeObject a;
    a.name = spec.name;
    a.multi = spec.multi;
    uint32_t k = spec.multi ? c_.Range(1, 3) : 1;
    for (uint32_t i = 0; i < k; ++i) {
      std::string v = c_.Pick(spec.values);
      if (std::find(a.values.begin(), a.values.end(), v) == a.values.end()) a.values.push_back(v);
    }
    (void)app;
    return a;
  }

  void Identities() {
    // ObjectConfig Identity: department single-valued, tags multi-valued (location is
    // not defined: requests for it are ignored).
    if (c_.Percent(60)) {
      objects_.has_identity_config = true;
      objects_.identity_attributes = {{"department", false}, {"tags", true}};
    }
    uint32_t n = c_.Range(1, 5);
    for (uint32_t i = 0; i < n; ++i) {
      IdentityObject idn;
      idn.name = "user" + std::to_string(i);
      if (c_.Percent(50)) idn.attributes.push_back({"department", {c_.Pick(kDepartments)}, false});
      if (c_.Percent(30)) idn.attributes.push_back({"tags", {c_.Pick(kDepartments), c_.Pick(kDepartments)}, true});
      if (c_.Percent(20)) idn.attributes.push_back({"location", {"HQ"}, false});
      uint32_t accounts = c_.Range(0, 3);
      for (uint32_t a = 0; a < accounts; ++a) {
        AccountObject acc;
        acc.application = c_.Pick(app_names_);
        acc.native_identity = "Acct" + std::to_string(i) + "_" + std::to_string(a);
        if (c_.Percent(30)) acc.display_name = "Disp" + std::to_string(i) + "_" + std::to_string(a);
        uint32_t attrs = c_.Range(0, 3);
        for (uint32_t k = 0; k < attrs; ++k) {
          AttributeObject attr = RandomAttribute(acc.application);
          bool dup = false;
          for (const auto& x : acc.attributes) dup = dup || x.name == attr.name;
          if (!dup) acc.attributes.push_back(std::move(attr));
        }
        idn.accounts.push_back(std::move(acc));
      }
      // Assigned: mostly business roles, sometimes an IT role directly.
      idn.assigned_roles = SomeRoles(2, biz_names_);
      if (c_.Percent(15) && !it_names_.empty()) {
        std::string r = c_.Pick(it_names_);
        if (std::find(idn.assigned_roles.begin(), idn.assigned_roles.end(), r) == idn.assigned_roles.end())
          idn.assigned_roles.push_back(r);
      }
      // Provision some of the assigned roles' entitlements, as a refresh would have.
      if (c_.Percent(50)) {
        for (const auto& name : idn.assigned_roles) {
          const RoleObject* r = FindRole(name);
          if (!r) continue;
          for (const auto& req : r->requirements) {
            const RoleObject* it = FindRole(req);
            if (!it || it->profiles.empty() || c_.Percent(30)) continue;
            const ProfileObject& p = it->profiles.front();
            AccountObject* acc = nullptr;
            for (auto& a : idn.accounts)
              if (a.application == p.application) acc = &a;
            if (!acc) {
              AccountObject a;
              a.application = p.application;
              a.native_identity = "Prov" + std::to_string(i) + "_" + std::to_string(idn.accounts.size());
              idn.accounts.push_back(std::move(a));
              acc = &idn.accounts.back();
            }
            for (const auto& f : p.constraints) {
              if (f.op != "EQ" && f.op != "CONTAINS_ALL") continue;
              AttributeObject* attr = nullptr;
              for (auto& x : acc->attributes)
                if (x.name == f.property) attr = &x;
              if (!attr) {
                acc->attributes.push_back({f.property, {}, f.op == "CONTAINS_ALL"});
                attr = &acc->attributes.back();
              }
              for (const auto& v : f.values) {
                if (!attr->multi) attr->values.clear();
                if (std::find(attr->values.begin(), attr->values.end(), v) == attr->values.end())
                  attr->values.push_back(v);
              }
            }
          }
        }
      }
      // Detected: plausible (the assigned roles' required IT roles) or deliberately off.
      if (c_.Percent(60)) {
        for (const auto& name : idn.assigned_roles)
          if (const RoleObject* r = FindRole(name))
            for (const auto& req : r->requirements)
              if (std::find(idn.detected_roles.begin(), idn.detected_roles.end(), req) == idn.detected_roles.end() &&
                  c_.Percent(70))
                idn.detected_roles.push_back(req);
      } else {
        idn.detected_roles = SomeRoles(3, role_names_);
      }
      identity_names_.push_back(idn.name);
      objects_.identities.push_back(std::move(idn));
    }
  }

  MatchTermObject Term(bool allow_container, bool own_app, bool identity = false) {
    MatchTermObject t;
    if (allow_container && c_.Percent(10)) {
      t.container = true;
      t.and_op = c_.Percent(50);
      t.children = {Term(false, true), Term(false, true)};
      return t;
    }
    t.negative = c_.Percent(10);
    if (identity && c_.Percent(80)) {
      // No application anywhere: an identity attribute.
      t.name = c_.Percent(70) ? "department" : "tags";
      t.value = c_.Pick(kDepartments);
      if (c_.Percent(5)) t.value.reset();
      return t;
    }
    if (own_app) t.application = c_.Pick(app_names_);
    if (c_.Percent(10)) t.type = "Entitlement";
    const AttrSpec& spec = AnyAttr(c_);
    t.name = spec.name;
    t.value = c_.Pick(spec.values);
    return t;
  }

  SelectorObject Selector() {
    SelectorObject s;
    s.has_match_expression = true;
    if (c_.Percent(25)) {
      // Several positive entitlement values on applications: a selector the constraint
      // table's value gates decide (engine/policy/constraint_table.h).
      s.match_and = c_.Percent(20);
      uint32_t n = c_.Range(2, 4);
      for (uint32_t i = 0; i < n; ++i) {
        s.terms.push_back(Term(false, true));
        s.terms.back().negative = false;
      }
      return s;
    }
    s.match_and = c_.Percent(30);
    bool default_app = c_.Percent(15);
    bool identity_terms = !default_app && c_.Percent(30);  // leaves without any application
    if (default_app) s.match_application = c_.Pick(app_names_);
    uint32_t n = c_.Range(1, 3);
    for (uint32_t i = 0; i < n; ++i) s.terms.push_back(Term(true, !identity_terms && (!default_app || c_.Percent(30)), identity_terms));
    if (c_.Percent(10)) {
      // A population: one of the snapshot's (with or without a filter) or an unknown one.
      s.population = population_names_.empty() || c_.Percent(20) ? "NoSuchPopulation" : c_.Pick(population_names_);
      if (c_.Percent(30)) {
        s.has_match_expression = false;
        s.terms.clear();
      }
    }
    return s;
  }

  void Populations() {
    uint32_t n = c_.Range(0, 2);
    for (uint32_t i = 0; i < n; ++i) {
      GroupDefinitionObject g;
      g.name = "Pop" + std::to_string(i);
      if (c_.Percent(75)) {
        FilterObject f;
        f.op = "EQ";
        f.property = "department";
        f.has_value = true;
        f.values = {c_.Percent(50) ? "Finance" : "IT"};
        g.filter = f;
      }
      population_names_.push_back(g.name);
      objects_.populations.push_back(std::move(g));
    }
  }

  // Constraint names: fresh, or now and then one already used (PolicyViolation
  // .isConstraintEqual compares names when a constraint has no id).
  std::string ConstraintName() {
    if (!constraint_names_.empty() && c_.Percent(8)) return c_.Pick(constraint_names_);
    constraint_names_.push_back("c" + std::to_string(constraint_names_.size()));
    return constraint_names_.back();
  }

  void Policies() {
    static const char* kNames[] = {"Zeta SOD", "Alpha Ent", "Mu Policy", "Beta Adv", "Omega", "Gamma"};
    uint32_t n = c_.Range(1, 4);
    for (uint32_t i = 0; i < n; ++i) {
      PolicyObject p;
      p.name = std::string(kNames[c_.Below(6)]) + " " + std::to_string(i);
      p.id = "pid" + std::to_string(i);
      p.state = c_.Percent(85) ? "Active" : "Inactive";
      bool ids = c_.Percent(30);  // exported with constraint ids
      auto id = [&](ConstraintObject& co) {
        if (ids) co.id = "cid" + std::to_string(next_constraint_id_++);
      };
      uint32_t kind = c_.Below(20);
      uint32_t k = c_.Range(1, 3);
      if (kind >= 17) {
        // AccountPolicyExecutor's policy: one GenericConstraint that only names the rule;
        // Risk and Activity policies: nothing a check can change.
        uint32_t which = kind == 17 || kind == 18 ? 0 : c_.Below(2) + 1;
        p.type = which == 0 ? "Account" : which == 1 ? "Risk" : "Activity";
        p.executor = std::string("sailpoint.policy.") + p.type + "PolicyExecutor";
        if (which == 0 && c_.Percent(90)) {
          ConstraintObject co;
          co.kind = ConstraintObject::Kind::kGeneric;
          co.has_name = c_.Percent(85);
          if (co.has_name) co.name = c_.Percent(70) ? "Multiple Application Accounts" : ConstraintName();
          if (c_.Percent(40)) co.description = "one account per application";
          id(co);
          p.constraints.push_back(std::move(co));
        }
        policy_names_.push_back(p.name);
        objects_.policies.push_back(std::move(p));
        continue;
      }
      if (kind < 10) {
        p.type = "SOD";
        p.executor = "sailpoint.policy.SODPolicyExecutor";
        for (uint32_t j = 0; j < k; ++j) {
          ConstraintObject co;
          co.kind = ConstraintObject::Kind::kRoleSod;
          co.has_name = c_.Percent(85);
          if (co.has_name) co.name = ConstraintName();
          if (c_.Percent(50)) co.description = "why " + std::to_string(j);
          id(co);
          co.disabled = c_.Percent(10);
          if (c_.Percent(15)) {
            // The same role(s) on both sides (SSB Role-SOD).
            co.left_roles = SomeRoles(2, role_names_);
            if (co.left_roles.empty()) co.left_roles.push_back(c_.Pick(role_names_));
            co.right_roles = co.left_roles;
            std::reverse(co.right_roles.begin(), co.right_roles.end());
          } else {
            // Sometimes wide (more roles in all than ConstraintTable::kInlineRoles).
            uint32_t nl = c_.Range(1, 4), nr = c_.Range(1, 3);
            for (uint32_t x = 0; x < nl; ++x) {
              std::string r = c_.Pick(role_names_);
              if (std::find(co.left_roles.begin(), co.left_roles.end(), r) == co.left_roles.end())
                co.left_roles.push_back(r);
            }
            for (uint32_t x = 0; x < nr; ++x) {
              std::string r = c_.Pick(role_names_);
              if (std::find(co.right_roles.begin(), co.right_roles.end(), r) == co.right_roles.end())
                co.right_roles.push_back(r);
            }
          }
          p.constraints.push_back(std::move(co));
        }
      } else {
        bool advanced = kind >= 15;
        p.type = advanced ? "Advanced" : "EntitlementSOD";
        p.executor = advanced ? "sailpoint.policy.GenericPolicyExecutor" : "sailpoint.policy.EntitlementSODPolicyExecutor";
        for (uint32_t j = 0; j < k; ++j) {
          ConstraintObject co;
          co.kind = ConstraintObject::Kind::kGeneric;
          co.has_name = c_.Percent(92);
          if (co.has_name) co.name = ConstraintName();
          id(co);
          co.disabled = c_.Percent(10);
          co.selectors.push_back(Selector());
          if (!advanced || c_.Percent(20)) co.selectors.push_back(Selector());
          p.constraints.push_back(std::move(co));
        }
      }
      policy_names_.push_back(p.name);
      objects_.policies.push_back(std::move(p));
    }
  }

  Value RandomValue(const AttrSpec& spec) {
    if (spec.multi && c_.Percent(35)) {
      Value v = Value::List();
      uint32_t k = c_.Range(1, 2);
      for (uint32_t i = 0; i < k; ++i) v.list.push_back(Value::String(c_.Pick(spec.values)));
      return v;
    }
    return Value::String(c_.Pick(spec.values));
  }

  // A nativeIdentity that finds an existing account (exactly, in another case, by
  // display name), or a new one, or none (the first account).
  std::optional<std::string> Native(const IdentityObject* target, const std::string& app, bool allow_null) {
    std::vector<const AccountObject*> existing;
    if (target)
      for (const auto& a : target->accounts)
        if (a.application == app) existing.push_back(&a);
    uint32_t p = c_.Below(100);
    if (allow_null && p < 30) return std::nullopt;
    if (!existing.empty() && p < 80) {
      const AccountObject* a = c_.Pick(existing);
      if (!a->display_name.empty() && c_.Percent(20)) return a->display_name;
      std::string s = a->native_identity;
      if (c_.Percent(30))
        for (char& ch : s) ch = static_cast<char>(std::islower(static_cast<unsigned char>(ch)) ? std::toupper(ch) : std::tolower(ch));
      return s;
    }
    return "New" + std::to_string(c_.Below(3));
  }

  ProvisioningPlan Plan(const IdentityObject* target) {
    ProvisioningPlan plan;
    uint32_t n = c_.Range(1, 4);
    for (uint32_t i = 0; i < n; ++i) {
      AccountRequest req;
      uint32_t kind = c_.Below(100);
      if (kind < 40) {
        req.application = c_.Pick(app_names_);
        if (c_.Percent(50)) req.op = AccountOp::kModify;
        req.native_identity = Native(target, *req.application, true);
        uint32_t k = c_.Range(1, 2);
        for (uint32_t j = 0; j < k; ++j) {
          AttributeRequest ar;
          const AttrSpec& spec = AnyAttr(c_);
          ar.name = spec.name;
          uint32_t op = c_.Below(100);
          ar.op = op < 50 ? AttributeOp::kAdd : op < 75 ? AttributeOp::kRemove : op < 90 ? AttributeOp::kSet
                                                                                       : AttributeOp::kRetain;
          if (c_.Percent(5)) ar.op = std::nullopt;  // Set
          ar.value = RandomValue(spec);
          if (c_.Percent(4)) ar.name = "extra";  // dropped where the schema does not define it
          if (c_.Percent(3)) {
            ar.name = "id";  // the identity attribute renames the account
            ar.value = Value::String("Renamed" + std::to_string(j));
          }
          req.attributes.push_back(std::move(ar));
        }
      } else if (kind < 70) {
        req.application = "IIQ";
        req.op = AccountOp::kModify;
        AttributeRequest ar;
        ar.name = c_.Percent(5) ? "detectedRoles" : "assignedRoles";
        uint32_t op = c_.Below(100);
        ar.op = op < 65 ? AttributeOp::kAdd : op < 93 ? AttributeOp::kRemove : AttributeOp::kSet;
        std::vector<std::string> roles;
        if (ar.op == AttributeOp::kRemove && target && !target->assigned_roles.empty() && c_.Percent(75))
          roles.push_back(c_.Pick(target->assigned_roles));
        else
          roles.push_back(c_.Percent(70) && !biz_names_.empty() ? c_.Pick(biz_names_) : c_.Pick(role_names_));
        if (c_.Percent(20)) roles.push_back(c_.Pick(role_names_));
        if (roles.size() == 1 && c_.Percent(70)) {
          ar.value = Value::String(roles[0]);
        } else {
          ar.value = Value::List();
          for (const auto& r : roles) ar.value.list.push_back(Value::String(r));
        }
        req.attributes.push_back(std::move(ar));
      } else if (kind < 80) {
        // Identity attributes on the IIQ application (IIQEvaluator.processIdentityAttribute).
        req.application = "IIQ";
        req.op = AccountOp::kModify;
        uint32_t k = c_.Range(1, 2);
        for (uint32_t j = 0; j < k; ++j) {
          AttributeRequest ar;
          uint32_t which = c_.Below(10);
          ar.name = which < 5 ? "department" : which < 8 ? "tags" : which < 9 ? "location" : "capabilities";
          uint32_t op = c_.Below(100);
          if (op < 45) ar.op = AttributeOp::kSet;
          else if (op < 70) ar.op = AttributeOp::kAdd;
          else if (op < 90) ar.op = AttributeOp::kRemove;
          else if (op < 95) ar.op = AttributeOp::kRetain;
          if (c_.Percent(30)) {
            ar.value = Value::List();
            uint32_t m = c_.Range(1, 2);
            for (uint32_t x = 0; x < m; ++x) ar.value.list.push_back(Value::String(c_.Pick(kDepartments)));
          } else {
            ar.value = Value::String(c_.Pick(kDepartments));
          }
          req.attributes.push_back(std::move(ar));
        }
      } else if (kind < 85) {
        req.application = c_.Pick(app_names_);
        req.op = AccountOp::kDelete;
        req.native_identity = Native(target, *req.application, true);
      } else if (kind < 95) {
        req.application = c_.Pick(app_names_);
        req.op = AccountOp::kCreate;
        if (c_.Percent(70)) req.native_identity = "Created" + std::to_string(i);
        uint32_t k = c_.Range(0, 2);
        for (uint32_t j = 0; j < k; ++j) {
          AttributeRequest ar;
          const AttrSpec& spec = AnyAttr(c_);
          ar.name = spec.name;
          ar.op = c_.Percent(50) ? AttributeOp::kSet : AttributeOp::kAdd;
          ar.value = RandomValue(spec);
          req.attributes.push_back(std::move(ar));
        }
      } else {
        req.application = c_.Pick(app_names_);
        req.op = c_.Percent(50) ? AccountOp::kDisable : AccountOp::kEnable;
        req.native_identity = Native(target, *req.application, true);
      }
      plan.accounts.push_back(std::move(req));
    }
    return plan;
  }

  Choices& c_;
  SnapshotObjects objects_;
  std::vector<std::string> app_names_, role_names_, it_names_, biz_names_, identity_names_, policy_names_,
      population_names_, constraint_names_;
  int next_constraint_id_ = 0;
};

// ---- XML text of a case.

std::string Esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
std::string Ref(const std::string& name) { return "<Reference name=\"" + Esc(name) + "\"/>"; }
std::string Refs(const char* element, const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string s = std::string("<") + element + ">";
  for (const auto& n : names) s += Ref(n);
  return s + "</" + element + ">";
}
std::string AppRef(const std::string& app) {
  return app.empty() ? "" : "<ApplicationRef>" + Ref(app) + "</ApplicationRef>";
}

void FilterXml(std::ostringstream& os, const FilterObject& f) {
  if (!f.children.empty() || f.op == "AND" || f.op == "OR" || f.op == "NOT") {
    os << "<CompositeFilter operation=\"" << f.op << "\">";
    for (const auto& c : f.children) FilterXml(os, c);
    os << "</CompositeFilter>";
    return;
  }
  os << "<Filter operation=\"" << f.op << "\" property=\"" << Esc(f.property) << "\"";
  if (f.ignore_case) os << " ignoreCase=\"true\"";
  if (f.has_value && !f.value_is_list && f.values.size() == 1) {
    os << " value=\"" << Esc(f.values[0]) << "\"/>";
    return;
  }
  os << ">";
  if (f.has_value) {
    os << "<Value><List>";
    for (const auto& v : f.values) os << "<String>" << Esc(v) << "</String>";
    os << "</List></Value>";
  }
  os << "</Filter>";
}

void TermXml(std::ostringstream& os, const MatchTermObject& t) {
  os << "<MatchTerm";
  if (t.container) os << " container=\"true\"" << (t.and_op ? " and=\"true\"" : "");
  if (!t.name.empty()) os << " name=\"" << Esc(t.name) << "\"";
  if (t.value) os << " value=\"" << Esc(*t.value) << "\"";
  if (!t.type.empty()) os << " type=\"" << Esc(t.type) << "\"";
  if (t.negative) os << " negative=\"true\"";
  os << ">" << AppRef(t.application);
  for (const auto& c : t.children) TermXml(os, c);
  os << "</MatchTerm>";
}

void AttributesXml(std::ostringstream& os, const std::vector<AttributeObject>& attrs) {
  if (attrs.empty()) return;
  os << "<Attributes><Map>";
  for (const auto& a : attrs) {
    if (!a.multi && a.values.size() == 1) {
      os << "<entry key=\"" << Esc(a.name) << "\" value=\"" << Esc(a.values[0]) << "\"/>";
      continue;
    }
    os << "<entry key=\"" << Esc(a.name) << "\"><value><List>";
    for (const auto& v : a.values) os << "<String>" << Esc(v) << "</String>";
    os << "</List></value></entry>";
  }
  os << "</Map></Attributes>";
}

void ValueXml(std::ostringstream& os, const Value& v) {
  if (v.kind == Value::Kind::kList) {
    os << "<Value><List>";
    for (const auto& x : v.list) os << "<String>" << Esc(x.ScalarText()) << "</String>";
    os << "</List></Value>";
  }
}

}  // namespace

RandomCase GenerateCase(Choices& choices) { return Generator(choices).Run(); }

RandomCase GenerateCase(uint64_t seed) {
  SeededChoices c(seed);
  return GenerateCase(c);
}

std::string SnapshotXml(const SnapshotObjects& o) {
  std::ostringstream os;
  os << "<sailpoint>\n";
  for (const auto& a : o.applications) {
    os << "<Application name=\"" << Esc(a.name) << "\"" << (a.case_insensitive ? " caseInsensitive=\"true\"" : "")
       << ">";
    if (a.has_account_schema) {
      os << "<Schemas><Schema objectType=\"account\" identityAttribute=\"" << Esc(a.identity_attribute) << "\">";
      for (const auto& s : a.account_schema)
        os << "<AttributeDefinition name=\"" << Esc(s.name) << "\"" << (s.multi ? " multi=\"true\"" : "")
           << (s.entitlement ? " entitlement=\"true\"" : "") << "/>";
      os << "</Schema></Schemas>";
    }
    os << "</Application>\n";
  }
  for (const auto& r : o.roles) {
    os << "<Bundle name=\"" << Esc(r.name) << "\"" << (r.type.empty() ? "" : " type=\"" + Esc(r.type) + "\"")
       << (r.disabled ? " disabled=\"true\"" : "") << (r.or_profiles ? " orProfiles=\"true\"" : "") << ">"
       << Refs("Inheritance", r.inheritance) << Refs("Requirements", r.requirements) << Refs("Permits", r.permits);
    if (!r.profiles.empty()) {
      os << "<Profiles>";
      for (const auto& p : r.profiles) {
        os << "<Profile>" << AppRef(p.application) << "<Constraints>";
        for (const auto& f : p.constraints) FilterXml(os, f);
        os << "</Constraints></Profile>";
      }
      os << "</Profiles>";
    }
    os << "</Bundle>\n";
  }
  if (!o.role_types.empty()) {
    os << "<ObjectConfig name=\"Bundle\"><Attributes><Map><entry key=\"roleTypeDefinitions\"><value><List>";
    for (const auto& t : o.role_types)
      os << "<RoleTypeDefinition name=\"" << Esc(t.name) << "\"" << (t.no_detection ? " noDetection=\"true\"" : "")
         << (t.no_auto_assignment ? " noAutoAssignment=\"true\"" : "")
         << (t.no_manual_assignment ? " noManualAssignment=\"true\"" : "")
         << (t.no_detection_unless_assigned ? " noDetectionUnlessAssigned=\"true\"" : "") << "/>";
    os << "</List></value></entry></Map></Attributes></ObjectConfig>\n";
  }
  if (o.has_identity_config) {
    os << "<ObjectConfig name=\"Identity\">";
    for (const auto& a : o.identity_attributes)
      os << "<ObjectAttribute name=\"" << Esc(a.name) << "\"" << (a.multi ? " multi=\"true\"" : "") << "/>";
    os << "</ObjectConfig>\n";
  }
  for (const auto& g : o.populations) {
    os << "<GroupDefinition name=\"" << Esc(g.name) << "\">";
    if (g.filter) {
      os << "<GroupFilter>";
      FilterXml(os, *g.filter);
      os << "</GroupFilter>";
    }
    os << "</GroupDefinition>\n";
  }
  for (const auto& p : o.policies) {
    os << "<Policy name=\"" << Esc(p.name) << "\" id=\"" << Esc(p.id) << "\" type=\"" << Esc(p.type)
       << "\" executor=\"" << Esc(p.executor) << "\" state=\"" << Esc(p.state) << "\">\n";
    bool sod = !p.constraints.empty() && p.constraints[0].kind == ConstraintObject::Kind::kRoleSod;
    os << (sod ? "  <SODConstraints>\n" : "  <GenericConstraints>\n");
    for (const auto& c : p.constraints) {
      os << "    <" << (sod ? "SODConstraint" : "GenericConstraint");
      if (c.has_name) os << " name=\"" << Esc(c.name) << "\"";
      if (!c.id.empty()) os << " id=\"" << Esc(c.id) << "\"";
      if (c.disabled) os << " disabled=\"true\"";
      os << ">";
      if (c.description) os << "<Description>" << Esc(*c.description) << "</Description>";
      if (sod) {
        os << "<LeftBundles>";
        for (const auto& r : c.left_roles) os << Ref(r);
        os << "</LeftBundles><RightBundles>";
        for (const auto& r : c.right_roles) os << Ref(r);
        os << "</RightBundles>";
      }
      for (const auto& s : c.selectors) {
        os << "\n      <IdentitySelector>";
        if (s.has_match_expression) {
          os << "<MatchExpression" << (s.match_and ? " and=\"true\"" : "") << ">" << AppRef(s.match_application);
          for (const auto& t : s.terms) TermXml(os, t);
          os << "</MatchExpression>";
        }
        if (s.population) os << "<PopulationRef>" << Ref(*s.population) << "</PopulationRef>";
        os << "</IdentitySelector>";
      }
      os << "</" << (sod ? "SODConstraint" : "GenericConstraint") << ">\n";
    }
    os << (sod ? "  </SODConstraints>\n" : "  </GenericConstraints>\n") << "</Policy>\n";
  }
  for (const auto& i : o.identities) {
    os << "<Identity name=\"" << Esc(i.name) << "\">";
    AttributesXml(os, i.attributes);
    os << Refs("AssignedRoles", i.assigned_roles) << Refs("Bundles", i.detected_roles);
    if (!i.accounts.empty()) {
      os << "<Links>";
      for (const auto& a : i.accounts) {
        os << "\n  <Link nativeIdentity=\"" << Esc(a.native_identity) << "\"";
        if (!a.display_name.empty()) os << " displayName=\"" << Esc(a.display_name) << "\"";
        os << ">" << AppRef(a.application);
        AttributesXml(os, a.attributes);
        os << "</Link>";
      }
      os << "</Links>";
    }
    os << "</Identity>\n";
  }
  os << "</sailpoint>\n";
  return os.str();
}

std::string PlanXml(const ProvisioningPlan& plan) {
  std::ostringstream os;
  os << "<ProvisioningPlan>\n";
  for (const auto& a : plan.accounts) {
    os << "  <AccountRequest";
    if (a.application) os << " application=\"" << Esc(*a.application) << "\"";
    if (a.native_identity) os << " nativeIdentity=\"" << Esc(*a.native_identity) << "\"";
    if (a.op) os << " op=\"" << AccountOpName(*a.op) << "\"";
    os << ">";
    for (const auto& r : a.attributes) {
      os << "<AttributeRequest name=\"" << Esc(r.name) << "\"";
      if (r.op) os << " op=\"" << AttributeOpName(*r.op) << "\"";
      if (r.value.kind == Value::Kind::kString) {
        os << " value=\"" << Esc(r.value.str) << "\"/>";
      } else {
        os << ">";
        ValueXml(os, r.value);
        os << "</AttributeRequest>";
      }
    }
    os << "</AccountRequest>\n";
  }
  os << "</ProvisioningPlan>\n";
  return os.str();
}

std::string DescribeCase(const RandomCase& c) {
  std::ostringstream os;
  os << "identity: " << c.identity << "\npolicies: ";
  if (!c.policies) os << "(absent)";
  else {
    os << "[";
    for (size_t i = 0; i < c.policies->size(); ++i) os << (i ? ", " : "") << '"' << (*c.policies)[i] << '"';
    os << "]";
  }
  os << "\n--- snapshot.xml\n" << SnapshotXml(c.objects) << "--- plan.xml\n" << PlanXml(c.plan);
  return os.str();
}

}  // namespace preflight::testing

// ---- The differential harness.

#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/policy/constraint_table.h"
#include "tests/reference_checker.h"

namespace preflight::testing {

Comparison CompareCase(const RandomCase& c, const CompareOptions& compare) {
  Comparison out;
  reference::RefOptions ro;
  ro.null_lists_match_anything = compare.null_lists_match_anything;
  ro.drop_unschema_expansions = compare.drop_unschema_expansions;
  ro.expansion_in_document_order = compare.expansion_in_document_order;
  reference::RefResult ref = reference::ReferenceCheck(c.objects, c.identity, c.plan, c.policies, ro);
  if (ref.unsupported) {
    out.skipped = true;
    return out;
  }
  SnapshotBuilder builder;
  builder.objects() = c.objects;
  auto snapshot = builder.Build();
  if (snapshot.ok() && compare.through_image) snapshot = ThroughImage(**snapshot);
  if (!snapshot.ok()) {
    out.mismatch = true;
    out.engine = "snapshot build failed: " + std::string(snapshot.status().message());
    out.reference = ref.error ? "error: " + ref.why : reference::FormatViolations(ref.violations);
    return out;
  }
  CheckRequest req;
  req.identity = c.identity;
  req.policies = c.policies;
  CheckOptions options = compare.use_constraint_index ? CheckOptions() : CheckOptions::Exhaustive();
  if (compare.eager_gate_keys) {
    options.gate_probe_from = 0;
    options.held_keys_from = 1;
  }
  auto result = Check(**snapshot, req, c.plan, options);
  std::vector<reference::RefViolation> engine;
  if (result.ok()) {
    for (const ViolationReport& v : result->Reports()) {
      reference::RefViolation r;
      r.policy_name = v.policy_name;
      r.policy_type = v.policy_type;
      if (v.has_constraint_name) r.constraint_name = v.constraint_name;
      r.description = v.description;
      r.left_bundles = v.left_bundles;
      r.right_bundles = v.right_bundles;
      for (const auto& e : v.entitlements) r.entitlements.push_back({e.application, e.attribute, e.value});
      engine.push_back(std::move(r));
    }
  }
  if (result.ok()) {
    const ConstraintTable& table = ConstraintTable::Of(**snapshot);
    for (const FoundViolation& v : result->violations) {
      if (v.constraint == kNoIndex || table.GateKeys({v.policy, v.constraint}) == 0) continue;
      if (table.GateKeys({v.policy, v.constraint}) >= 3) ++out.gated_violations;
      auto terms = result->Terms(v);
      for (size_t i = 0; i < terms.size(); ++i)
        if (std::count(terms.begin(), terms.end(), terms[i]) > 1) {
          ++out.repeated_term_violations;
          break;
        }
    }
    for (const FoundViolation& v : result->violations) {
      if (v.constraint == kNoIndex) continue;
      const Constraint& co = (**snapshot).policies()[v.policy].constraints[v.constraint];
      if (co.kind == Constraint::Kind::kRoleSod && co.left.size() + co.right.size() > ConstraintTable::kInlineRoles)
        ++out.wide_role_sod_violations;
    }
    // New role SoD violations whose pre evaluation the check skips (skip_unheld_pre):
    // before the plan the identity held no role of one side.
    bool any_role_sod = std::any_of(result->violations.begin(), result->violations.end(), [&](const FoundViolation& v) {
      return v.constraint != kNoIndex &&
             (**snapshot).policies()[v.policy].constraints[v.constraint].kind == Constraint::Kind::kRoleSod;
    });
    ValueIds ids((**snapshot).pool());
    auto projection = any_role_sod ? Project(**snapshot, (**snapshot).FindIdentity(c.identity), c.plan, ids)
                                   : absl::StatusOr<Projection>(absl::UnknownError("none"));
    if (projection.ok()) {
      HeldRoles pre;
      pre.Compute(**snapshot, projection->pre);
      for (const FoundViolation& v : result->violations) {
        const ConstraintRef ref{v.policy, v.constraint};
        if (v.constraint == kNoIndex || !table.SideNotHeld(ref, pre)) continue;
        ++out.unheld_pre_violations;
        std::span<const Index> left, right;
        if (!(**snapshot).UnnamedRoleSodConstraints().empty() || !table.EqualOnlyToItself(ref) ||
            table.NamedFromBundles(ref) || !table.RoleSides(ref, &left, &right))
          continue;
        ++out.direct_role_sod_violations;
        if (std::any_of(left.begin(), left.end(),
                        [&](Index l) { return std::find(right.begin(), right.end(), l) != right.end(); }))
          ++out.direct_overlapping_violations;
      }
    }
  }
  out.engine = result.ok() ? reference::FormatViolations(engine) : "error: " + std::string(result.status().message());
  out.reference = ref.error ? "error: " + ref.why : reference::FormatViolations(ref.violations);
  if (ref.error || !result.ok()) out.mismatch = ref.error != !result.ok();
  else out.mismatch = engine != ref.violations;
  return out;
}

namespace {

// Removes the k-th removable item of the case; false when there are fewer.
bool RemoveItem(RandomCase& c, size_t k) {
  size_t n = 0;
  auto hit = [&]() { return n++ == k; };
  auto& plan = c.plan.accounts;
  for (size_t i = 0; i < plan.size(); ++i)
    if (hit()) return plan.erase(plan.begin() + i), true;
  for (auto& a : plan)
    for (size_t i = 0; a.attributes.size() > 1 && i < a.attributes.size(); ++i)
      if (hit()) return a.attributes.erase(a.attributes.begin() + i), true;
  auto& o = c.objects;
  for (size_t i = 0; i < o.identities.size(); ++i)
    if (o.identities[i].name != c.identity && hit()) return o.identities.erase(o.identities.begin() + i), true;
  for (size_t i = 0; i < o.policies.size(); ++i)
    if (hit()) return o.policies.erase(o.policies.begin() + i), true;
  for (auto& p : o.policies)
    for (size_t i = 0; i < p.constraints.size(); ++i)
      if (hit()) return p.constraints.erase(p.constraints.begin() + i), true;
  for (auto& p : o.policies)
    for (auto& co : p.constraints) {
      for (auto* side : {&co.left_roles, &co.right_roles})
        for (size_t i = 0; side->size() > 1 && i < side->size(); ++i)
          if (hit()) return side->erase(side->begin() + i), true;
      for (auto& s : co.selectors)
        for (size_t i = 0; s.terms.size() > 1 && i < s.terms.size(); ++i)
          if (hit()) return s.terms.erase(s.terms.begin() + i), true;
    }
  for (size_t i = 0; i < o.roles.size(); ++i)
    if (hit()) return o.roles.erase(o.roles.begin() + i), true;
  for (auto& r : o.roles) {
    for (auto* list : {&r.inheritance, &r.requirements, &r.permits})
      for (size_t i = 0; i < list->size(); ++i)
        if (hit()) return list->erase(list->begin() + i), true;
    for (size_t i = 0; i < r.profiles.size(); ++i)
      if (hit()) return r.profiles.erase(r.profiles.begin() + i), true;
    for (auto& p : r.profiles)
      for (size_t i = 0; p.constraints.size() > 1 && i < p.constraints.size(); ++i)
        if (hit()) return p.constraints.erase(p.constraints.begin() + i), true;
  }
  for (auto& idn : o.identities) {
    for (auto* list : {&idn.assigned_roles, &idn.detected_roles})
      for (size_t i = 0; i < list->size(); ++i)
        if (hit()) return list->erase(list->begin() + i), true;
    for (size_t i = 0; i < idn.accounts.size(); ++i)
      if (hit()) return idn.accounts.erase(idn.accounts.begin() + i), true;
    for (auto& a : idn.accounts)
      for (size_t i = 0; i < a.attributes.size(); ++i)
        if (hit()) return a.attributes.erase(a.attributes.begin() + i), true;
  }
  for (size_t i = 0; o.applications.size() > 1 && i < o.applications.size(); ++i)
    if (hit()) return o.applications.erase(o.applications.begin() + i), true;
  return false;
}

}  // namespace

RandomCase Minimize(RandomCase c, const std::function<bool(const RandomCase&)>& still_fails) {
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t k = 0;; ++k) {
      RandomCase smaller = c;
      if (!RemoveItem(smaller, k)) break;
      if (still_fails(smaller)) {
        c = std::move(smaller);
        progress = true;
        --k;  // the same position now holds the next item
      }
    }
  }
  return c;
}

}  // namespace preflight::testing
