// SCIM queries over hand-made resources: exact ListResponse texts for filter, sort, paging and
// attribute projection (RFC 7644 sec 3.4.2).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/query/doc.h"
#include "engine/query/query.h"
#include "engine/wire/list_response.h"
#include "engine/util/error.h"

using namespace preflight;

namespace {

const char* kUsers[] = {
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"carol",)"
    R"("name":{"givenName":"Carol","familyName":"Zeta"},"emails":[{"value":"c@b.org","type":"home"},)"
    R"({"value":"carol@a.com","type":"work","primary":true}],"password":"p1"})",
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u2","userName":"Alice",)"
    R"("name":{"givenName":"Alice"},"emails":[{"value":"alice@z.com"}],"active":true,"weight":70.5})",
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],)"
    R"("id":"u3","userName":"bob","name":{"familyName":"Young"},)"
    R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","manager":{"value":"u1","displayName":"Carol"}}})",
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u4","userName":"dave","active":false})",
};

std::vector<Doc> Users() {
  std::vector<Doc> docs;
  for (const char* json : kUsers) {
    absl::StatusOr<Doc> d = DocFromJson(json);
    REQUIRE(d.ok());
    docs.push_back(std::move(*d));
  }
  return docs;
}

const ResourceSchema& Schema() {
  static const ResourceSchema schema =
      ResourceSchema::WithScimDefaults("urn:ietf:params:scim:schemas:core:2.0:User");
  return schema;
}

std::string Query(const QueryOptions& o) {
  static const std::vector<Doc> docs = Users();
  absl::StatusOr<QueryPage> r = RunQuery(std::span<const Doc>(docs), Schema(), o);
  if (!r.ok()) return "error:" + std::string(ScimType(ErrorCodeOf(r.status())));
  return ListResponseJson(*r);
}

const std::string kU = R"("schemas":["urn:ietf:params:scim:schemas:core:2.0:User"])";
const std::string kUE =
    R"("schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"])";

}  // namespace

TEST_CASE("scim filter query: sort ascending case-insensitively, page, project one attribute", "[filter][query]") {
  QueryOptions o;
  o.sort_by = "userName";
  o.start_index = 2;
  o.count = 2;
  o.attributes = {"userName"};
  std::string want = std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)") +
                     R"("totalResults":4,"startIndex":2,"itemsPerPage":2,"Resources":[)" + "{" + kUE +
                     R"(,"id":"u3","userName":"bob"},{)" + kU + R"(,"id":"u1","userName":"carol"}]})";
  CHECK(Query(o) == want);
}

TEST_CASE("scim filter query: descending sort puts missing values first; sub-attribute projection", "[filter][query]") {
  QueryOptions o;
  o.sort_by = "name.familyName";
  o.descending = true;
  o.attributes = {"name.familyName"};
  std::string want = std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)") +
                     R"("totalResults":4,"startIndex":1,"itemsPerPage":4,"Resources":[)" + "{" + kU +
                     R"(,"id":"u2"},{)" + kU + R"(,"id":"u4"},{)" + kU + R"(,"id":"u1","name":{"familyName":"Zeta"}},{)" +
                     kUE + R"(,"id":"u3","name":{"familyName":"Young"}}]})";
  CHECK(Query(o) == want);
}

TEST_CASE("scim filter query: filter, sort by a multi-valued attribute (primary else first)", "[filter][query]") {
  QueryOptions o;
  o.filter = "emails.value ew \".COM\"";
  o.sort_by = "emails";
  o.attributes = {"emails.value"};
  std::string want = std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)") +
                     R"("totalResults":2,"startIndex":1,"itemsPerPage":2,"Resources":[)" + "{" + kU +
                     R"(,"id":"u2","emails":[{"value":"alice@z.com"}]},{)" + kU +
                     R"(,"id":"u1","emails":[{"value":"c@b.org"},{"value":"carol@a.com"}]}]})";
  CHECK(Query(o) == want);
}

TEST_CASE("scim filter query: excludedAttributes never removes id; URN-qualified exclusion", "[filter][query]") {
  QueryOptions o;
  o.filter = "userName eq \"BOB\" or active eq false";
  o.excluded_attributes = SplitAttributeList(
      "emails, name,id ,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
  std::string want = std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)") +
                     R"("totalResults":2,"startIndex":1,"itemsPerPage":2,"Resources":[)" + "{" + kUE +
                     R"(,"id":"u3","userName":"bob","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":)"
                     R"({"employeeNumber":"7"}},{)" +
                     kU + R"(,"id":"u4","userName":"dave","active":false}]})";
  CHECK(Query(o) == want);
}

TEST_CASE("scim filter query: URN-qualified attributes and whole extension", "[filter][query]") {
  QueryOptions o;
  o.filter = "id eq \"u3\"";
  o.attributes = {"urn:ietf:params:scim:schemas:core:2.0:User:userName",
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName"};
  std::string head = std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)") +
                     R"("totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[)";
  CHECK(Query(o) == head + "{" + kUE +
                        R"(,"id":"u3","userName":"bob","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":)"
                        R"({"manager":{"displayName":"Carol"}}}]})");
  o.attributes = {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"};
  CHECK(Query(o) == head + "{" + kUE +
                        R"(,"id":"u3","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":)"
                        R"({"employeeNumber":"7","manager":{"value":"u1","displayName":"Carol"}}}]})");
}

TEST_CASE("scim filter query: paging edge cases and default projection", "[filter][query]") {
  const std::string head = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":4,)";
  QueryOptions o;
  o.count = 0;
  CHECK(Query(o) == head + R"("startIndex":1,"itemsPerPage":0,"Resources":[]})");
  o.count = -3;
  o.start_index = -7;
  CHECK(Query(o) == head + R"("startIndex":1,"itemsPerPage":0,"Resources":[]})");
  o.count.reset();
  o.start_index = 10;
  CHECK(Query(o) == head + R"("startIndex":10,"itemsPerPage":0,"Resources":[]})");
  // Default projection: everything but returned=never (password); numbers keep their form.
  o.start_index = 0;
  o.count = 2;
  std::string want = head + R"("startIndex":1,"itemsPerPage":2,"Resources":[{)" + kU +
                     R"(,"id":"u1","userName":"carol","name":{"givenName":"Carol","familyName":"Zeta"},)"
                     R"("emails":[{"value":"c@b.org","type":"home"},{"value":"carol@a.com","type":"work","primary":true}]},)"
                     "{" + kU +
                     R"(,"id":"u2","userName":"Alice","name":{"givenName":"Alice"},"emails":[{"value":"alice@z.com"}],)"
                     R"("active":true,"weight":70.5}]})";
  CHECK(Query(o) == want);
}

TEST_CASE("scim filter query: errors", "[filter][query]") {
  QueryOptions o;
  o.filter = "userName eq";
  CHECK(Query(o) == "error:invalidFilter");
  o.filter = "active gt true";  // boolean ordering met on u2
  CHECK(Query(o) == "error:invalidFilter");
  o.filter.clear();
  o.sort_by = "a.b.c";
  CHECK(Query(o) == "error:invalidPath");
}

TEST_CASE("scim filter doc: JSON round trip and case-insensitive lookup", "[filter][query]") {
  const char* json = R"({"A":1,"b":[true,null,-2.5e-3,"x\u00e9\"",1.0],"C":{"Dd":{}},"e":[]})";
  absl::StatusOr<Doc> d = DocFromJson(json);
  REQUIRE(d.ok());
  CHECK(DocToJson(*d) == "{\"A\":1,\"b\":[true,null,-0.0025,\"x\xc3\xa9\\\"\",1.0],\"C\":{\"Dd\":{}},\"e\":[]}");
  uint32_t c = d->Find(d->root(), "c");
  REQUIRE(c != Doc::kNone);
  CHECK(d->Find(c, "dd") != Doc::kNone);
  CHECK(d->Find(c, "Dd") == Doc::kNone);  // the key passed must already be lower-case
  CHECK(ErrorCodeOf(DocFromJson("{\"a\":").status()) == ErrorCode::kInvalidSyntax);
  Limits shallow;
  shallow.max_nesting_depth = 2;
  CHECK(ErrorCodeOf(DocFromJson("[[[1]]]", shallow).status()) == ErrorCode::kTooMany);
}
