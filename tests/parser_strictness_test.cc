// One reading of every input (issue 14): a text the engine accepts means one thing, and a
// text it cannot read that way is an error with a code, a message for humans and a place.
// Each case pins the exact scimType, detail and location.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "engine/codecs/check_request.h"
#include "engine/codecs/plan_codec.h"
#include "engine/util/error.h"
#include "engine/util/file.h"
#include "engine/util/limits.h"

using namespace preflight;

namespace {

struct Outcome {
  std::string scim_type;
  std::string detail;
  int line = 0;
  int column = 0;
  int64_t offset = -1;
  std::string pointer;
};

Outcome Of(const absl::Status& s) {
  INFO(s.ToString());
  REQUIRE_FALSE(s.ok());
  Location where = LocationOf(s);
  return {std::string(ScimType(ErrorCodeOf(s))), DetailOf(s), where.line, where.column, where.offset, where.pointer};
}

void RequireOutcome(const absl::Status& s, const Outcome& want) {
  Outcome got = Of(s);
  CHECK(got.scim_type == want.scim_type);
  CHECK(got.detail == want.detail);
  CHECK(got.line == want.line);
  CHECK(got.column == want.column);
  CHECK(got.offset == want.offset);
  CHECK(got.pointer == want.pointer);
}

constexpr char kJsonType[] = "application/sailpoint.object.ProvisioningPlan+json";

}  // namespace

TEST_CASE("a request body with a repeated key is refused, wherever the key is", "[strict][request]") {
  // First-wins here, last-wins in Python's json and IdentityIQ: two readings. Refuse.
  RequireOutcome(ParseCheckRequest(R"({"identity":"a","plan":{"value":"<x/>","type":"application/xml"},)"
                                   R"("plan":{"value":"{}","type":"application/xml"}})")
                     .status(),
                 {"invalidValue", "duplicate key \"plan\" in the request body: each key may appear once", 0, 0, -1,
                  "/plan"});
  RequireOutcome(ParseCheckRequest(R"({"identity":"a","plan":{"value":"x","type":"t","value":"y"}})").status(),
                 {"invalidValue", "duplicate key \"value\" in the request body: each key may appear once", 0, 0, -1,
                  "/plan/value"});
  // Even in members the check does not read, and through arrays.
  RequireOutcome(ParseCheckRequest(R"({"identity":"a","extra":[1,{"k":1,"k~/":2,"k~/":3}]})").status(),
                 {"invalidValue", "duplicate key \"k~/\" in the request body: each key may appear once", 0, 0, -1,
                  "/extra/1/k~0~1"});
  // Keys equal once decoded are the same key.
  RequireOutcome(ParseCheckRequest(R"({"identity":"a","identit\u0079":"b"})").status(),
                 {"invalidValue", "duplicate key \"identity\" in the request body: each key may appear once", 0, 0, -1,
                  "/identity"});
}

TEST_CASE("request JSON syntax errors carry the byte offset, line and column", "[strict][request]") {
  RequireOutcome(ParseCheckRequest("{\"identity\": \"a\",\n \"plan\": {\"value\": \"x\" \"type\": \"y\"}}").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 41: expected ',' or '}' after an object member", 2, 24,
                  41, ""});
  RequireOutcome(ParseCheckRequest(R"({"identity": 'a'})").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 13: strings take double quotes in JSON, not single quotes",
                  1, 14, 13, ""});
  RequireOutcome(ParseCheckRequest(R"({"identity": "a"} x)").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 18: unexpected text after the JSON value", 1, 19, 18, ""});
  RequireOutcome(ParseCheckRequest(R"({"identity": "a)").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 13: unterminated string", 1, 14, 13, ""});
  RequireOutcome(ParseCheckRequest("").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 0: expected a value, found the end of the text", 1, 1, 0,
                  ""});
}

TEST_CASE("a leading UTF-8 BOM is accepted in requests and JSON and map-form plans", "[strict][request]") {
  const std::string bom = "\xEF\xBB\xBF";
  auto req = ParseCheckRequest(bom + R"({"identity":"a","plan":{"value":"{}","type":"t"}})");
  REQUIRE(req.ok());
  CHECK(req->identity == "a");
  // Offsets stay those of the text as given, BOM included.
  RequireOutcome(ParseCheckRequest(bom + R"({"identity" "a"})").status(),
                 {"invalidSyntax", "request body is not valid JSON at byte 15: expected ':' after the key", 1, 16, 15, ""});
  auto json = DecodePlanJson(bom + R"({"identity":"a"})");
  REQUIRE(json.ok());
  CHECK(json->native_identity == "a");
  auto map = DecodePlanJson(bom + "{identity=a}");
  REQUIRE(map.ok());
  CHECK(map->native_identity == "a");
}

TEST_CASE("max_nesting_depth bounds the request body", "[strict][request]") {
  Limits limits;
  limits.max_nesting_depth = 3;
  CHECK(ParseCheckRequest(R"({"identity":"a","plan":{"value":"{}","type":"t"},"x":[[1]]})", limits).ok());
  RequireOutcome(ParseCheckRequest(R"({"identity":"a","plan":{"value":"{}","type":"t"},"x":[[[1]]]})", limits).status(),
                 {"tooMany", "request body nests deeper than the budget of 3 levels (max_nesting_depth)", 0, 0, -1, ""});
}

TEST_CASE("a JSON plan with a repeated key is refused", "[strict][plan]") {
  RequireOutcome(DecodePlanJson(R"({"accounts":[{"op":"Modify","application":"AD","op":"Delete"}]})").status(),
                 {"invalidValue", "duplicate key \"op\" in the JSON plan: each key may appear once", 0, 0, -1,
                  "/accounts/0/op"});
  RequireOutcome(DecodePlanJson(R"({"identity":"a","identity":"b"})").status(),
                 {"invalidValue", "duplicate key \"identity\" in the JSON plan: each key may appear once", 0, 0, -1,
                  "/identity"});
  // Inside a value too: {"a":1,"a":2} as an attribute value is two readings of one map.
  RequireOutcome(
      DecodePlanJson(R"({"accounts":[{"attributes":[{"name":"n","value":{"a":1,"a":2}}]}]})").status(),
      {"invalidValue", "duplicate key \"a\" in the JSON plan: each key may appear once", 0, 0, -1,
       "/accounts/0/attributes/0/value/a"});
}

TEST_CASE("map-form errors say what was expected, in words, with line and column", "[strict][map]") {
  // The most common mistake: an Active Directory DN as a bare value.
  const std::string dn =
      "{accounts=[{op=Modify, application=AD, attributes=[{op=Add, name=memberOf,\n"
      " value=CN=Admins,OU=Groups,DC=corp}]}]}";
  RequireOutcome(DecodePlanMap(dn).status(),
                 {"invalidSyntax",
                  "expected ',' before the next key, or '}' to close the map, found '='; values containing , = { } [ ] "
                  "cannot be written in the map form; use the JSON form at offset 84\n"
                  "   value=CN=Admins,OU=Groups,DC=corp}]}]}\n"
                  "           ^",
                  2, 10, 84, ""});
  // Through the JSON media type (the map form's fallback) the same message.
  CHECK(Of(DecodePlanJson(dn).status()).detail == Of(DecodePlanMap(dn).status()).detail);
  RequireOutcome(DecodePlanMap("{a=[CN=x]}").status(),
                 {"invalidSyntax",
                  "expected ',' before the next item, or ']' to close the list, found '='; values containing , = { } [ ] "
                  "cannot be written in the map form; use the JSON form at offset 6\n"
                  "  {a=[CN=x]}\n"
                  "        ^",
                  1, 7, 6, ""});
}

TEST_CASE("map form: trailing garbage, unbalanced braces and repeated keys are errors", "[strict][map]") {
  RequireOutcome(DecodePlanMap("{identity=a}}").status(),
                 {"invalidSyntax", "expected the end of the text, found '}' at offset 12\n  {identity=a}}\n              ^", 1, 13, 12,
                  ""});
  RequireOutcome(DecodePlanMap("{identity=a} x").status(),
                 {"invalidSyntax", "expected the end of the text, found 'x' at offset 13\n  {identity=a} x\n               ^", 1, 14,
                  13, ""});
  RequireOutcome(DecodePlanMap("{accounts=[{op=Modify}").status(),
                 {"invalidSyntax",
                  "expected ',' before the next item, or ']' to close the list, found the end of the text at offset 22\n"
                  "  {accounts=[{op=Modify}\n"
                  "                        ^",
                  1, 23, 22, ""});
  RequireOutcome(DecodePlanMap("{accounts=[{op=Modify]}").status(),
                 {"invalidSyntax",
                  "expected ',' before the next key, or '}' to close the map, found ']' at offset 21\n"
                  "  {accounts=[{op=Modify]}\n"
                  "                       ^",
                  1, 22, 21, ""});
  RequireOutcome(DecodePlanMap("{accounts=[{op=Modify, application=AD, op=Delete}]}").status(),
                 {"invalidValue",
                  "duplicate key 'op' in the map: each key may appear once at offset 39\n"
                  "  {accounts=[{op=Modify, application=AD, op=Delete}]}\n"
                  "                                         ^",
                  1, 40, 39, "/accounts/0/op"});
  RequireOutcome(DecodePlanMap("{identity=a, 'identity'=b}").status(),
                 {"invalidValue",
                  "duplicate key 'identity' in the map: each key may appear once at offset 13\n"
                  "  {identity=a, 'identity'=b}\n"
                  "               ^",
                  1, 14, 13, "/identity"});
  // The pointer names the item being read at every level; a key with escapes is the key it
  // decodes to; past 16 keys the map's keys are hashed, with the same outcome.
  RequireOutcome(DecodePlanMap("{accounts=[{op=Modify}, {args={k=[1, {x=1, 'x'=2}]}}]}").status(),
                 {"invalidValue",
                  "duplicate key 'x' in the map: each key may appear once at offset 43\n"
                  "  {accounts=[{op=Modify}, {args={k=[1, {x=1, 'x'=2}]}}]}\n"
                  "                                             ^",
                  1, 44, 43, "/accounts/1/args/k/1/x"});
  RequireOutcome(DecodePlanMap("{ab=1, \"a\\u0062\"=2}").status(),
                 {"invalidValue",
                  "duplicate key 'ab' in the map: each key may appear once at offset 7\n"
                  "  {ab=1, \"a\\u0062\"=2}\n"
                  "         ^",
                  1, 8, 7, "/ab"});
  std::string many = "{args={";
  for (int i = 0; i < 20; ++i) many += "k" + std::to_string(i) + "=" + std::to_string(i) + ", ";
  const size_t dup_at = many.size();
  many += "'k\\u0031\\u0037'=x}}";
  Outcome got = Of(DecodePlanMap(many).status());
  CHECK(got.scim_type == "invalidValue");
  CHECK(got.detail.rfind("duplicate key 'k17' in the map", 0) == 0);
  CHECK(got.offset == static_cast<int64_t>(dup_at));
  CHECK(got.pointer == "/args/k17");
  many.replace(dup_at, std::string::npos, "k20=x}}");
  CHECK(DecodePlanMap(many).ok());
  // No mangled C++ type name in any message.
  for (const char* text : {"{a=\"x}", "/* x", "{a b}", "{a=}", "{a=[1}", "{'a\\q'=1}"}) {
    std::string detail = Of(DecodePlanMap(text).status()).detail;
    INFO(detail);
    CHECK(detail.find("boost") == std::string::npos);
    CHECK(detail.find("N5") == std::string::npos);
    CHECK((detail.rfind("expected ", 0) == 0 || detail.rfind("invalid escape", 0) == 0));
  }
}

TEST_CASE("XML plans: one root, nothing after it, no DOCTYPE but IdentityIQ's, no undefined entity", "[strict][xml]") {
  auto malformed = [](std::string what, int line, int column, int64_t offset) {
    return Outcome{"invalidSyntax", "malformed XML: " + what, line, column, offset, ""};
  };
  const std::string plan = R"(<ProvisioningPlan><AccountRequest application="AD" op="Modify"/></ProvisioningPlan>)";
  RequireOutcome(DecodePlanXml(plan + "<ProvisioningPlan/>").status(),
                 malformed("a second root element: an XML plan has exactly one", 1, 84, 83));
  RequireOutcome(DecodePlanXml(plan + "\ntrailing").status(),
                 malformed("text after the root element (only comments and blanks may follow it)", 2, 1, 84));
  CHECK(DecodePlanXml(plan + "\n<!-- a comment --> <?pi x?>\n").ok());
  // The entity of an internal DTD must not stay literal: the DOCTYPE is refused.
  const std::string doctype_why =
      "a DOCTYPE is not accepted in an XML plan, except IdentityIQ's own (<!DOCTYPE ProvisioningPlan PUBLIC "
      "\"sailpoint.dtd\" \"sailpoint.dtd\">): no internal subset, no entity";
  RequireOutcome(
      DecodePlanXml("<?xml version='1.0'?>\n<!DOCTYPE ProvisioningPlan [<!ENTITY g \"UnixAdministration\">]>\n"
                    "<ProvisioningPlan><AccountRequest application=\"AD\" op=\"Modify\"><AttributeRequest "
                    "name=\"groupmbr\" op=\"Add\" value=\"&g;\"/></AccountRequest></ProvisioningPlan>")
          .status(),
      malformed(doctype_why, 2, 1, 22));
  RequireOutcome(DecodePlanXml("<!DOCTYPE ProvisioningPlan SYSTEM \"http://example.com/x.dtd\">" + plan).status(),
                 malformed(doctype_why, 1, 1, 0));
  // IdentityIQ's own DOCTYPE, on every plan it writes, stays accepted.
  CHECK(DecodePlanXml("<!DOCTYPE ProvisioningPlan PUBLIC \"sailpoint.dtd\" \"sailpoint.dtd\">\n" + plan).ok());
  CHECK(DecodePlanXml("<!DOCTYPE ProvisioningPlan SYSTEM 'sailpoint.dtd'>" + plan).ok());
  // Without a DTD an entity reference is undefined.
  RequireOutcome(DecodePlanXml(R"(<ProvisioningPlan nativeIdentity="&g;"/>)").status(),
                 malformed("undefined entity &g; (an XML plan declares no entities: only &amp; &lt; &gt; &quot; &apos; "
                           "and character references)",
                           1, 35, 34));
  // "&#0;" used to cut the value short.
  RequireOutcome(DecodePlanXml(R"(<ProvisioningPlan nativeIdentity="a&#0;b"/>)").status(),
                 malformed("character reference &#0; is to U+0000, which XML does not allow", 1, 36, 35));
  RequireOutcome(DecodePlanXml("<ProvisioningPlan><Attributes><Map><entry key=\"k\"><value><String>x&#xFFFF;</String>"
                               "</value></entry></Map></Attributes></ProvisioningPlan>")
                     .status(),
                 malformed("character reference &#xFFFF; is to U+FFFF, which XML does not allow", 1, 67, 66));
  RequireOutcome(DecodePlanXml("<ProvisioningPlan nativeIdentity=\"a\x01\"/>").status(),
                 malformed("character U+0001 is not allowed in XML", 1, 36, 35));
  RequireOutcome(DecodePlanXml("<ProvisioningPlan nativeIdentity=\"\xC3\"/>").status(),
                 malformed("invalid UTF-8 (an XML plan is UTF-8 text)", 1, 35, 34));
  // An unescaped '&' is bad XML (IdentityIQ answers "XML is not valid"), never read leniently.
  RequireOutcome(DecodePlanXml(R"(<ProvisioningPlan nativeIdentity="R&D"/>)").status(),
                 malformed("an unescaped '&' is not XML (write &amp;)", 1, 36, 35));
  RequireOutcome(DecodePlanXml("<ProvisioningPlan><AccountRequest application=\"AT&T\"/></ProvisioningPlan>").status(),
                 malformed("an unescaped '&' is not XML (write &amp;)", 1, 50, 49));
  RequireOutcome(DecodePlanXml(R"(<ProvisioningPlan nativeIdentity="a" nativeIdentity="b"/>)").status(),
                 malformed("attribute 'nativeIdentity' appears twice on one element", 1, 38, 37));
  // A processing instruction's target must be a name (found by fuzz/plan_xml_strict:
  // tests/corpus/fuzz-regressions/plan_xml_strict/).
  RequireOutcome(DecodePlanXml("<?x,ml version='1.0'?>" + plan).status(),
                 malformed("a processing instruction needs a target name", 1, 4, 3));
  RequireOutcome(DecodePlanXml("<?xml ver<List>sion='1.0'?>" + plan).status(),
                 malformed("malformed XML declaration (<?xml version=\"1.0\" encoding=\"UTF-8\"?>)", 1, 1, 0));
  RequireOutcome(DecodePlanXml("<?xMl version='1.0' encoding='T-F8U'?>" + plan).status(),
                 malformed("the processing instruction target 'xml' is reserved, in any case", 1, 1, 0));
  CHECK(DecodePlanXml("<?xml version=\"1.0\" encoding='UTF-8' standalone=\"yes\" ?>" + plan).ok());
  // A BOM is fine.
  CHECK(DecodePlanXml("\xEF\xBB\xBF" + plan).ok());
}

TEST_CASE("plan_xml_strict regressions stay refused", "[strict][xml][fuzz]") {
  int replayed = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(PREFLIGHT_CORPUS_DIR "/fuzz-regressions/plan_xml_strict")) {
    auto text = ReadFileToString(entry.path().string());
    REQUIRE(text.ok());
    INFO(entry.path().filename().string());
    CHECK(Of(DecodePlanXml(*text).status()).scim_type == "invalidSyntax");
    ++replayed;
  }
  CHECK(replayed >= 3);
}
