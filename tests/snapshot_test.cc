// Loading the real IdentityIQ exports of tests/corpus/iiq (provenance in SOURCES.md).

#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/codecs/snapshot_sources.h"
#include "engine/load/snapshot_builder.h"
#include "engine/query/snapshot_query.h"
#include "engine/wire/list_response.h"
#include "engine/util/file.h"
#include "tests/image_roundtrip.h"

using namespace preflight;

namespace {
const std::string kIiq = PREFLIGHT_CORPUS_DIR "/iiq";

// Each test runs twice: on the exports loaded directly, and on the same exports compiled
// to an image and opened again (engine/image).
std::shared_ptr<const Snapshot> LoadCorpus() {
  auto s = LoadSnapshot({kIiq});
  REQUIRE(s.ok());
  if (!GENERATE(false, true)) return *s;
  auto opened = testing::ThroughImage(**s);
  REQUIRE(opened.ok());
  REQUIRE((*opened)->image().has_value());
  return *opened;
}

const Diagnostic* FindDiagnostic(const Snapshot& s, std::string_view needle) {
  for (const Diagnostic& d : s.diagnostics())
    if (d.where.file.find(needle) != std::string::npos || d.object.find(needle) != std::string::npos) return &d;
  return nullptr;
}
}  // namespace

TEST_CASE("every corpus file loads; the malformed ones are reported precisely", "[snapshot]") {
  auto s = LoadCorpus();
  // The two MALFORMED files of SOURCES.md: reported with file and line, the rest usable.
  const Diagnostic* ldap = FindDiagnostic(*s, "ssb-LDAP-Account-Advanced.xml");
  REQUIRE(ldap != nullptr);
  CHECK(ldap->code == ErrorCode::kInvalidSyntax);
  CHECK(ldap->where.line == 3);
  const Diagnostic* sample = FindDiagnostic(*s, "ssb-Sample-Role-1.xml");
  REQUIRE(sample != nullptr);
  CHECK(sample->code == ErrorCode::kInvalidSyntax);
  CHECK(sample->where.line > 1);

  // Well-formed objects all made it.
  CHECK(s->FindPolicy("Role SOD") != kNoIndex);
  CHECK(s->FindPolicy("Entitlement SOD") != kNoIndex);
  CHECK(s->FindRole("User") != kNoIndex);
  CHECK(s->FindRole("User IT") != kNoIndex);
  CHECK(s->FindIdentity("Amanda.Ross") != kNoIndex);
  CHECK(s->FindApplication("LDAP") != kNoIndex);
  CHECK(s->FindApplication("HR_Employees") != kNoIndex);
}

TEST_CASE("role SoD policy with the same roles on both sides", "[snapshot]") {
  auto s = LoadCorpus();
  const Policy& p = s->policies()[s->FindPolicy("Role SOD")];
  CHECK(p.kind == Policy::Kind::kRoleSod);
  CHECK(p.active);
  REQUIRE(p.constraints.size() == 1);
  const Constraint& c = p.constraints[0];
  CHECK(c.name == "Role Rule");
  // The export references a role "Admin" that is not in it: a diagnostic, and the
  // constraint keeps the roles that resolve.
  REQUIRE(c.left.size() == 1);
  CHECK(s->str(s->roles()[c.left[0]].name) == "User");
  REQUIRE(c.right.size() == 1);
  CHECK(s->str(s->roles()[c.right[0]].name) == "User");
  bool reported = false;
  for (const Diagnostic& d : s->diagnostics())
    reported |= d.object == "Policy[Role SOD]/SODConstraint[1]" && d.message == "unknown role 'Admin'";
  CHECK(reported);
}

TEST_CASE("entitlement SoD policy: selectors, terms, disabled constraint", "[snapshot]") {
  auto s = LoadCorpus();
  const Policy& p = s->policies()[s->FindPolicy("Entitlement SOD")];
  CHECK(p.kind == Policy::Kind::kEntitlementSod);
  CHECK_FALSE(p.active);
  REQUIRE(p.constraints.size() == 2);
  CHECK(p.constraints[0].disabled);
  const Constraint& c = p.constraints[1];
  CHECK_FALSE(c.disabled);
  REQUIRE(c.selectors.size() == 2);
  REQUIRE(c.selectors[0].terms.size() == 1);
  const MatchTerm& t = c.selectors[0].terms[0];
  CHECK(t.name_text == "Group");
  CHECK(t.value_text == "User");
  CHECK(t.application_name == "Contractor System Employee");
}

TEST_CASE("roles: inheritance closure, requirements, profiles and detection index", "[snapshot]") {
  auto s = LoadCorpus();
  const Role& user = s->roles()[s->FindRole("User")];
  CHECK(s->str(user.type) == "business");
  REQUIRE(user.inheritance.size() == 1);
  CHECK(s->str(s->roles()[user.inheritance[0]].name) == "Business Role");
  REQUIRE(user.requirements.size() == 1);
  CHECK(s->str(s->roles()[user.requirements[0]].name) == "User IT");
  CHECK_FALSE(user.detectable);
  const Role& user_it = s->roles()[s->FindRole("User IT")];
  CHECK(user_it.detectable);
  REQUIRE(user_it.profiles.size() == 2);
  CHECK(user_it.profiles[0].constraints[0].op == Filter::Op::kContainsAll);
  // The IT role is found from one of its profile values.
  const Profile& p = user_it.profiles[0];
  const auto* roles = s->RolesMentioning(p.application, p.constraints[0].property, p.constraints[0].values[0]);
  REQUIRE(roles != nullptr);
  CHECK(std::find(roles->begin(), roles->end(), s->FindRole("User IT")) != roles->end());
}

TEST_CASE("advanced policies with rules are recognised and reported unsupported", "[snapshot]") {
  auto s = LoadCorpus();
  Index p = s->FindPolicy("Password Expiration Policy");
  if (p == kNoIndex) {
    // Name as exported.
    for (Index i = 0; i < s->policies().size(); ++i)
      if (s->policies()[i].type == "Advanced" && s->policies()[i].active) p = i;
  }
  REQUIRE(p != kNoIndex);
  const Policy& policy = s->policies()[p];
  CHECK(policy.kind == Policy::Kind::kAdvanced);
  REQUIRE_FALSE(policy.constraints.empty());
  CHECK(policy.constraints[0].unsupported.find("rule '") == 0);
}

TEST_CASE("identity export: attributes, legacy links and instances", "[snapshot]") {
  auto s = LoadCorpus();
  const IdentityView amanda = s->identities()[s->FindIdentity("Amanda.Ross")];
  CHECK_FALSE(amanda.accounts.empty());
  bool has_instance = false;
  for (Index a : amanda.accounts) has_instance |= s->accounts()[a].instance != kNoId;
  CHECK(has_instance);
  auto it = std::find_if(amanda.attributes.begin(), amanda.attributes.end(),
                         [&](const AttrView& v) { return s->str(v.name) == "costcenter"; });
  REQUIRE(it != amanda.attributes.end());
  CHECK(it->multi);
  REQUIRE(it->values.size() == 2);
  CHECK(s->str(it->values[0]) == "R01");
}

TEST_CASE("strict mode fails the whole load on the first error", "[snapshot]") {
  auto s = LoadSnapshot({kIiq}, LoadOptions{true});
  REQUIRE_FALSE(s.ok());
  CHECK(ErrorCodeOf(s.status()) == ErrorCode::kInvalidSyntax);
  CHECK(LocationOf(s.status()).line > 0);
}

TEST_CASE("references to missing objects are diagnostics", "[snapshot]") {
  SnapshotBuilder b;
  REQUIRE(b.AddText(R"(<sailpoint>
    <Policy name="P" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor"><SODConstraints>
      <SODConstraint name="c"><LeftBundles><Reference name="Ghost"/></LeftBundles><RightBundles><Reference name="Ghost2"/></RightBundles></SODConstraint>
    </SODConstraints></Policy>
    <Identity name="i"><AssignedRoles><Reference name="Ghost"/></AssignedRoles>
      <Links><Link nativeIdentity="x"><ApplicationRef><Reference name="NoApp"/></ApplicationRef></Link></Links></Identity>
  </sailpoint>)", "refs.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  std::vector<std::string> messages;
  for (const auto& d : (*s)->diagnostics()) messages.push_back(d.object + ": " + d.message);
  CHECK(messages == std::vector<std::string>{
                        "Identity[i]: unknown role 'Ghost'",
                        "Link[x]: application 'NoApp' is not defined in the snapshot",
                        "Policy[P]/SODConstraint[1]: unknown role 'Ghost'",
                        "Policy[P]/SODConstraint[1]: unknown role 'Ghost2'",
                    });
  CHECK((*s)->identities()[0].assigned_roles.empty());
}

TEST_CASE("snapshot XML: internal and external entities are never expanded", "[snapshot]") {
  // A DTD that declares an external entity (XXE) and an entity bomb; neither is resolved:
  // the names keep the references as text, and only the predefined and numeric ones decode.
  SnapshotBuilder b;
  REQUIRE(b.AddText(R"(<?xml version='1.0'?>
<!DOCTYPE sailpoint [<!ENTITY ext SYSTEM "file:///etc/passwd">
  <!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<sailpoint><Identity name="&ext;&c;&amp;&#x41;"/></sailpoint>)", "xxe.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  REQUIRE((*s)->identities().size() == 1);
  CHECK((*s)->FindIdentity("&ext;&c;&A") == 0);
}

TEST_CASE("SCIM JSON exports load: users with roles, accounts with schema attributes", "[snapshot]") {
  SnapshotBuilder b;
  REQUIRE(b.AddText(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"Resources":[
    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:sailpoint:1.0:User"],
     "id":"u1","userName":"jane","active":true,"title":"Engineer",
     "urn:ietf:params:scim:schemas:sailpoint:1.0:User":{
        "accounts":[{"value":"a1","displayName":"jane"}],
        "roles":[{"value":"assignedRoles","display":"Dev","type":"business","acquired":"Assigned"},
                 {"value":"detectedRoles","display":"Git-IT","type":"it","acquired":"Detected"}]}},
    {"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a1","nativeIdentity":"jane",
     "identity":{"value":"u1","displayName":"jane"},"application":{"value":"app1","displayName":"Git"},
     "urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:Git:account":{"groups":["dev","ops"],"shell":"bash"}}
  ]})", "export.json").ok());
  REQUIRE(b.AddText(R"(<sailpoint><Bundle name="Dev" type="business"/><Bundle name="Git-IT" type="it"/></sailpoint>)", "roles.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  const Snapshot& snap = **s;
  Index jane = snap.FindIdentity("jane");
  REQUIRE(jane != kNoIndex);
  const IdentityView id = snap.identities()[jane];
  REQUIRE(id.assigned_roles.size() == 1);
  CHECK(snap.str(snap.roles()[id.assigned_roles[0]].name) == "Dev");
  REQUIRE(id.detected_roles.size() == 1);
  CHECK(snap.str(snap.roles()[id.detected_roles[0]].name) == "Git-IT");
  REQUIRE(id.accounts.size() == 1);
  const AccountView a = snap.accounts()[id.accounts[0]];
  CHECK(snap.str(snap.applications()[a.application].name) == "Git");
  REQUIRE(a.attributes.size() == 2);
  // The exported resources are queried as exported.
  QueryOptions ids{.attributes = {"id"}};
  CHECK(ListResponseJson(QuerySnapshot(snap, "Users", ids).value()) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,)"
        R"("itemsPerPage":1,"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
        R"("urn:ietf:params:scim:schemas:sailpoint:1.0:User"],"id":"u1"}]})");
  CHECK(ListResponseJson(QuerySnapshot(snap, "Accounts", ids).value()) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,)"
        R"("itemsPerPage":1,"Resources":[{"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],)"
        R"("id":"a1"}]})");
}

TEST_CASE("a file that is neither XML nor JSON is a diagnostic, or an error in strict mode", "[snapshot]") {
  SnapshotBuilder lenient;
  REQUIRE(lenient.AddText("hello", "notes.txt").ok());
  auto s = lenient.Build();
  REQUIRE(s.ok());
  REQUIRE((*s)->diagnostics().size() == 1);
  CHECK((*s)->diagnostics()[0].message == "neither IdentityIQ XML nor SCIM JSON");
  SnapshotBuilder strict(LoadOptions{true});
  CHECK_FALSE(strict.AddText("hello", "notes.txt").ok());
}

TEST_CASE("query: a filter of id eq terms reads the id index and answers as the full scan does", "[snapshot][query]") {
  auto snapshot = LoadSnapshot({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
  REQUIRE(snapshot.ok());
  const Snapshot& snap = **snapshot;
  QueryOptions all{.attributes = {"id", "userName"}};
  QueryPage users = QuerySnapshot(snap, "Users", all).value();
  REQUIRE(users.total_results == 2);
  // Each resource's id, through the fast path (id eq ... or id eq ...) and through a filter that
  // defeats it (an extra term that matches nothing): the same page, in document order.
  std::vector<std::string> ids;
  for (const std::string& r : users.resources) {
    size_t at = r.find("\"id\":\"") + 6;
    ids.push_back(r.substr(at, r.find('"', at) - at));
  }
  auto page = [&](std::string filter) {
    QueryOptions o = all;
    o.filter = std::move(filter);
    return ListResponseJson(QuerySnapshot(snap, "Users", o).value());
  };
  const std::string both = "id eq \"" + ids[1] + "\" or id eq \"" + ids[0] + "\" or id eq \"nobody\"";
  CHECK(page(both) == ListResponseJson(users));
  CHECK(page(both) == page(both + " or userName eq \"no such user\""));
  CHECK(page("id eq \"" + ids[1] + "\"") == page("id eq \"" + ids[1] + "\" or userName eq \"none\""));
  CHECK(QuerySnapshot(snap, "Users", QueryOptions{.filter = "id eq \"nobody\""}).value().total_results == 0);
  // id is caseExact (RFC 7643): another case matches nothing, with or without the index.
  std::string upper = ids[0];
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != ids[0]) CHECK(QuerySnapshot(snap, "Users", QueryOptions{.filter = "id eq \"" + upper + "\""}).value().total_results == 0);
  // One resource by id reads the same index.
  CHECK(SnapshotResource(snap, "Users", ids[1], {"userName"}, {}).ok());
  CHECK(ErrorCodeOf(SnapshotResource(snap, "Users", "nobody", {}, {}).status()) == ErrorCode::kNoSuchResource);
}

TEST_CASE("query: documents made again by each query (past the cache budget) answer as kept ones", "[snapshot][query]") {
  // The same sources twice: one snapshot keeps its documents, the other (a budget of one byte)
  // makes them again for every query. Identities from XML and from a SCIM export, names in
  // mixed case.
  auto build = [] {
    SnapshotBuilder b;
    std::string xml = R"(<sailpoint><Application name="Git"/><Bundle name="Dev" type="business"/>)";
    for (int i = 0; i < 12; ++i) {
      std::string n = std::string(i % 2 ? "user.a" : "User.B") + std::to_string(i);
      xml += "<Identity name=\"" + n + "\" displayName=\"Person " + std::to_string(11 - i % 5) +
             "\"><Links><Link nativeIdentity=\"" + n +
             "\"><ApplicationRef><Reference class=\"sailpoint.object.Application\" name=\"Git\"/></ApplicationRef>"
             "<Attributes><Map><entry key=\"groups\"><value><List><String>dev</String><String>g" + std::to_string(i % 3) +
             "</String></List></value></entry></Map></Attributes></Link></Links></Identity>";
    }
    REQUIRE(b.AddText(xml + "</sailpoint>", "identities.xml").ok());
    REQUIRE(b.AddText(R"({"Resources":[
      {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"jane","displayName":"Jane"},
      {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u2","userName":"Amy","name":{"givenName":"Amy"}},
      {"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a1","nativeIdentity":"jane",
       "identity":{"value":"u1","displayName":"jane"},"application":{"value":"app1","displayName":"Git"}}]})",
                      "export.json").ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    return *std::move(s);
  };
  auto kept = build();
  auto made = build();
  QueryPage names = QuerySnapshot(*kept, "Users", QueryOptions{.attributes = {"userName"}}).value();
  REQUIRE(names.total_results == 14);
  auto name_of = [&](size_t i) {
    const std::string& r = names.resources[i];
    size_t at = r.find("\"userName\":\"") + 12;
    return r.substr(at, r.find('"', at) - at);
  };
  std::string upper = name_of(1);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<QueryOptions> queries = {
      {},
      {.attributes = {"id"}},
      {.filter = "userName eq \"" + upper + "\""},  // caseExact=false: the index is read by its lower case
      {.filter = "userName eq \"USER.A1\" or userName eq \"user.b2\""},
      {.filter = "userName eq \"" + name_of(0) + "\" or userName eq \"" + name_of(2) + "\" or id eq \"nobody\""},
      {.filter = "userName sw \"a\" or meta.resourceType eq \"Account\"", .sort_by = "userName", .descending = true},
      {.sort_by = "id", .start_index = 2, .count = 3},
      {.sort_by = "displayName", .count = 0},
      {.filter = "name pr", .sort_by = "name"},
      {.filter = "userName eq"},  // a syntax error: the same error both ways
  };
  for (std::string_view type : {"Users", "Accounts", "Entitlements", "Roles", "Applications"}) {
    for (const QueryOptions& q : queries) {
      QueryOptions small = q;
      small.cache_bytes = 1;
      absl::StatusOr<QueryPage> a = QuerySnapshot(*kept, type, q);
      absl::StatusOr<QueryPage> b = QuerySnapshot(*made, type, small);
      INFO(type << " filter=" << q.filter << " sortBy=" << q.sort_by);
      REQUIRE(a.ok() == b.ok());
      if (a.ok()) {
        CHECK(ListResponseJson(*a) == ListResponseJson(*b));
      } else {
        CHECK(a.status() == b.status());
      }
    }
  }
  QueryPage users = QuerySnapshot(*kept, "Users", QueryOptions{.filter = "userName eq \"" + upper + "\""}).value();
  CHECK(users.total_results == 1);
  CHECK(QuerySnapshot(*made, "Users", QueryOptions{.filter = "userName eq \"USER.A1\" or userName eq \"user.b2\"", .cache_bytes = 1})
            .value().total_results == 2);
  // One resource by id, both ways.
  QueryPage ids = QuerySnapshot(*kept, "Accounts", QueryOptions{.attributes = {"id"}}).value();
  REQUIRE(ids.total_results == 13);
  for (const std::string& r : ids.resources) {
    size_t at = r.find("\"id\":\"") + 6;
    std::string id = r.substr(at, r.find('"', at) - at);
    CHECK(SnapshotResource(*kept, "Accounts", id, {}, {}).value() == SnapshotResource(*made, "Accounts", id, {}, {}, 1).value());
  }
  // The snapshot past its budget keeps no documents, only the positions and the indexes.
  auto documents = [](const Snapshot& s) {
    for (const auto& [name, bytes] : s.stats().parts)
      if (name == "queryDocuments") return bytes;
    return size_t{0};
  };
  CHECK(documents(*made) * 2 < documents(*kept));
}

TEST_CASE("snapshot stats: the model's bytes by part add up, columns exactly, query documents once built", "[snapshot]") {
  auto s = LoadSnapshot({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
  REQUIRE(s.ok());
  const Snapshot& snap = **s;
  Snapshot::Stats st = snap.stats();
  std::vector<std::string> names;
  size_t sum = 0;
  for (const auto& [name, bytes] : st.parts) {
    names.push_back(name);
    sum += bytes;
  }
  CHECK(names == std::vector<std::string>{
                     "pool.text", "pool.starts", "pool.slots", "identities", "accounts", "identity.roles",
                     "identity.accounts", "attributes", "values", "permissions", "rights", "entitlements",
                     "identity.slots", "resources.Users.text", "resources.Users.starts", "resources.Users.frames",
                     "resources.Users.frameOffsets", "resources.Accounts.text", "resources.Accounts.starts",
                     "resources.Accounts.frames", "resources.Accounts.frameOffsets", "resources.Entitlements.text",
                     "resources.Entitlements.starts", "resources.Entitlements.frames",
                     "resources.Entitlements.frameOffsets", "resources.Roles.text", "resources.Roles.starts",
                     "resources.Roles.frames", "resources.Roles.frameOffsets", "resources.Applications.text",
                     "resources.Applications.starts", "resources.Applications.frames",
                     "resources.Applications.frameOffsets", "roles", "policies", "applications", "indexes", "diagnostics",
                     "queryDocuments"});
  CHECK(sum == st.approx_bytes);
  auto part = [&](std::string_view name) {
    for (const auto& [n, bytes] : st.parts)
      if (n == name) return bytes;
    return size_t{0};
  };
  CHECK(part("identities") == st.identities * sizeof(IdentityRecord));
  CHECK(part("accounts") == snap.accounts().size() * sizeof(AccountRecord));
  CHECK(part("identity.accounts") == st.accounts * sizeof(Index));
  CHECK(part("pool.starts") == (st.strings + 1) * sizeof(uint32_t));
  CHECK(part("entitlements") == st.entitlements * sizeof(EntitlementRecord));
  CHECK(part("identity.slots") == 4 * sizeof(uint32_t));  // two identities: the smallest table over them
  CHECK(part("attributes") == (snap.population().attributes.size()) * sizeof(AttrRecord));
  CHECK(part("queryDocuments") == 0);
  REQUIRE(QuerySnapshot(snap, "Users", QueryOptions{}).ok());
  Snapshot::Stats after = snap.stats();
  CHECK(after.parts.back().first == "queryDocuments");
  CHECK(after.parts.back().second > 0);
  CHECK(after.approx_bytes == st.approx_bytes + after.parts.back().second);
}
