// Scenario suite for the check: each case is a snapshot, a plan and the exact new
// violations IdentityIQ's semantics give (research/iiq-semantics.md 1.4-1.6, 2, 4, 6).

#include <catch2/catch.hpp>

#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/preflight.h"

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

CheckResult Run(const Snapshot& s, const std::string& identity, std::vector<AccountRequest> accounts,
                std::optional<std::vector<std::string>> policies = std::nullopt, bool explain = false) {
  ProvisioningPlan plan;
  plan.accounts = std::move(accounts);
  CheckRequest req;
  req.identity = identity;
  req.policies = std::move(policies);
  req.explain = explain;
  auto r = Check(s, req, plan);
  REQUIRE(r.ok());
  return *r;
}

std::vector<std::string> Names(const CheckResult& r) {
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
