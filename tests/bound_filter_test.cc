// Bound SCIM filters (engine/query/bound_filter.h): a filter bound once against a
// declared resource schema, then evaluated on many documents; what binding rejects and
// what only evaluation can.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/query/bound_filter.h"
#include "engine/util/error.h"

using namespace preflight;

namespace {

ResourceSchema Schema() {
  ResourceSchema schema("urn:example:Person");
  REQUIRE(schema.Declare("title", AttrInfo{.type = AttrType::kString, .case_exact = true}).ok());
  REQUIRE(schema.Declare("active", AttrInfo{.type = AttrType::kBoolean}).ok());
  REQUIRE(schema.Declare("level", AttrInfo{.type = AttrType::kInteger}).ok());
  REQUIRE(schema.Declare("secret", AttrInfo{.returned_never = true}).ok());
  REQUIRE(schema.DeclareDateTime("hired").ok());
  return schema;
}

const std::vector<std::string> kPeople = {
    R"({"id":"1","title":"Lead","nick":"LEAD","active":true,"level":3,"hired":"2019-05-01T09:00:00+02:00",
        "groups":["admins","users"],"secret":"x","flag":true,
        "emails":[{"value":"a@corp.example","type":"work"},{"value":"a@home.example","type":"home"}]})",
    R"({"id":"2","title":"lead","active":false,"level":10,"hired":"2021-01-01T00:00:00Z","groups":[],"flag":"yes"})",
    R"({"id":"3","nick":"lead","level":2.5,"groups":"ops"})",
};

// Which documents one bound filter matches ("1,3"), or the evaluation error's scimType.
std::string Matching(const std::string& filter) {
  auto bound = CompileFilter(filter, Schema());
  if (!bound.ok()) return "bind error: " + std::string(ScimType(ErrorCodeOf(bound.status())));
  std::string out;
  for (const std::string& json : kPeople) {
    auto doc = DocFromJson(json);
    REQUIRE(doc.ok());
    auto m = bound->Matches(*doc);
    if (!m.ok()) return "eval error: " + std::string(ScimType(ErrorCodeOf(m.status())));
    if (*m) {
      if (!out.empty()) out += ",";
      out += std::string(doc->str(doc->node(doc->Find(doc->root(), "id"))));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("bound filter: declared characteristics decide comparisons", "[query][bound]") {
  CHECK(Matching(R"(title eq "Lead")") == "1");            // caseExact declared
  CHECK(Matching(R"(nick eq "lead")") == "1,3");           // undeclared: caseExact=false
  CHECK(Matching(R"(level gt 2)") == "1,2,3");
  CHECK(Matching(R"(level ge 3 and level lt 10)") == "1");
  CHECK(Matching(R"(active eq true)") == "1");
  CHECK(Matching(R"(hired lt "2019-05-01T08:00:00Z")") == "1");  // 07:00Z
  CHECK(Matching(R"(hired gt "2020-01-01T00:00:00Z")") == "2");
  CHECK(Matching(R"(secret eq "x")") == "");               // returned=never never matches
  CHECK(Matching(R"(secret pr)") == "");
}

TEST_CASE("bound filter: multi-valued attributes, presence and value paths", "[query][bound]") {
  CHECK(Matching(R"(groups eq "users")") == "1");          // any element
  CHECK(Matching(R"(groups pr)") == "1,3");                // an empty array is absent
  CHECK(Matching(R"(not (groups pr))") == "2");
  CHECK(Matching(R"(emails[type eq "work" and value ew "corp.example"])") == "1");
  CHECK(Matching(R"(emails[type eq "home" and value ew "corp.example"])") == "");
  CHECK(Matching(R"(emails.value co "home")") == "1");
  CHECK(Matching(R"(title eq null)") == "3");
}

TEST_CASE("bound filter: binding rejects what the schema rules out; evaluation the rest", "[query][bound]") {
  CHECK(Matching(R"(active gt true)") == "bind error: invalidFilter");     // ordering a declared boolean
  CHECK(Matching(R"(hired gt "yesterday")") == "bind error: invalidFilter");  // not a dateTime
  CHECK(Matching(R"(level gt null)") == "bind error: invalidFilter");
  CHECK(Matching(R"(title eq )") == "bind error: invalidFilter");
  // `flag` is undeclared: only the document's own JSON type says that ordering a
  // boolean is an error.
  CHECK(Matching(R"(flag gt "a")") == "eval error: invalidFilter");
}
