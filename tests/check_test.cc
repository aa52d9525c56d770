// Scenario suite for the check: each case is a snapshot, a plan and the exact new
// violations IdentityIQ's semantics give (docs/semantics.md).

#include <catch2/catch.hpp>

#include <optional>

#include "engine/codecs/plan_codec.h"
#include "engine/load/snapshot_builder.h"
#include "engine/model/snapshot.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/policy/constraint_table.h"
#include "engine/wire/check_response.h"
#include "engine/preflight.h"
#include "engine/state/match.h"

using namespace preflight;

namespace {

constexpr char kApps[] = R"(<sailpoint>
  <Application name="AD"><Schemas><Schema objectType="account" identityAttribute="dn">
    <AttributeDefinition name="dn"/><AttributeDefinition name="groups" multi="true" entitlement="true"/>
    <AttributeDefinition name="title"/></Schema></Schemas></Application>
  <Application name="ERP"/>
</sailpoint>)";

constexpr char kRoles[] = R"(<sailpoint>
  <Bundle name="Admin-IT" type="it"><Profiles><Profile>
    <ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>admins</String></List></Value></Filter></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Audit-IT" type="it"><Profiles><Profile>
    <ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>auditors</String></List></Value></Filter></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Parent" type="business"/>
  <Bundle name="Child" type="business"><Inheritance><Reference name="Parent"/></Inheritance></Bundle>
  <Bundle name="Auditor" type="business"><Requirements><Reference name="Audit-IT"/></Requirements></Bundle>
  <Bundle name="Other" type="business"/>
</sailpoint>)";

constexpr char kPolicies[] = R"(<sailpoint>
  <Policy name="Role SOD" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor">
    <SODConstraints>
      <SODConstraint name="admin-vs-audit">
        <Description>Admins must not audit.</Description>
        <LeftBundles><Reference name="Admin-IT"/></LeftBundles>
        <RightBundles><Reference name="Audit-IT"/></RightBundles>
      </SODConstraint>
      <SODConstraint name="parent-vs-other">
        <LeftBundles><Reference name="Parent"/></LeftBundles>
        <RightBundles><Reference name="Other"/></RightBundles>
      </SODConstraint>
      <SODConstraint name="disabled" disabled="true">
        <LeftBundles><Reference name="Admin-IT"/></LeftBundles>
        <RightBundles><Reference name="Audit-IT"/></RightBundles>
      </SODConstraint>
    </SODConstraints>
  </Policy>
  <Policy name="Ent SOD" type="EntitlementSOD" state="Active" executor="sailpoint.policy.EntitlementSODPolicyExecutor">
    <GenericConstraints>
      <GenericConstraint name="erp-pay">
        <IdentitySelector><MatchExpression>
          <MatchTerm name="cap" value="create"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
          <MatchTerm name="cap" value="edit"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
        </MatchExpression></IdentitySelector>
        <IdentitySelector><MatchExpression and="true">
          <MatchTerm name="cap" value="approve"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
          <MatchTerm name="cap" value="pay"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
        </MatchExpression></IdentitySelector>
      </GenericConstraint>
    </GenericConstraints>
  </Policy>
  <Policy name="Rule Policy" type="Advanced" state="Active" executor="sailpoint.policy.GenericPolicyExecutor">
    <GenericConstraints><GenericConstraint name="by-rule">
      <IdentitySelector><RuleRef><Reference name="Some Rule"/></RuleRef></IdentitySelector>
    </GenericConstraint></GenericConstraints>
  </Policy>
  <Policy name="Dormant" type="SOD" state="Inactive" executor="sailpoint.policy.SODPolicyExecutor">
    <SODConstraints><SODConstraint name="inactive-one">
      <LeftBundles><Reference name="Admin-IT"/></LeftBundles>
      <RightBundles><Reference name="Audit-IT"/></RightBundles>
    </SODConstraint></SODConstraints>
  </Policy>
</sailpoint>)";

std::string Identities(const std::string& body) { return "<sailpoint>" + body + "</sailpoint>"; }

constexpr char kAlice[] = R"(
  <Identity name="alice"><Bundles><Reference name="Admin-IT"/></Bundles>
    <Links>
      <Link nativeIdentity="CN=Alice"><ApplicationRef><Reference name="AD"/></ApplicationRef>
        <Attributes><Map><entry key="groups"><value><List><String>admins</String></List></value></entry></Map></Attributes></Link>
      <Link nativeIdentity="alice"><ApplicationRef><Reference name="ERP"/></ApplicationRef>
        <Attributes><Map><entry key="cap"><value><List><String>create</String><String>approve</String></List></value></entry></Map></Attributes></Link>
    </Links></Identity>
  <Identity name="bob"><AssignedRoles><Reference name="Child"/></AssignedRoles></Identity>)";

std::shared_ptr<const Snapshot> Build(const std::string& identities, const std::string& policies = kPolicies) {
  SnapshotBuilder b;
  REQUIRE(b.AddText(kApps, "apps.xml").ok());
  REQUIRE(b.AddText(kRoles, "roles.xml").ok());
  REQUIRE(b.AddText(policies, "policies.xml").ok());
  REQUIRE(b.AddText(Identities(identities), "identities.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  return *s;
}

AccountRequest Entitlement(const std::string& app, const std::string& attr, std::vector<std::string> values,
                           AttributeOp op = AttributeOp::kAdd, std::optional<std::string> native = std::nullopt) {
  AccountRequest a;
  a.application = app;
  a.op = AccountOp::kModify;
  a.native_identity = native;
  AttributeRequest r;
  r.name = attr;
  r.op = op;
  if (values.size() == 1) r.value = Value::String(values[0]);
  else {
    r.value = Value::List();
    for (auto& v : values) r.value.list.push_back(Value::String(v));
  }
  a.attributes.push_back(r);
  return a;
}

AccountRequest Roles(const std::string& role, AttributeOp op = AttributeOp::kAdd) {
  return Entitlement("IIQ", "assignedRoles", {role}, op);
}

// A check's answer, with its violations as text.
struct Ran {
  CheckResult result;
  std::vector<ViolationReport> violations;
  std::vector<Diagnostic> diagnostics;
};

Ran Run(const Snapshot& s, const std::string& identity, std::vector<AccountRequest> accounts,
        std::optional<std::vector<std::string>> policies = std::nullopt, bool explain = false) {
  ProvisioningPlan plan;
  plan.accounts = std::move(accounts);
  CheckRequest req;
  req.identity = identity;
  req.policies = std::move(policies);
  req.explain = explain;
  auto r = Check(s, req, plan);
  REQUIRE(r.ok());
  std::vector<ViolationReport> reports = r->Reports();
  std::vector<Diagnostic> diagnostics = r->diagnostics;
  return Ran{*std::move(r), std::move(reports), std::move(diagnostics)};
}

std::vector<std::string> Names(const Ran& r) {
  std::vector<std::string> out;
  for (const auto& v : r.violations) out.push_back(v.policy_name + "/" + v.constraint_name);
  return out;
}

}  // namespace

TEST_CASE("role SoD: an entitlement that gets an IT role detected is a new violation", "[check]") {
  auto s = Build(kAlice);
  auto r = Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"})}, std::vector<std::string>{"Role SOD"});
  REQUIRE(r.violations.size() == 1);
  const auto& v = r.violations[0];
  CHECK(v.policy_name == "Role SOD");
  CHECK(v.policy_type == "SOD");
  CHECK(v.constraint_name == "admin-vs-audit");
  CHECK(v.description == std::optional<std::string>("Admins must not audit."));
  CHECK(v.left_bundles == std::vector<std::string>{"Admin-IT"});
  CHECK(v.right_bundles == std::vector<std::string>{"Audit-IT"});
  CHECK(v.entitlements.empty());
}

TEST_CASE("role SoD: the same value in another case is not the entitlement", "[check]") {
  auto s = Build(kAlice);
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"Auditors"})}).violations.empty());
}

TEST_CASE("role SoD: assigning a business role provisions its required IT role, which is detected", "[check]") {
  auto s = Build(kAlice);
  auto r = Run(*s, "alice", {Roles("Auditor")}, std::vector<std::string>{"Role SOD"});
  REQUIRE(Names(r) == std::vector<std::string>{"Role SOD/admin-vs-audit"});
  CHECK(r.violations[0].left_bundles == std::vector<std::string>{"Admin-IT"});
  CHECK(r.violations[0].right_bundles == std::vector<std::string>{"Audit-IT"});
}

TEST_CASE("role SoD: inheritance counts the held child as the constraint's parent", "[check]") {
  auto s = Build(kAlice);
  auto r = Run(*s, "bob", {Roles("Other")}, std::vector<std::string>{"Role SOD"});
  REQUIRE(Names(r) == std::vector<std::string>{"Role SOD/parent-vs-other"});
  CHECK(r.violations[0].left_bundles == std::vector<std::string>{"Child"});
  CHECK(r.violations[0].right_bundles == std::vector<std::string>{"Other"});
  CHECK_FALSE(r.violations[0].description.has_value());
}

TEST_CASE("role SoD: a violation the identity already has is not new", "[check]") {
  auto s = Build(std::string(kAlice) + R"(
  <Identity name="carol"><Bundles><Reference name="Admin-IT"/><Reference name="Audit-IT"/></Bundles>
    <Links><Link nativeIdentity="CN=Carol"><ApplicationRef><Reference name="AD"/></ApplicationRef>
      <Attributes><Map><entry key="groups"><value><List><String>admins</String><String>auditors</String></List></value></entry></Map></Attributes></Link></Links></Identity>)");
  CHECK(Run(*s, "carol", {Entitlement("AD", "groups", {"other"})}).violations.empty());
  // Requirements are not flattened: assigning a role that requires Audit-IT leaves the
  // bundle lists as they were, so the violation is still not new.
  CHECK(Run(*s, "carol", {Roles("Auditor")}, std::vector<std::string>{"Role SOD"}).violations.empty());
}

TEST_CASE("role SoD: an existing violation whose bundle list grows is reported as new", "[check]") {
  auto s = Build(std::string(kAlice) + R"(
  <Identity name="dave"><AssignedRoles><Reference name="Child"/><Reference name="Other"/></AssignedRoles></Identity>)");
  CHECK(Run(*s, "dave", {Entitlement("AD", "groups", {"admins"})}, std::vector<std::string>{"Role SOD"}).violations.empty());
  // IIQ compares the bundle CSVs: holding Parent directly adds it to the left list.
  auto r = Run(*s, "dave", {Roles("Parent")}, std::vector<std::string>{"Role SOD"});
  REQUIRE(Names(r) == std::vector<std::string>{"Role SOD/parent-vs-other"});
  CHECK(r.violations[0].left_bundles == std::vector<std::string>{"Child", "Parent"});
  CHECK(r.violations[0].right_bundles == std::vector<std::string>{"Other"});
}

TEST_CASE("role SoD: removing the entitlement or the constraint removes the violation", "[check]") {
  auto s = Build(kAlice);
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"nothing"})}).violations.empty());
  std::string no_constraint = kPolicies;
  no_constraint.replace(no_constraint.find("<SODConstraint name=\"admin-vs-audit\">"),
                        std::string("<SODConstraint name=\"admin-vs-audit\">").size(),
                        "<SODConstraint name=\"admin-vs-audit\" disabled=\"true\">");
  auto s2 = Build(kAlice, no_constraint);
  CHECK(Run(*s2, "alice", {Entitlement("AD", "groups", {"auditors"})}, std::vector<std::string>{"Role SOD"})
            .violations.empty());
}

TEST_CASE("role SoD: one role on both sides fires with empty bundle lists", "[check]") {
  std::string policies = R"(<sailpoint><Policy name="Same" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor">
    <SODConstraints><SODConstraint name="both"><LeftBundles><Reference name="Other"/><Reference name="Parent"/></LeftBundles>
    <RightBundles><Reference name="Parent"/><Reference name="Other"/></RightBundles></SODConstraint></SODConstraints></Policy></sailpoint>)";
  auto s = Build(kAlice, policies);
  auto r = Run(*s, "alice", {Roles("Other")});
  REQUIRE(Names(r) == std::vector<std::string>{"Same/both"});
  CHECK(r.violations[0].left_bundles.empty());
  CHECK(r.violations[0].right_bundles.empty());
}

TEST_CASE("entitlement SoD: OR terms list every match, AND needs all, values are case-sensitive", "[check]") {
  auto s = Build(kAlice);
  auto r = Run(*s, "alice", {Entitlement("ERP", "cap", {"pay", "edit"})}, std::vector<std::string>{"Ent SOD"});
  REQUIRE(Names(r) == std::vector<std::string>{"Ent SOD/erp-pay"});
  const auto& v = r.violations[0];
  CHECK(v.policy_type == "EntitlementSOD");
  CHECK_FALSE(v.description.has_value());
  CHECK(v.left_bundles.empty());
  REQUIRE(v.entitlements.size() == 4);
  CHECK(v.entitlements[0].application == std::optional<std::string>("ERP"));
  CHECK(v.entitlements[0].attribute == "cap");
  CHECK(v.entitlements[0].value == "create");
  CHECK(v.entitlements[1].value == "edit");
  CHECK(v.entitlements[2].value == "approve");
  CHECK(v.entitlements[3].value == "pay");
  CHECK(Run(*s, "alice", {Entitlement("ERP", "cap", {"Pay"})}, std::vector<std::string>{"Ent SOD"}).violations.empty());
}

TEST_CASE("entitlement SoD: value gates decide plain selectors as evaluating them does", "[check]") {
  auto s = Build(kAlice);
  const ConstraintTable& table = ConstraintTable::Of(*s);
  auto ref = [&](const std::string& policy, Index c) { return ConstraintRef{s->FindPolicy(policy), c}; };
  CHECK(table.GateKeys(ref("Ent SOD", 0)) == 4);     // create|edit, approve&pay
  CHECK(table.GateKeys(ref("Rule Policy", 0)) == 0);  // a RuleRef selector: evaluated
  CHECK(table.GateKeys(ref("Role SOD", 0)) == 0);
  // alice holds create and approve: the OR side is met, the AND side needs pay too.
  // Before the plan the gate says no (pay missing), after it yes; with "edit" alone no.
  for (auto values : {std::vector<std::string>{"pay"}, {"edit"}, {"pay", "edit"}, {"Pay"}}) {
    ProvisioningPlan plan;
    plan.accounts = {Entitlement("ERP", "cap", values)};
    CheckRequest req;
    req.identity = "alice";
    req.policies = std::vector<std::string>{"Ent SOD"};
    auto gated = Check(*s, req, plan), evaluated = Check(*s, req, plan, CheckOptions::Exhaustive());
    REQUIRE(gated.ok());
    REQUIRE(evaluated.ok());
    INFO(values[0]);
    bool fires = std::find(values.begin(), values.end(), "pay") != values.end();
    REQUIRE(gated->violations.size() == (fires ? 1u : 0u));
    REQUIRE(evaluated->violations.size() == gated->violations.size());
    if (fires) {
      CHECK(gated->Report(0).entitlements.size() == (values.size() == 2 ? 4u : 3u));
      CHECK(gated->Report(0).entitlements.size() == evaluated->Report(0).entitlements.size());
    }
  }
}

TEST_CASE("policy selection follows IdentityIQ", "[check]") {
  auto s = Build(kAlice);
  // No list: every active policy, by name; the unsupported one is reported, not passed.
  auto all = Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"}), Entitlement("ERP", "cap", {"pay"})});
  CHECK(Names(all) == std::vector<std::string>{"Ent SOD/erp-pay", "Role SOD/admin-vs-audit"});
  REQUIRE(all.diagnostics.size() == 1);
  CHECK(all.diagnostics[0].severity == Severity::kUnsupported);
  CHECK(all.diagnostics[0].object == "Policy[Rule Policy]/by-rule");
  // Named: unknown names skipped, inactive ones checked, request order kept.
  auto named = Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"})},
                   std::vector<std::string>{"Nope", "Dormant", "Role SOD"});
  CHECK(Names(named) == std::vector<std::string>{"Dormant/inactive-one", "Role SOD/admin-vs-audit"});
}

TEST_CASE("with no active policy at all nothing is reported", "[check]") {
  std::string policies = kPolicies;
  for (size_t at; (at = policies.find("state=\"Active\"")) != std::string::npos;)
    policies.replace(at, 14, "state=\"Inactive\"");
  auto s = Build(kAlice, policies);
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"})}, std::vector<std::string>{"Role SOD"})
            .violations.empty());
}

TEST_CASE("plan semantics: schema, delete, native identity, failed results", "[check]") {
  auto s = Build(kAlice);
  // An attribute the AD account schema does not define is dropped, with a warning.
  auto dropped = Run(*s, "alice", {Entitlement("AD", "memberOf", {"auditors"})});
  CHECK(dropped.violations.empty());
  REQUIRE(dropped.diagnostics.size() >= 1);
  CHECK(dropped.diagnostics[0].message == "attribute 'memberOf' is not in the account schema of 'AD' and is ignored, as IdentityIQ does");
  // nativeIdentity matches case-insensitively.
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"}, AttributeOp::kAdd, "cn=alice")},
            std::vector<std::string>{"Role SOD"}).violations.size() == 1);
  // An unknown nativeIdentity creates a second account, which also detects the role.
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"}, AttributeOp::kAdd, "CN=Other")},
            std::vector<std::string>{"Role SOD"}).violations.size() == 1);
  // Set replaces the admins group: Admin-IT is no longer detected.
  CHECK(Run(*s, "alice", {Entitlement("AD", "groups", {"auditors"}, AttributeOp::kSet)},
            std::vector<std::string>{"Role SOD"}).violations.empty());
  // Deleting the account and adding on a new one.
  AccountRequest del;
  del.application = "AD";
  del.op = AccountOp::kDelete;
  CHECK(Run(*s, "alice", {del, Entitlement("AD", "groups", {"auditors"})}, std::vector<std::string>{"Role SOD"})
            .violations.empty());
  // A request whose ProvisioningResult failed is not applied.
  AccountRequest failed = Entitlement("AD", "groups", {"auditors"});
  failed.result = ProvisioningResult{};
  failed.result->status = "failed";
  CHECK(Run(*s, "alice", {failed}, std::vector<std::string>{"Role SOD"}).violations.empty());
}

TEST_CASE("explanations say which side each item satisfies and who brought it", "[check]") {
  auto s = Build(kAlice);
  auto r = Run(*s, "bob", {Roles("Other")}, std::vector<std::string>{"Role SOD"}, true);
  REQUIRE(r.violations.size() == 1);
  const auto& reasons = r.violations[0].reasons;
  REQUIRE(reasons.size() == 2);
  CHECK((reasons[0].side == "left" && reasons[0].name == "Child" && reasons[0].via == "Parent" &&
         reasons[0].source == "existing"));
  CHECK((reasons[1].side == "right" && reasons[1].name == "Other" && reasons[1].via.empty() &&
         reasons[1].source == "plan"));
}

TEST_CASE("an unknown identity or role is invalidValue", "[check]") {
  auto s = Build(kAlice);
  ProvisioningPlan plan;
  CheckRequest req;
  req.identity = "nobody";
  auto r = Check(*s, req, plan);
  REQUIRE_FALSE(r.ok());
  CHECK(ErrorCodeOf(r.status()) == ErrorCode::kInvalidValue);
  CHECK(DetailOf(r.status()) == "Identity 'nobody' not found in the snapshot");
  plan.accounts.push_back(Roles("No Such Role"));
  req.identity = "alice";
  auto r2 = Check(*s, req, plan);
  REQUIRE_FALSE(r2.ok());
  CHECK(DetailOf(r2.status()) == "AccountRequest[0]/AttributeRequest[0]: unknown role 'No Such Role'");
}

// ---- IdentityIQ fidelity: each case names the class and method it follows
// (IdentityIQ 8.x source, docs/semantics.md).

namespace {

std::shared_ptr<const Snapshot> BuildXml(const std::vector<std::string>& files, bool strict = false) {
  SnapshotBuilder b(LoadOptions{strict});
  for (size_t i = 0; i < files.size(); ++i) REQUIRE(b.AddText(files[i], "f" + std::to_string(i) + ".xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  return *s;
}

// AD with a multi-valued groups attribute, ERP without a schema; IT roles that detect on
// AD groups.
constexpr char kAdErp[] = R"(<sailpoint>
  <Application name="AD"><Schemas><Schema objectType="account" identityAttribute="dn">
    <AttributeDefinition name="dn"/><AttributeDefinition name="groups" multi="true"/></Schema></Schemas></Application>
  <Application name="ERP"/>
</sailpoint>)";

std::string ItRole(const std::string& name, const std::string& group, const std::string& extra = "",
                   const std::string& type = "it") {
  return "<Bundle name=\"" + name + "\"" + (type.empty() ? "" : " type=\"" + type + "\"") + ">" + extra +
         R"(<Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef><Constraints>)"
         R"(<Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>)" +
         group + "</String></List></Value></Filter></Constraints></Profile></Profiles></Bundle>";
}
std::string Inherits(std::vector<std::string> names) {
  std::string s = "<Inheritance>";
  for (const auto& n : names) s += "<Reference name=\"" + n + "\"/>";
  return s + "</Inheritance>";
}
std::string AdIdentity(const std::string& name, std::vector<std::string> groups, const std::string& roles = "") {
  std::string s = "<Identity name=\"" + name + "\">" + roles +
                  R"(<Links><Link nativeIdentity="CN=)" + name +
                  R"("><ApplicationRef><Reference name="AD"/></ApplicationRef><Attributes><Map><entry key="groups"><value><List>)";
  for (const auto& g : groups) s += "<String>" + g + "</String>";
  return s + "</List></value></entry></Map></Attributes></Link></Links></Identity>";
}
std::string SodPolicy(const std::string& name, const std::string& constraints) {
  return R"(<Policy name=")" + name +
         R"(" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor"><SODConstraints>)" + constraints +
         "</SODConstraints></Policy>";
}
std::string Sod(const std::string& attrs, std::vector<std::string> left, std::vector<std::string> right) {
  std::string s = "<SODConstraint" + attrs + "><LeftBundles>";
  for (const auto& r : left) s += "<Reference name=\"" + r + "\"/>";
  s += "</LeftBundles><RightBundles>";
  for (const auto& r : right) s += "<Reference name=\"" + r + "\"/>";
  return s + "</RightBundles></SODConstraint>";
}
std::string Wrap(const std::string& body) { return "<sailpoint>" + body + "</sailpoint>"; }

std::vector<std::string> DetectedAfter(const Snapshot& s, const std::string& identity, std::vector<AccountRequest> accounts) {
  ProvisioningPlan plan;
  plan.accounts = std::move(accounts);
  ValueIds ids(s.pool());
  auto p = Project(s, s.FindIdentity(identity), plan, ids);
  REQUIRE(p.ok());
  std::vector<std::string> out;
  for (Index r : p->post.detected_roles) out.emplace_back(s.str(s.roles()[r].name));
  return out;
}

}  // namespace

TEST_CASE("EntitlementCorrelator.evaluateTopDown: only the most specific matching role is detected", "[check][fidelity]") {
  std::string roles = Wrap(ItRole("Base-IT", "base") + ItRole("Power-IT", "power", Inherits({"Base-IT"})) +
                           ItRole("Audit-IT", "audit"));
  // ann's stored detection is what her accounts give (the incremental path); bea's is
  // not (the full path).
  std::string people = Wrap(AdIdentity("ann", {"base"}, R"(<Bundles><Reference name="Base-IT"/></Bundles>)") +
                            AdIdentity("bea", {"base"}));
  auto s = BuildXml({kAdErp, roles, people});
  REQUIRE(s->identities()[s->FindIdentity("ann")].flags & IdentityView::kDetectionConsistent);
  REQUIRE_FALSE(s->identities()[s->FindIdentity("bea")].flags & IdentityView::kDetectionConsistent);
  for (const char* who : {"ann", "bea"}) {
    INFO(who);
    CHECK(DetectedAfter(*s, who, {}) == std::vector<std::string>{"Base-IT"});
    // Power-IT matches and so does the role it inherits from: only Power-IT is detected.
    auto after = DetectedAfter(*s, who, {Entitlement("AD", "groups", {"power"})});
    CHECK(std::find(after.begin(), after.end(), "Power-IT") != after.end());
    CHECK(std::find(after.begin(), after.end(), "Base-IT") == after.end());
    // Without its parent's entitlement the child does not match (evaluateSupersBottomUp).
    CHECK(DetectedAfter(*s, who, {Entitlement("AD", "groups", {"base"}, AttributeOp::kRemove),
                                  Entitlement("AD", "groups", {"power"})})
              .empty());
  }
}

TEST_CASE("SODPolicyExecutor.AssignedBundle.addOrigin: a detected IT child names itself and its IT parent", "[check][fidelity]") {
  std::string roles = Wrap(ItRole("Base-IT", "base") + ItRole("Power-IT", "power", Inherits({"Base-IT"})) +
                           ItRole("Audit-IT", "audit"));
  std::string policies = Wrap(SodPolicy("Role SOD", Sod(" name=\"base-vs-audit\"", {"Base-IT"}, {"Audit-IT"})));
  auto s = BuildXml({kAdErp, roles, policies,
                     Wrap(AdIdentity("ann", {"base", "audit"},
                                     R"(<Bundles><Reference name="Base-IT"/><Reference name="Audit-IT"/></Bundles>)"))});
  // Power-IT replaces Base-IT in the detected list; Base-IT is held through it, and the
  // origin chain walks up to the non-assignable constraint role: the left list grows
  // from "Base-IT" to "Power-IT,Base-IT", so the existing violation is reported as new.
  auto r = Run(*s, "ann", {Entitlement("AD", "groups", {"power"})});
  REQUIRE(Names(r) == std::vector<std::string>{"Role SOD/base-vs-audit"});
  CHECK(r.violations[0].left_bundles == std::vector<std::string>{"Power-IT", "Base-IT"});
  CHECK(r.violations[0].right_bundles == std::vector<std::string>{"Audit-IT"});
}

TEST_CASE("SODPolicyExecutor.AssignedBundle.addOrigin: the chain follows only the first detectable inherited role", "[check][fidelity]") {
  std::string roles = Wrap(ItRole("P1", "p1") + ItRole("P2", "p2") + ItRole("C", "c", Inherits({"P1", "P2"})) +
                           R"(<Bundle name="Biz" type="business"/><Bundle name="Untyped"/>)" +
                           ItRole("D", "d", Inherits({"Biz"})) + ItRole("E", "e", Inherits({"Untyped"})) +
                           R"(<Bundle name="Other" type="business"/>)");
  std::string policies = Wrap(SodPolicy(
      "Role SOD", Sod(" name=\"p2\"", {"P2"}, {"Other"}) + Sod(" name=\"biz\"", {"Biz"}, {"Other"}) +
                      Sod(" name=\"untyped\"", {"Untyped"}, {"Other"})));
  auto s = BuildXml({kAdErp, roles, policies, Wrap(AdIdentity("ann", {"p1", "p2", "c", "d", "e"}))});
  auto r = Run(*s, "ann", {Roles("Other")});
  REQUIRE(Names(r) == std::vector<std::string>{"Role SOD/p2", "Role SOD/biz", "Role SOD/untyped"});
  // C inherits P1 then P2: the walk to P2 goes through P1, which it never leaves.
  CHECK(r.violations[0].left_bundles == std::vector<std::string>{"C", "P1"});
  // An assignable (business) constraint role is not named; an untyped one is.
  CHECK(r.violations[1].left_bundles == std::vector<std::string>{"D"});
  CHECK(r.violations[2].left_bundles == std::vector<std::string>{"E", "Untyped"});
}

TEST_CASE("SODPolicyExecutor.addViolation: an unnamed constraint is named from the violation's bundle lists", "[check][fidelity]") {
  std::string roles = Wrap(R"(<Bundle name="Trader" type="business"/><Bundle name="Auditor" type="business"/>
    <Bundle name="Senior Trader" type="business"><Inheritance><Reference name="Trader"/></Inheritance></Bundle>
    <Bundle name="User" type="business"/><Bundle name="Admin" type="business"/>)");
  std::string policies = Wrap(SodPolicy("Trading", Sod("", {"Trader"}, {"Auditor"})) +
                              SodPolicy("Same", Sod("", {"User"}, {"User"})));
  auto s = BuildXml({kAdErp, roles, policies,
                     Wrap(R"(<Identity name="tom"><AssignedRoles><Reference name="Senior Trader"/></AssignedRoles></Identity>
                             <Identity name="una"/>)")});
  auto r = Run(*s, "tom", {Roles("Auditor")}, std::vector<std::string>{"Trading"});
  REQUIRE(Names(r) == std::vector<std::string>{"Trading/Senior Trader : Auditor"});
  // One role on both sides: no pair, both lists null.
  auto same = Run(*s, "una", {Roles("User")}, std::vector<std::string>{"Same"});
  REQUIRE(Names(same) == std::vector<std::string>{"Same/null : null"});
  CHECK(same.violations[0].left_bundles.empty());
}

TEST_CASE("PolicyViolation.isConstraintEqual: ids when both have one, else the (generated) names", "[check][fidelity]") {
  std::string roles = Wrap(R"(<Bundle name="User" type="business"/><Bundle name="Admin" type="business"/>)");
  std::string people = Wrap(R"(<Identity name="una"><AssignedRoles><Reference name="User"/></AssignedRoles></Identity>)");
  // Holding User violates the SSB-style constraint with null lists. Adding Admin gives
  // "Admin : User": a different generated name, so a new violation without an id...
  auto no_id = BuildXml({kAdErp, roles, people, Wrap(SodPolicy("P", Sod("", {"Admin", "User"}, {"User"})))});
  CHECK(Names(Run(*no_id, "una", {Roles("Admin")})) == std::vector<std::string>{"P/Admin : User"});
  // ...and the same constraint (null lists are not compared) with one.
  auto with_id = BuildXml({kAdErp, roles, people, Wrap(SodPolicy("P", Sod(" id=\"c1\"", {"Admin", "User"}, {"User"})))});
  CHECK(Run(*with_id, "una", {Roles("Admin")}).violations.empty());
}

namespace {

constexpr char kErpCap[] = R"(<Identity name="eve"><Links>
  <Link nativeIdentity="eve"><ApplicationRef><Reference name="ERP"/></ApplicationRef>
    <Attributes><Map><entry key="cap" value="create"/></Map></Attributes></Link></Links></Identity>)";

std::string Advanced(const std::string& name, const std::string& constraints) {
  return R"(<Policy name=")" + name +
         R"(" type="Advanced" state="Active" executor="sailpoint.policy.GenericPolicyExecutor"><GenericConstraints>)" +
         constraints + "</GenericConstraints></Policy>";
}
std::string CapSelector(const std::string& value, const std::string& extra = "") {
  return R"(<IdentitySelector><MatchExpression><MatchTerm name="cap" value=")" + value +
         R"("><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm></MatchExpression>)" + extra +
         "</IdentitySelector>";
}

}  // namespace

TEST_CASE("PolicyViolation.isConstraintEqual: a generic constraint without name or id is never equal, so always new", "[check][fidelity]") {
  auto s = BuildXml({kAdErp, Wrap(Advanced("Adv", "<GenericConstraint>" + CapSelector("create") + "</GenericConstraint>")),
                     Wrap(kErpCap)});
  // eve already violates it; IdentityIQ reports it again on every check, with no constraintName.
  auto r = Run(*s, "eve", {Entitlement("ERP", "other", {"x"})});
  REQUIRE(r.violations.size() == 1);
  CHECK_FALSE(r.violations[0].has_constraint_name);
  CheckRequest req;
  req.identity = "eve";
  CHECK(CheckResponseJson(req, r.result).find("constraintName") == std::string::npos);
  req.explain = true;  // the explanation names the violation as the violation does: without a constraint name
  const std::string explained = CheckResponseJson(req, r.result);
  CHECK(explained.find("\"explanations\":[{\"policyName\":\"Adv\",\"reasons\"") != std::string::npos);
  CHECK(explained.find("constraintName") == std::string::npos);
}

TEST_CASE("PolicyViolation.isConstraintEqual: a pre violation of another constraint with the same name counts", "[check][fidelity]") {
  // "shared" is violated before the plan through cap=create; the plan makes the second
  // "shared" constraint fire, which IdentityIQ finds equal (same name, no ids) and unchanged.
  auto s = BuildXml({kAdErp,
                     Wrap(Advanced("A1", "<GenericConstraint name=\"shared\">" + CapSelector("create") + "</GenericConstraint>") +
                          Advanced("A2", "<GenericConstraint name=\"shared\">" + CapSelector("pay") + "</GenericConstraint>")),
                     Wrap(kErpCap)});
  CHECK(Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"})}).violations.empty());
  // Checking A2 alone: the pre violation of A1 is not among the checked policies.
  CHECK(Names(Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"})}, std::vector<std::string>{"A2"})) ==
        std::vector<std::string>{"A2/shared"});
}

TEST_CASE("AccountPolicyExecutor: a plan that creates a second account on an application is a new violation", "[check][fidelity]") {
  std::string account_policy = Wrap(R"(<Policy name="Accounts" type="Account" state="Active" executor="sailpoint.policy.AccountPolicyExecutor">
      <Description>policy text</Description>
      <GenericConstraints><GenericConstraint name="Multiple Application Accounts"><Description>One account per application.</Description></GenericConstraint></GenericConstraints>
    </Policy>
    <Policy name="Bare" type="Account" state="Active" executor="sailpoint.policy.AccountPolicyExecutor"/>)");
  std::string people = Wrap(std::string(kErpCap) + AdIdentity("ann", {"g"}) + R"(
    <Identity name="two"><Links>
      <Link nativeIdentity="t1"><ApplicationRef><Reference name="ERP"/></ApplicationRef></Link>
      <Link nativeIdentity="t2"><ApplicationRef><Reference name="ERP"/></ApplicationRef></Link>
      <Link nativeIdentity="CN=t"><ApplicationRef><Reference name="AD"/></ApplicationRef></Link></Links></Identity>)");
  auto s = BuildXml({kAdErp, account_policy, people});
  AccountRequest create;
  create.application = "AD";
  create.op = AccountOp::kCreate;
  create.native_identity = "CN=second";
  create.attributes.push_back(Entitlement("AD", "groups", {"g"}).attributes[0]);
  auto r = Run(*s, "ann", {create});
  REQUIRE(Names(r) == std::vector<std::string>{"Accounts/Multiple Application Accounts", "Bare/"});
  const auto& v = r.violations[0];
  CHECK(v.policy_type == "Account");
  CHECK(v.description == std::optional<std::string>("One account per application."));
  CHECK((v.left_bundles.empty() && v.right_bundles.empty() && v.entitlements.empty()));
  CHECK_FALSE(r.violations[1].has_constraint_name);
  CHECK(r.diagnostics.empty());
  // Modifying the one account is no violation.
  CHECK(Run(*s, "ann", {Entitlement("AD", "groups", {"h"})}).violations.empty());
  // "two" already has two ERP accounts: a second AD account violates the same
  // constraint (the application is not compared), so it is not new; the policy without
  // a constraint has no name to compare, so its violations are always new.
  create.native_identity = "CN=two";
  auto existing = Run(*s, "two", {create});
  CHECK(Names(existing) == std::vector<std::string>{"Bare/", "Bare/"});
}

TEST_CASE("RiskPolicyExecutor and ActivityPolicyExecutor: evaluated, never new in a check", "[check][fidelity]") {
  auto s = BuildXml({kAdErp, Wrap(R"(
    <Policy name="Risk" type="Risk" state="Active" executor="sailpoint.policy.RiskPolicyExecutor">
      <Attributes><Map><entry key="compositeThreshold" value="1"/></Map></Attributes></Policy>
    <Policy name="Activity" type="Activity" state="Active" executor="sailpoint.policy.ActivityPolicyExecutor">
      <ActivityConstraints><ActivityConstraint name="after hours"/></ActivityConstraints></Policy>)"),
                     Wrap(AdIdentity("ann", {"g"}))});
  auto r = Run(*s, "ann", {Entitlement("AD", "groups", {"h"})});
  CHECK(r.violations.empty());
  CHECK(r.diagnostics.empty());
  for (const Diagnostic& d : s->diagnostics()) CHECK(d.severity != Severity::kUnsupported);
}

TEST_CASE("Matchmaker.isMatch: a PopulationRef never matches in a check (Provisioner.impactAnalysis nulls the id)", "[check][fidelity]") {
  std::string pops = Wrap(R"(
    <GroupDefinition name="Accounting Department"><GroupFilter><CompositeFilter operation="OR">
      <Filter matchMode="START" operation="LIKE" property="jobTitle" value="Account"/>
      <Filter matchMode="START" operation="LIKE" property="jobTitle" value="Book"/></CompositeFilter></GroupFilter></GroupDefinition>
    <GroupDefinition name="Everyone"/>)");
  std::string policies = Wrap(
      Advanced("With filter", "<GenericConstraint name=\"pay-accountants\">" +
                                  CapSelector("pay", "<PopulationRef><Reference name=\"Accounting Department\"/></PopulationRef>") +
                                  "</GenericConstraint>") +
      Advanced("No filter", "<GenericConstraint name=\"pay-everyone\">" +
                                CapSelector("pay", "<PopulationRef><Reference name=\"Everyone\"/></PopulationRef>") +
                                "</GenericConstraint>") +
      Advanced("Unknown", "<GenericConstraint name=\"pay-unknown\">" +
                              CapSelector("pay", "<PopulationRef><Reference name=\"Nobody Knows\"/></PopulationRef>") +
                              "</GenericConstraint>"));
  std::string people = Wrap(R"(<Identity name="eve"><Attributes><Map><entry key="jobTitle" value="Accountant"/></Map></Attributes>
    <Links><Link nativeIdentity="eve"><ApplicationRef><Reference name="ERP"/></ApplicationRef></Link></Links></Identity>)");
  auto s = BuildXml({kAdErp, pops, policies, people});
  auto r = Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"})});
  // Only the population without a filter adds no condition; nothing is "unsupported".
  CHECK(Names(r) == std::vector<std::string>{"No filter/pay-everyone"});
  CHECK(r.diagnostics.empty());
  // A scan of stored identities runs the population's filter, as a refresh does.
  ValueIds ids(s->pool());
  MatchContext ctx{*s, ids};
  REQUIRE(s->populations().size() == 2);
  const AttrList attrs = s->identities()[s->FindIdentity("eve")].attributes;
  CHECK(PopulationMatches(ctx, s->populations()[0], attrs));
  CHECK(PopulationMatches(ctx, s->populations()[1], attrs));
}

TEST_CASE("Matchmaker.ExpressionMatcher.getMatches: containers list matching children, negatives are listed", "[check][fidelity]") {
  std::string policy = Wrap(R"(<Policy name="Ent" type="EntitlementSOD" state="Active" executor="sailpoint.policy.EntitlementSODPolicyExecutor">
    <GenericConstraints><GenericConstraint name="c">
      <IdentitySelector><MatchExpression><ApplicationRef><Reference name="ERP"/></ApplicationRef>
        <MatchTerm container="true" and="true">
          <MatchTerm name="cap" value="create"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
          <MatchTerm name="cap" value="missing"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
        </MatchTerm>
        <MatchTerm name="cap" value="pay"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
      </MatchExpression></IdentitySelector>
      <IdentitySelector><MatchExpression>
        <MatchTerm name="cap" value="audit" negative="true"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
      </MatchExpression></IdentitySelector>
    </GenericConstraint></GenericConstraints></Policy>)");
  std::string people = Wrap(std::string(kErpCap) + R"(
    <Identity name="two"><Links>
      <Link nativeIdentity="t1"><ApplicationRef><Reference name="ERP"/></ApplicationRef><Attributes><Map><entry key="cap" value="audit"/></Map></Attributes></Link>
      <Link nativeIdentity="t2"><ApplicationRef><Reference name="ERP"/></ApplicationRef></Link></Links></Identity>)");
  auto s = BuildXml({kAdErp, policy, people});
  auto r = Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"})});
  REQUIRE(r.violations.size() == 1);
  std::vector<std::string> listed;
  for (const auto& e : r.violations[0].entitlements) listed.push_back(e.attribute + "=" + e.value);
  // The container's AND fails, yet its matching child is listed; the OR matched on pay;
  // the negative term matched (no account holds audit) and is listed.
  CHECK(listed == std::vector<std::string>{"cap=create", "cap=pay", "cap=audit"});
  // TermMatcher.getMatchingLeaves: a negative term fails as soon as one account
  // matches, even if another account does not.
  CHECK(Run(*s, "two", {Entitlement("ERP", "cap", {"pay"}, AttributeOp::kAdd, "t2")}).violations.empty());
}

TEST_CASE("Matchmaker.CubeMatcher.getLink: a CompoundFilter account leaf reads the first account on the application", "[check][fidelity]") {
  std::string policy = Wrap(Advanced("Cube", R"(<GenericConstraint name="erp-pay"><IdentitySelector><CompoundFilter>
      <Applications><Reference name="ERP"/></Applications>
      <Filter operation="EQ" property="0:cap" value="pay"/></CompoundFilter></IdentitySelector></GenericConstraint>)"));
  auto s = BuildXml({kAdErp, policy, Wrap(kErpCap)});
  // A second ERP account with cap=pay is not the first account: no match.
  CHECK(Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"}, AttributeOp::kSet, "second")}).violations.empty());
  CHECK(Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"}, AttributeOp::kSet, "eve")}).violations.size() == 1);
}

TEST_CASE("IIQEvaluator.processIdentityAttribute: an attribute ObjectConfig Identity defines changes the simulated identity", "[check][fidelity]") {
  std::string policy = Wrap(Advanced("Dept", R"(<GenericConstraint name="finance-pay"><IdentitySelector><MatchExpression and="true">
      <MatchTerm name="department" value="Finance"/>
      <MatchTerm name="cap" value="create"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
    </MatchExpression></IdentitySelector></GenericConstraint>)"));
  std::string config = Wrap(R"(<ObjectConfig name="Identity"><ObjectAttribute name="department"/><ObjectAttribute name="email"/></ObjectConfig>)");
  auto set = [](const std::string& attr, const std::string& value) { return Entitlement("IIQ", attr, {value}, AttributeOp::kSet); };
  auto s = BuildXml({kAdErp, config, policy, Wrap(kErpCap)});
  auto r = Run(*s, "eve", {set("department", "Finance")});
  CHECK(Names(r) == std::vector<std::string>{"Dept/finance-pay"});
  // An attribute the configuration does not define is ignored, as IdentityIQ logs and skips it.
  auto ignored = Run(*s, "eve", {set("costCenter", "Finance")});
  CHECK(ignored.violations.empty());
  REQUIRE(ignored.diagnostics.size() == 1);
  CHECK(ignored.diagnostics[0].message ==
        "identity attribute 'costCenter' is not defined in ObjectConfig Identity and is ignored, as IdentityIQ does");
  // Without the identity configuration nothing tells which attributes exist.
  auto bare = BuildXml({kAdErp, policy, Wrap(kErpCap)});
  CHECK(Run(*bare, "eve", {set("department", "Finance")}).violations.empty());
}

TEST_CASE("a role inheritance cycle is a load error naming the cycle", "[check][fidelity]") {
  std::string roles = Wrap(ItRole("A", "a", Inherits({"B"})) + ItRole("B", "b", Inherits({"A"})) + ItRole("C", "c"));
  auto s = BuildXml({kAdErp, roles, Wrap(AdIdentity("ann", {"a", "b"}))});
  size_t cycles = 0;
  for (const Diagnostic& d : s->diagnostics())
    if (d.message.find("role inheritance cycle through A, B") != std::string::npos) {
      ++cycles;
      CHECK(d.severity == Severity::kError);
    }
  CHECK(cycles == 1);
  CHECK(DetectedAfter(*s, "ann", {Entitlement("AD", "groups", {"c"})}) == std::vector<std::string>{"C"});
  SnapshotBuilder strict(LoadOptions{true});
  REQUIRE(strict.AddText(kAdErp, "apps.xml").ok());
  REQUIRE(strict.AddText(roles, "roles.xml").ok());
  CHECK_FALSE(strict.Build().ok());
}

TEST_CASE("snapshot stats count an account described by a User's entitlements and an Account resource once", "[check][fidelity]") {
  SnapshotBuilder b;
  REQUIRE(b.AddText(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"Resources":[
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:sailpoint:1.0:User"],
     "id":"u1","userName":"jane","urn:ietf:params:scim:schemas:sailpoint:1.0:User":{
        "accounts":[{"value":"a1","displayName":"jane"}],
        "entitlements":[{"value":"groups","display":"dev","application":"Git","accountName":"jane"}]}},
    {"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a1","nativeIdentity":"jane",
     "identity":{"value":"u1","displayName":"jane"},"application":{"value":"app1","displayName":"Git"},
     "urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:Git:account":{"groups":["dev"]}}]})",
                    "export.json").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  CHECK((*s)->stats().accounts == 1);
  CHECK((*s)->stats().entitlement_values == 1);
}

TEST_CASE("AbstractPolicyExecutor.formatViolation: a violation rule is reported, not run", "[check][fidelity]") {
  auto s = BuildXml({kAdErp, Wrap(R"(<Policy name="Adv" type="Advanced" state="Active" executor="sailpoint.policy.GenericPolicyExecutor">
      <Attributes><Map><entry key="violationRule" value="Format Violation"/></Map></Attributes>
      <GenericConstraints><GenericConstraint name="pay">)" + CapSelector("pay") + R"(</GenericConstraint></GenericConstraints></Policy>)"),
                     Wrap(kErpCap)});
  auto r = Run(*s, "eve", {Entitlement("ERP", "cap", {"pay"})});
  CHECK(Names(r) == std::vector<std::string>{"Adv/pay"});
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].severity == Severity::kUnsupported);
  CHECK(r.diagnostics[0].message ==
        "violation rule 'Format Violation' (BeanShell) is not run; IdentityIQ may rewrite this policy's violations");
}

TEST_CASE("CorrelationModel and RoleTypeDefinition: role types come from ObjectConfig Bundle when the snapshot has it", "[check][fidelity]") {
  // "application" is a type the shipped configuration does not define (no definition:
  // detectable, not assignable); this configuration defines it as not detectable and
  // assignable, like a business role.
  std::string config = Wrap(R"(<ObjectConfig name="Bundle"><Attributes><Map><entry key="roleTypeDefinitions"><value><List>
      <RoleTypeDefinition name="it" noAutoAssignment="true" noManualAssignment="true"/>
      <RoleTypeDefinition name="application" noDetection="true"/>
    </List></value></entry></Map></Attributes></ObjectConfig>)");
  std::string roles = Wrap(ItRole("App-Role", "app", "", "application") + ItRole("Child-IT", "child", Inherits({"Parent"})) +
                           R"(<Bundle name="Parent" type="application"/><Bundle name="Other" type="business"/>)");
  std::string policies = Wrap(SodPolicy("Role SOD", Sod(" name=\"parent\"", {"Parent"}, {"Other"})));
  std::string people = Wrap(AdIdentity("ann", {"app", "child"}));
  auto shipped = BuildXml({kAdErp, roles, policies, people});
  auto configured = BuildXml({kAdErp, config, roles, policies, people});
  // Without a definition App-Role is detectable; with one that says noDetection it is
  // not reached by detection (no least specific detectable role above it).
  CHECK(DetectedAfter(*shipped, "ann", {}) == std::vector<std::string>{"App-Role", "Child-IT"});
  CHECK(DetectedAfter(*configured, "ann", {}) == std::vector<std::string>{"Child-IT"});
  // addOrigin: an untyped-by-configuration Parent is named with its child; an
  // assignable one is not.
  auto r1 = Run(*shipped, "ann", {Roles("Other")});
  REQUIRE(r1.violations.size() == 1);
  CHECK(r1.violations[0].left_bundles == std::vector<std::string>{"Child-IT", "Parent"});
  auto r2 = Run(*configured, "ann", {Roles("Other")});
  REQUIRE(r2.violations.size() == 1);
  CHECK(r2.violations[0].left_bundles == std::vector<std::string>{"Child-IT"});
}

TEST_CASE("EntitlementCorrelator.doAssignmentDetection: a noDetectionUnlessAssigned role is detected through an assignment", "[check][fidelity]") {
  std::string config = Wrap(R"(<ObjectConfig name="Bundle"><Attributes><Map><entry key="roleTypeDefinitions"><value><List>
      <RoleTypeDefinition name="it" noAutoAssignment="true" noManualAssignment="true"/>
      <RoleTypeDefinition name="business" noDetection="true"/>
      <RoleTypeDefinition name="assignedOnly" noDetectionUnlessAssigned="true" noAutoAssignment="true" noManualAssignment="true"/>
    </List></value></entry></Map></Attributes></ObjectConfig>)");
  std::string roles = Wrap(ItRole("Vault-IT", "vault", "", "assignedOnly") + ItRole("Base-IT", "base") +
                           ItRole("Quiet-IT", "quiet", Inherits({"Base-IT"}), "assignedOnly") +
                           R"(<Bundle name="Vault User" type="business"><Requirements><Reference name="Vault-IT"/></Requirements></Bundle>)");
  auto s = BuildXml({kAdErp, config, roles, Wrap(AdIdentity("ann", {"vault", "base", "quiet"}))});
  // Not a root of the unguided walk and not assigned: not detected. Quiet-IT is reached
  // through Base-IT and matches, so Base-IT is not detected either ("silent detection").
  CHECK(DetectedAfter(*s, "ann", {}).empty());
  // Assigning a role that requires Vault-IT starts the guided walk there and keeps it.
  CHECK(DetectedAfter(*s, "ann", {Roles("Vault User")}) == std::vector<std::string>{"Vault-IT"});
}
