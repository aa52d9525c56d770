// IdentityIQ Filter and selector matching on an identity state (engine/state/match.h):
// role profile filters as MapMatcher reads them, MatchExpressions as Matchmaker does,
// CompoundFilters over identity and account attributes.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/state/match.h"

using namespace preflight;

namespace {

// Each role has one profile on AD with one filter; the test asks which roles match.
constexpr char kSnapshot[] = R"(<sailpoint>
  <Application name="AD"><Schemas><Schema objectType="account" identityAttribute="dn">
    <AttributeDefinition name="dn"/><AttributeDefinition name="groups" multi="true"/>
    <AttributeDefinition name="title"/><AttributeDefinition name="level"/></Schema></Schemas></Application>
  <Application name="ERP"/>
  <Bundle name="eq-title" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="EQ" property="title" value="Lead"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="eq-title-ci" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="EQ" property="title" value="lead" ignoreCase="true"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="eq-groups" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="EQ" property="groups" value="admins"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="all-groups" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>admins</String><String>users</String></List></Value></Filter></Constraints></Profile></Profiles></Bundle>
  <Bundle name="all-groups-case" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>Admins</String></List></Value></Filter></Constraints></Profile></Profiles></Bundle>
  <Bundle name="in-title" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="IN" property="title"><Value><List><String>Chief</String><String>Lead</String></List></Value></Filter></Constraints></Profile></Profiles></Bundle>
  <Bundle name="like-start" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="LIKE" property="title" value="Le" matchMode="START"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="like-end" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="LIKE" property="title" value="Le" matchMode="END"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="ne-title" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="NE" property="title" value="Lead"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="null-level" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="ISNULL" property="level"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="notnull-level" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="NOTNULL" property="level"/></Constraints></Profile></Profiles></Bundle>
  <Bundle name="not-or" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><CompositeFilter operation="NOT"><CompositeFilter operation="OR">
      <Filter operation="EQ" property="title" value="Chief"/>
      <Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>auditors</String></List></Value></Filter>
    </CompositeFilter></CompositeFilter></Constraints></Profile></Profiles></Bundle>
  <Bundle name="two-filters-one-account" type="it"><Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="EQ" property="title" value="Lead"/>
      <Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>ops</String></List></Value></Filter></Constraints></Profile></Profiles></Bundle>
  <Bundle name="and-profiles" type="it"><Profiles>
    <Profile><ApplicationRef><Reference name="AD"/></ApplicationRef><Constraints><Filter operation="EQ" property="title" value="Lead"/></Constraints></Profile>
    <Profile><ApplicationRef><Reference name="ERP"/></ApplicationRef><Constraints><Filter operation="EQ" property="cap" value="pay"/></Constraints></Profile>
  </Profiles></Bundle>
  <Bundle name="or-profiles" type="it" orProfiles="true"><Profiles>
    <Profile><ApplicationRef><Reference name="AD"/></ApplicationRef><Constraints><Filter operation="EQ" property="title" value="Lead"/></Constraints></Profile>
    <Profile><ApplicationRef><Reference name="ERP"/></ApplicationRef><Constraints><Filter operation="EQ" property="cap" value="pay"/></Constraints></Profile>
  </Profiles></Bundle>
  <Policy name="Ent" type="EntitlementSOD" state="Active" executor="sailpoint.policy.EntitlementSODPolicyExecutor">
    <GenericConstraints>
      <GenericConstraint name="or-terms"><IdentitySelector><MatchExpression>
        <MatchTerm name="groups" value="admins"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
        <MatchTerm name="groups" value="users"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
        <MatchTerm name="groups" value="nobody"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
      </MatchExpression></IdentitySelector></GenericConstraint>
      <GenericConstraint name="and-terms"><IdentitySelector><MatchExpression and="true">
        <MatchTerm name="groups" value="admins"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
        <MatchTerm name="groups" value="nobody"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
      </MatchExpression></IdentitySelector></GenericConstraint>
      <GenericConstraint name="negative-and-case"><IdentitySelector><MatchExpression>
        <ApplicationRef><Reference name="AD"/></ApplicationRef>
        <MatchTerm name="groups" value="Admins"/>
        <MatchTerm name="groups" value="auditors" negative="true"/>
      </MatchExpression></IdentitySelector></GenericConstraint>
      <GenericConstraint name="container"><IdentitySelector><MatchExpression>
        <MatchTerm container="true" and="true">
          <MatchTerm name="groups" value="admins"><ApplicationRef><Reference name="AD"/></ApplicationRef></MatchTerm>
          <MatchTerm name="cap" value="pay"><ApplicationRef><Reference name="ERP"/></ApplicationRef></MatchTerm>
        </MatchTerm>
      </MatchExpression></IdentitySelector></GenericConstraint>
      <GenericConstraint name="identity-attribute"><IdentitySelector><MatchExpression>
        <MatchTerm name="department" value="Finance" type="IdentityAttribute"/>
      </MatchExpression></IdentitySelector></GenericConstraint>
      <GenericConstraint name="compound"><IdentitySelector><CompoundFilter>
        <Applications><Reference name="AD"/><Reference name="ERP"/></Applications>
        <CompositeFilter operation="AND">
          <Filter operation="CONTAINS_ALL" property="0:groups"><Value><List><String>admins</String></List></Value></Filter>
          <Filter operation="EQ" property="ERP:cap" value="pay"/>
          <Filter operation="EQ" property="department" value="Finance"/>
        </CompositeFilter>
      </CompoundFilter></IdentitySelector></GenericConstraint>
    </GenericConstraints>
  </Policy>
  <Identity name="dana"><Attributes><Map><entry key="department" value="Finance"/></Map></Attributes>
    <Links>
      <Link nativeIdentity="CN=Dana"><ApplicationRef><Reference name="AD"/></ApplicationRef>
        <Attributes><Map><entry key="groups"><value><List><String>admins</String><String>users</String></List></value></entry>
          <entry key="title" value="Lead"/></Map></Attributes></Link>
      <Link nativeIdentity="CN=Dana2"><ApplicationRef><Reference name="AD"/></ApplicationRef>
        <Attributes><Map><entry key="groups"><value><List><String>ops</String></List></value></entry>
          <entry key="title" value="Chief"/></Map></Attributes></Link>
      <Link nativeIdentity="dana"><ApplicationRef><Reference name="ERP"/></ApplicationRef>
        <Attributes><Map><entry key="cap" value="pay"/></Map></Attributes></Link>
    </Links></Identity>
  <Identity name="erin"><Attributes><Map><entry key="department" value="Sales"/></Map></Attributes>
    <Links>
      <Link nativeIdentity="CN=Erin"><ApplicationRef><Reference name="AD"/></ApplicationRef>
        <Attributes><Map><entry key="groups"><value><List><String>auditors</String></List></value></entry>
          <entry key="title" value="Clerk"/><entry key="level" value="3"/></Map></Attributes></Link>
    </Links></Identity>
</sailpoint>)";

struct Fixture {
  std::shared_ptr<const Snapshot> snap;
  Fixture() {
    SnapshotBuilder b;
    REQUIRE(b.AddText(kSnapshot, "snapshot.xml").ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    snap = *s;
  }
  IdentityState Pre(std::string_view identity, ValueIds& ids) const {
    auto p = Project(*snap, snap->FindIdentity(identity), ProvisioningPlan{}, ids);
    REQUIRE(p.ok());
    return p->pre;
  }
  // The roles whose own profiles match the identity, in snapshot order.
  std::vector<std::string> MatchingRoles(std::string_view identity) const {
    ValueIds ids(snap->pool());
    IdentityState st = Pre(identity, ids);
    MatchContext ctx{*snap, ids};
    std::vector<std::string> out;
    for (const Role& r : snap->roles())
      if (ProfilesMatch(ctx, r, st)) out.emplace_back(snap->str(r.name));
    return out;
  }
  // Each constraint's only selector: "name" when it matches, with the matched leaf terms.
  std::vector<std::string> MatchingSelectors(std::string_view identity) const {
    ValueIds ids(snap->pool());
    IdentityState st = Pre(identity, ids);
    MatchContext ctx{*snap, ids};
    const IdentityView idn = snap->identities()[st.identity];
    std::vector<std::string> out;
    for (const Constraint& c : snap->policies()[0].constraints) {
      std::vector<const MatchTerm*> terms;
      if (!SelectorMatches(ctx, c.selectors[0], st, idn.attributes, &terms)) continue;
      std::string line = c.name;
      for (const MatchTerm* t : terms) line += " " + t->name_text + "=" + t->value_text;
      out.push_back(line);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("match: profile filters read one account at a time, as MapMatcher does", "[match]") {
  Fixture f;
  REQUIRE(f.snap->diagnostics().empty());
  // dana: AD {groups=[admins,users], title=Lead}, AD {groups=[ops], title=Chief}, ERP {cap=pay}.
  CHECK(f.MatchingRoles("dana") == std::vector<std::string>{
      "eq-title",          // EQ on a single value
      "eq-title-ci",       // ignoreCase
      "all-groups",        // CONTAINS_ALL: every listed value on one account
      "in-title",
      "like-start",
      "ne-title",          // NE: the second AD account's title is not Lead
      "null-level",        // no account has `level`
      "not-or",            // the first account is neither Chief nor an auditor
      "and-profiles",      // every profile matched by some account
      "or-profiles"});
  // Not: EQ against a list (eq-groups), a value in another case (all-groups-case),
  // LIKE END, NOTNULL, and two filters that two different accounts satisfy
  // (two-filters-one-account: Lead is on one AD account, ops on the other).
  // erin: AD {groups=[auditors], title=Clerk, level=3}.
  CHECK(f.MatchingRoles("erin") == std::vector<std::string>{"ne-title", "notnull-level"});
}

TEST_CASE("match: selectors, as Matchmaker reads them", "[match]") {
  Fixture f;
  // OR lists every matching leaf; AND with one failing term does not match; a leaf
  // without its own application reads the expression's; values are case-sensitive;
  // a negative term matches when the value is absent; a container uses its own `and`;
  // identity attributes; a CompoundFilter over "0:" and "ERP:" account attributes and an
  // identity attribute.
  CHECK(f.MatchingSelectors("dana") == std::vector<std::string>{
      "or-terms groups=admins groups=users",
      // absent on both AD accounts: a negative term is listed once (TermMatcher.getMatchingLeaves)
      "negative-and-case groups=auditors",
      "container groups=admins cap=pay",
      "identity-attribute department=Finance",
      "compound"});
  CHECK(f.MatchingSelectors("erin").empty());
}
