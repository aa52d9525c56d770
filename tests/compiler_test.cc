// The plan compiler alone (engine/plan): Project() on a small snapshot, with the exact
// pre and post states, expansions, changes and diagnostics it produces.

#include <catch2/catch.hpp>

#include <string>

#include "absl/strings/str_join.h"
#include "engine/codecs/plan_codec.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"

using namespace preflight;

namespace {

constexpr char kSnapshot[] = R"(<sailpoint>
  <Application name="AD"><Schemas><Schema objectType="account" identityAttribute="dn">
    <AttributeDefinition name="dn"/><AttributeDefinition name="groups" multi="true" entitlement="true"/>
    <AttributeDefinition name="title"/></Schema></Schemas></Application>
  <Application name="ERP"/>
  <Bundle name="Admin-IT" type="it"><Profiles><Profile>
    <ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>admins</String></List></Value></Filter></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Audit-IT" type="it"><Profiles><Profile>
    <ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>auditors</String></List></Value></Filter></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Pay-IT" type="it"><Profiles><Profile>
    <ApplicationRef><Reference name="ERP"/></ApplicationRef>
    <Constraints><Filter operation="EQ" property="cap" value="pay"/></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Auditor" type="business"><Requirements><Reference name="Audit-IT"/></Requirements></Bundle>
  <Bundle name="Payer" type="business"><Requirements><Reference name="Pay-IT"/></Requirements></Bundle>
  <Identity name="carol"><AssignedRoles><Reference name="Auditor"/></AssignedRoles>
    <Links>
      <Link nativeIdentity="CN=Carol"><ApplicationRef><Reference name="AD"/></ApplicationRef>
        <Attributes><Map><entry key="groups"><value><List><String>users</String></List></value></entry>
          <entry key="title" value="Clerk"/></Map></Attributes></Link>
    </Links></Identity>
</sailpoint>)";

std::shared_ptr<const Snapshot> Load() {
  SnapshotBuilder b;
  REQUIRE(b.AddText(kSnapshot, "snapshot.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  REQUIRE((*s)->diagnostics().empty());
  return *s;
}

std::string S(std::string_view v) { return std::string(v); }

std::string Names(const Snapshot& s, const std::vector<Index>& roles) {
  std::vector<std::string> out;
  for (Index r : roles) out.emplace_back(s.str(s.roles()[r].name));
  return absl::StrJoin(out, ",");
}

// One line per account, then the roles: "AD/CN=Carol{groups=[users,auditors];title=Clerk}".
std::string Render(const Snapshot& s, const ValueIds& ids, const IdentityState& st) {
  std::string out;
  for (const AccountState& a : st.accounts) {
    out += S(s.str(s.applications()[a.application].name)) + "/" + S(ids.Text(a.native_identity));
    if (a.disabled) out += " disabled";
    if (a.locked) out += " locked";
    std::vector<std::string> attrs;
    a.ForEachAttribute([&](const AttrView& v) {
      std::vector<std::string> values;
      for (Id x : v.values) values.emplace_back(ids.Text(x));
      std::string joined = absl::StrJoin(values, ",");
      attrs.push_back(S(ids.Text(v.name)) + "=" + (v.multi ? "[" + joined + "]" : joined));
    });
    absl::StrAppend(&out, "{", absl::StrJoin(attrs, ";"), "}\n");
  }
  absl::StrAppend(&out, "assigned=", Names(s, st.assigned_roles), " detected=", Names(s, st.detected_roles));
  return out;
}

std::string Expansions(const Snapshot& s, const ValueIds& ids, const std::vector<Expansion>& list) {
  std::vector<std::string> out;
  for (const Expansion& e : list)
    out.push_back(S(s.str(s.roles()[e.role].name)) + " via " + S(s.str(s.roles()[e.via].name)) + ": " +
                  S(s.str(s.applications()[e.application].name)) + "." + S(ids.Text(e.attribute)) + "=" +
                  S(ids.Text(e.value)));
  return absl::StrJoin(out, "; ");
}

std::string Changes(const Snapshot& s, const ValueIds& ids, const std::vector<Change>& list) {
  std::vector<std::string> out;
  for (const Change& c : list)
    out.push_back(S(s.str(s.applications()[c.application].name)) + "." +
                  (c.attr == kNoId ? "*" : S(ids.Text(c.attr))) + "=" + (c.value == kNoId ? "*" : S(ids.Text(c.value))));
  return absl::StrJoin(out, " ");
}

ProvisioningPlan Plan(const std::string& xml) {
  auto plan = DecodePlanXml(xml);
  REQUIRE(plan.ok());
  return *plan;
}

}  // namespace

TEST_CASE("compiler: the pre state re-provisions assigned roles; detected roles stay as stored", "[compiler]") {
  auto snap = Load();
  ValueIds ids(snap->pool());
  auto p = Project(*snap, snap->FindIdentity("carol"), ProvisioningPlan{}, ids);
  REQUIRE(p.ok());
  // Auditor requires Audit-IT, whose profile value lands on the AD account.
  CHECK(Render(*snap, ids, p->pre) ==
        "AD/CN=Carol{groups=[users,auditors];title=Clerk}\n"
        "assigned=Auditor detected=");
  CHECK(Expansions(*snap, ids, p->pre_expansions) == "Auditor via Audit-IT: AD.groups=auditors");
  // Nothing changes; the post step's detection finds what the provisioned value implies.
  CHECK(Render(*snap, ids, p->post) ==
        "AD/CN=Carol{groups=[users,auditors];title=Clerk}\n"
        "assigned=Auditor detected=Audit-IT");
  CHECK(p->changes.empty());
  CHECK(p->diagnostics.empty());
}

TEST_CASE("compiler: account requests, role assignment, expansion and re-detection", "[compiler]") {
  auto snap = Load();
  ValueIds ids(snap->pool());
  auto p = Project(*snap, snap->FindIdentity("carol"), Plan(R"(<ProvisioningPlan>
    <AccountRequest application="AD" nativeIdentity="cn=carol" op="Modify">
      <AttributeRequest name="groups" op="Add" value="admins"/>
      <AttributeRequest name="title" op="Set" value="Lead"/>
      <AttributeRequest name="shoeSize" op="Set" value="42"/>
    </AccountRequest>
    <AccountRequest application="IIQ" op="Modify">
      <AttributeRequest name="assignedRoles" op="Add" value="Payer"/>
    </AccountRequest>
  </ProvisioningPlan>)"), ids);
  REQUIRE(p.ok());
  CHECK(Render(*snap, ids, p->pre) ==
        "AD/CN=Carol{groups=[users,auditors];title=Clerk}\n"
        "assigned=Auditor detected=");
  // nativeIdentity is matched case-insensitively; an attribute outside the schema is
  // dropped; Payer's required Pay-IT creates the ERP account its profile needs.
  CHECK(Render(*snap, ids, p->post) ==
        "AD/CN=Carol{groups=[users,auditors,admins];title=Lead}\n"
        "ERP/???{cap=pay}\n"
        "assigned=Auditor,Payer detected=Admin-IT,Audit-IT,Pay-IT");
  CHECK(Expansions(*snap, ids, p->plan_expansions) == "Payer via Pay-IT: ERP.cap=pay");
  // Sorted by ids (snapshot strings first, "*" = kNoId last): a value that came or went,
  // and a wildcard for "this attribute / this account changed".
  CHECK(Changes(*snap, ids, p->changes) ==
        "AD.groups=admins AD.groups=* AD.title=Clerk AD.title=Lead AD.title=* ERP.cap=pay ERP.cap=* ERP.*=*");
  REQUIRE(p->diagnostics.size() == 1);
  CHECK(p->diagnostics[0].message ==
        "attribute 'shoeSize' is not in the account schema of 'AD' and is ignored, as IdentityIQ does");
  CHECK(p->diagnostics[0].object == "AccountRequest[0]/AttributeRequest[2]");
}

TEST_CASE("compiler: the plan's strings looked up together first give the same projection", "[compiler]") {
  auto snap = Load();
  ProvisioningPlan plan = Plan(R"(<ProvisioningPlan>
    <AccountRequest application="AD" nativeIdentity="CN=Carol" op="Modify">
      <AttributeRequest name="groups" op="Add" value="admins"/>
      <AttributeRequest name="title" op="Set" value="Lead"/>
    </AccountRequest>
    <AccountRequest application="AD" nativeIdentity="cn=CAROL" op="Modify">
      <AttributeRequest name="groups" op="Remove" value="users"/>
    </AccountRequest>
  </ProvisioningPlan>)");
  ValueIds plain(snap->pool()), first(snap->pool());
  auto a = Project(*snap, snap->FindIdentity("carol"), plan, plain);
  ExpectPlanStrings(plan, first);
  first.Resolve();
  // Found by the string's address: the plan's own strings, as the pool knows them.
  const AttributeRequest& groups = plan.accounts[0].attributes[0];
  CHECK(first.Resolved(groups.value.str) == snap->pool().Find("admins"));
  CHECK(first.Resolved(groups.name) == snap->pool().Find("groups"));
  CHECK(first.Resolved(*plan.accounts[0].native_identity) == snap->pool().Find("CN=Carol"));
  CHECK(first.Resolved(std::string("admins")) == kNoId);               // another copy of the text
  CHECK(first.Resolved(plan.accounts[0].attributes[1].value.str) == kNoId);  // "Lead": not in the pool
  auto b = Project(*snap, snap->FindIdentity("carol"), plan, first);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // The exact native identity matches by id, the other case-insensitively, as before.
  CHECK(Render(*snap, plain, a->post) == "AD/CN=Carol{groups=[auditors,admins];title=Lead}\n"
                                         "assigned=Auditor detected=Admin-IT,Audit-IT");
  CHECK(Render(*snap, first, b->post) == Render(*snap, plain, a->post));
  CHECK(Changes(*snap, first, b->changes) == Changes(*snap, plain, a->changes));
}

TEST_CASE("compiler: delete, disable and a failed request", "[compiler]") {
  auto snap = Load();
  ValueIds ids(snap->pool());
  auto p = Project(*snap, snap->FindIdentity("carol"), Plan(R"(<ProvisioningPlan>
    <AccountRequest application="AD" op="Disable"/>
    <AccountRequest application="ERP" nativeIdentity="carol" op="Create">
      <AttributeRequest name="cap" op="Add" value="pay"/>
      <ProvisioningResult status="failed"/>
    </AccountRequest>
    <AccountRequest application="IIQ" op="Modify">
      <AttributeRequest name="assignedRoles" op="Remove" value="Auditor"/>
    </AccountRequest>
  </ProvisioningPlan>)"), ids);
  REQUIRE(p.ok());
  // Removing Auditor takes back the value only it provided; the account is disabled.
  CHECK(Render(*snap, ids, p->post) ==
        "AD/CN=Carol disabled{groups=[users];title=Clerk;IIQDisabled=true}\n"
        "assigned= detected=");
  REQUIRE(p->diagnostics.size() == 1);
  CHECK(p->diagnostics[0].message == "request has ProvisioningResult status 'failed' and is not applied");

  ValueIds ids2(snap->pool());
  auto d = Project(*snap, snap->FindIdentity("carol"),
                   Plan(R"(<ProvisioningPlan><AccountRequest application="AD" op="Delete"/></ProvisioningPlan>)"), ids2);
  REQUIRE(d.ok());
  CHECK(Render(*snap, ids2, d->post) == "assigned=Auditor detected=");
  CHECK(Changes(*snap, ids2, d->changes) == "AD.groups=auditors AD.groups=users AD.groups=* AD.title=Clerk AD.title=* AD.*=*");
}

TEST_CASE("compiler: requests the snapshot cannot resolve are errors", "[compiler]") {
  auto snap = Load();
  ValueIds ids(snap->pool());
  auto unknown = Project(*snap, snap->FindIdentity("carol"),
                         Plan(R"(<ProvisioningPlan><AccountRequest application="LDAP" op="Modify">
                           <AttributeRequest name="x" value="y"/></AccountRequest></ProvisioningPlan>)"), ids);
  REQUIRE_FALSE(unknown.ok());
  CHECK(DetailOf(unknown.status()) == "AccountRequest[0]: unknown application 'LDAP'");
  CHECK(ErrorCodeOf(unknown.status()) == ErrorCode::kInvalidValue);
}
