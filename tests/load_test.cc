// Building a snapshot (engine/load): the named passes, what each one adds, their
// timings, the source hash, and query documents that cannot be parsed.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/codecs/snapshot_sources.h"
#include "engine/load/build_context.h"
#include "engine/load/snapshot_builder.h"
#include "engine/query/snapshot_query.h"

using namespace preflight;

namespace {

constexpr char kXml[] = R"(<sailpoint>
  <Application name="AD"><Schemas><Schema objectType="account" identityAttribute="dn">
    <AttributeDefinition name="dn"/><AttributeDefinition name="groups" multi="true"/></Schema></Schemas></Application>
  <Bundle name="Parent" type="business"/>
  <Bundle name="Admin-IT" type="it"><Inheritance><Reference name="Parent"/></Inheritance><Profiles><Profile>
    <ApplicationRef><Reference name="AD"/></ApplicationRef>
    <Constraints><Filter operation="CONTAINS_ALL" property="groups"><Value><List><String>admins</String></List></Value></Filter></Constraints>
  </Profile></Profiles></Bundle>
  <Bundle name="Other" type="business"/>
  <Policy name="SOD" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor">
    <SODConstraints><SODConstraint name="admin-vs-other">
      <LeftBundles><Reference name="Admin-IT"/></LeftBundles><RightBundles><Reference name="Other"/></RightBundles>
    </SODConstraint></SODConstraints>
  </Policy>
  <ManagedAttribute application="AD" attribute="groups" value="admins" displayName="Administrators"/>
  <Identity name="fay"><Bundles><Reference name="Admin-IT"/></Bundles><Links>
    <Link nativeIdentity="CN=Fay"><ApplicationRef><Reference name="AD"/></ApplicationRef>
      <Attributes><Map><entry key="groups"><value><List><String>admins</String></List></value></entry></Map></Attributes></Link>
  </Links></Identity>
</sailpoint>)";

constexpr char kScim[] = R"({"Resources":[
  {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u9","userName":"gus"}]})";

std::vector<std::string> PassNames() {
  std::vector<std::string> out;
  for (const LoadPass& p : LoadPasses()) out.emplace_back(p.name);
  return out;
}

// `depth` nested arrays inside one User resource.
std::string DeepUser(int depth) {
  return R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"deep","userName":"deep","x":)" +
         std::string(depth, '[') + std::string(depth, ']') + "}";
}

}  // namespace

TEST_CASE("load: the passes, in order, each timed", "[load]") {
  CHECK(PassNames() == std::vector<std::string>{"applications", "roles", "roleIndexes", "identities", "populations",
                                                "policies", "constraintIndex", "entitlements", "queryDocuments", "lookups",
                                                "identityFlags"});
  SnapshotBuilder b;
  REQUIRE(b.AddText(kXml, "snapshot.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  const LoadTimings& t = (*s)->timings();
  std::vector<std::string> timed;
  double sum = 0;
  for (const LoadTimings::Pass& p : t.passes) {
    timed.push_back(p.name);
    CHECK(p.ms >= 0);
    sum += p.ms;
  }
  CHECK(timed == PassNames());
  CHECK(sum <= t.build_ms);
  CHECK(t.files == 1);
  CHECK(t.bytes == sizeof(kXml) - 1);
}

TEST_CASE("load: what each pass adds", "[load]") {
  SnapshotObjects objects;
  REQUIRE(ReadIiqXml(kXml, "snapshot.xml", objects, Limits{}).ok());
  REQUIRE(ReadScimJson(kScim, "users.json", objects, Limits{}).ok());
  Snapshot snap;
  BuildContext ctx(snap, objects);
  auto run = [&](std::string_view name) {
    for (const LoadPass& p : LoadPasses())
      if (p.name == name) return (ctx.*p.run)();
    FAIL("no pass " << name);
  };

  run("applications");
  REQUIRE(snap.applications().size() == 1);
  CHECK(snap.roles().empty());

  run("roles");
  REQUIRE(snap.roles().size() == 3);
  const Role& admin = snap.roles()[1];
  CHECK(admin.inheritance == std::vector<Index>{0});
  CHECK(admin.detectable);
  CHECK(admin.supers_closure.empty());  // not yet: roleIndexes
  CHECK(snap.Children(0) == std::vector<Index>{1});

  run("roleIndexes");
  CHECK(admin.supers_closure == std::vector<Index>{0});
  Id groups = snap.pool().Find("groups"), admins = snap.pool().Find("admins");
  REQUIRE(snap.RolesMentioning(0, groups, admins) != nullptr);
  CHECK(*snap.RolesMentioning(0, groups, admins) == std::vector<Index>{1});
  CHECK(*snap.RolesReading(0, groups, admins) == std::vector<Index>{1});

  run("identities");
  REQUIRE(snap.identities().size() == 2);  // fay (XML) and gus (SCIM)
  CHECK(std::vector<Index>(snap.identities()[0].detected_roles.begin(), snap.identities()[0].detected_roles.end()) ==
        std::vector<Index>{1});
  CHECK(snap.accounts().size() == 1);
  CHECK(snap.FindIdentity("fay") == kNoIndex);  // not yet: lookups

  run("populations");
  CHECK(snap.populations().empty());  // the snapshot defines none

  run("policies");
  REQUIRE(snap.policies().size() == 1);
  CHECK(snap.policies()[0].kind == Policy::Kind::kRoleSod);
  CHECK(snap.any_active_policy());
  CHECK(snap.ConstraintsNamingRole(1) == nullptr);  // not yet: constraintIndex

  run("constraintIndex");
  CHECK(*snap.ConstraintsNamingRole(1) == std::vector<ConstraintRef>{{0, 0}});
  CHECK(*snap.ConstraintsNamingRole(2) == std::vector<ConstraintRef>{{0, 0}});
  CHECK(snap.ActivePoliciesByName() == std::vector<Index>{0});

  run("entitlements");
  REQUIRE(snap.entitlements().size() == 1);
  CHECK(snap.str(snap.entitlements()[0].display_name) == "Administrators");

  CHECK(snap.Resources("Users").empty());
  run("queryDocuments");
  CHECK(snap.Resources("Users").size() == 1);

  run("lookups");
  CHECK(snap.FindIdentity("fay") == 0);
  CHECK(snap.FindRole("Admin-IT") == 1);
  CHECK(snap.FindPolicy("SOD") == 0);
  CHECK(snap.identities()[0].flags == 0);

  run("identityFlags");
  CHECK(snap.identities()[0].flags == (IdentityView::kExpansionNoop | IdentityView::kDetectionConsistent));
  CHECK(snap.diagnostics().empty());
}

TEST_CASE("load: the source hash is the content's, in load order", "[load]") {
  auto hash = [](std::vector<std::pair<std::string, std::string>> sources) {
    SnapshotBuilder b;
    for (const auto& [text, name] : sources) REQUIRE(b.AddText(text, name).ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    return std::string((*s)->source_hash());
  };
  std::string both = hash({{kXml, "a.xml"}, {kScim, "b.json"}});
  CHECK(both.size() == 16);
  CHECK(both.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(hash({{kXml, "renamed.xml"}, {kScim, "other.json"}}) == both);  // names do not count
  CHECK(hash({{kScim, "b.json"}, {kXml, "a.xml"}}) != both);            // order does
  CHECK(hash({{kXml, "a.xml"}}) != both);
  CHECK(hash({}) == "cbf29ce484222325");  // nothing read: the FNV-1a offset basis
  // The same value in every process and on every machine: pinned (computed independently
  // from the definition in engine/load/source_hash.h).
  CHECK(hash({{"abc", "x.txt"}}) == "85a5eebd923cde58");
}

TEST_CASE("load: a resource queries could not read is a load diagnostic", "[load]") {
  SECTION("added through objects(): checked at load") {
    SnapshotBuilder b;
    b.objects().scim_documents.emplace_back("Users", "{\"id\":");
    b.objects().scim_documents.emplace_back("Users", R"({"id":"ok"})");
    auto s = b.Build();
    REQUIRE(s.ok());
    REQUIRE((*s)->diagnostics().size() == 1);
    const Diagnostic& d = (*s)->diagnostics()[0];
    CHECK(d.severity == Severity::kError);
    CHECK(d.code == ErrorCode::kInvalidSyntax);
    CHECK(d.object == "Users[0]");
    CHECK(d.message.rfind("the resource cannot be queried: invalid JSON", 0) == 0);
    TextList users = (*s)->Resources("Users");
    REQUIRE(users.size() == 1);
    CHECK(TextList::Reader(users)[0] == R"({"id":"ok"})");

    SnapshotBuilder strict(LoadOptions{.strict = true});
    strict.objects().scim_documents.emplace_back("Users", "{\"id\":");
    auto refused = strict.Build();
    REQUIRE_FALSE(refused.ok());
    CHECK(ErrorCodeOf(refused.status()) == ErrorCode::kInvalidSyntax);
  }
  SECTION("read within a raised nesting budget, deeper than a query document may be") {
    Limits limits;
    limits.max_nesting_depth = 400;
    SnapshotBuilder b(LoadOptions{.limits = limits});
    REQUIRE(b.AddText(DeepUser(300), "deep.json").ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    REQUIRE((*s)->diagnostics().size() == 1);
    CHECK((*s)->diagnostics()[0].code == ErrorCode::kTooMany);
    CHECK((*s)->diagnostics()[0].message ==
          "the resource cannot be queried: JSON nests deeper than the budget of 256 levels");
    CHECK(QuerySnapshot(**s, "Users", {}).value().total_results == 0);
  }
  SECTION("read within the default budget: always a document, not parsed twice") {
    SnapshotBuilder b;
    REQUIRE(b.AddText(DeepUser(60), "deep.json").ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    CHECK((*s)->diagnostics().empty());
    CHECK(QuerySnapshot(**s, "Users", {}).value().total_results == 1);
  }
}
