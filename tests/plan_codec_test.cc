// ProvisioningPlan codecs: XML, toMap JSON and the Map.toString form (engine/codecs/plan_codec.h).

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/codecs/plan_codec.h"
#include "engine/util/error.h"
#include "grammar/plan_map.h"

namespace preflight {
namespace {

std::string PlansDir() { return std::string(PREFLIGHT_CORPUS_DIR) + "/plans"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> CorpusPlans() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(PlansDir()))
    if (e.path().extension() == ".xml") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

ProvisioningPlan MustDecodeXml(const std::string& file) {
  absl::StatusOr<ProvisioningPlan> p = DecodePlanXml(ReadFile(PlansDir() + "/" + file));
  INFO(file << ": " << p.status().ToString());
  REQUIRE(p.ok());
  return *std::move(p);
}

// JSON has no date kind: a Date travels as its epoch millis and comes back an Integer.
void DatesToIntegers(Value& v) {
  if (v.kind == Value::Kind::kDate) v.kind = Value::Kind::kInteger;
  for (Value& i : v.list) DatesToIntegers(i);
  for (auto& [k, i] : v.map) DatesToIntegers(i);
}
void DatesToIntegers(AttributeMap& m) {
  for (auto& [k, v] : m) DatesToIntegers(v);
}
template <typename R>
void DatesToIntegersRequest(R& r) {
  DatesToIntegers(r.args);
  for (AttributeRequest& a : r.attributes) {
    DatesToIntegers(a.value);
    DatesToIntegers(a.args);
  }
  for (PermissionRequest& p : r.permissions) DatesToIntegers(p.args);
}
ProvisioningPlan WithoutDates(ProvisioningPlan p) {
  DatesToIntegers(p.args);
  for (AccountRequest& a : p.accounts) DatesToIntegersRequest(a);
  for (ObjectRequest& o : p.objects) DatesToIntegersRequest(o);
  return p;
}

void RequireError(const absl::Status& s, ErrorCode code) {
  INFO(s.ToString());
  REQUIRE_FALSE(s.ok());
  REQUIRE(ErrorCodeOf(s) == code);
}

constexpr const char* kDocumentedExample =
    "{accounts=[{op=Modify, instance=null, application=Active_Directory, attributes=[{op=Add, name=groupmbr, "
    "value=UnixAdministration}], nativeIdentity=null}]}";

}  // namespace

TEST_CASE("plan corpus: every file decodes and round-trips through XML and JSON", "[plan]") {
  std::vector<std::string> files = CorpusPlans();
  REQUIRE(files.size() == 22);
  for (const std::string& file : files) {
    INFO(file);
    ProvisioningPlan plan = MustDecodeXml(file);
    REQUIRE(plan.accounts.size() + plan.objects.size() > 0);

    // XML: model -> XML -> model is the identity, and the encoding is a fixed point.
    std::string xml = EncodePlanXml(plan);
    absl::StatusOr<ProvisioningPlan> again = DecodePlanXml(xml);
    INFO(xml);
    REQUIRE(again.ok());
    REQUIRE(*again == plan);
    REQUIRE(EncodePlanXml(*again) == xml);
    REQUIRE(xml.rfind("<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE ProvisioningPlan PUBLIC "
                      "\"sailpoint.dtd\" \"sailpoint.dtd\">\n<ProvisioningPlan",
                      0) == 0);

    // JSON: XML -> JSON -> model keeps everything (dates become integers), JSON is a fixed point.
    std::string json = EncodePlanJson(plan);
    absl::StatusOr<ProvisioningPlan> from_json = DecodePlanJson(json);
    INFO(json << "\n" << from_json.status().ToString());
    REQUIRE(from_json.ok());
    REQUIRE(*from_json == WithoutDates(plan));
    REQUIRE(EncodePlanJson(*from_json) == json);
    REQUIRE(EncodePlanJson(*from_json, 2) == EncodePlanJson(*DecodePlanJson(EncodePlanJson(plan, 2)), 2));
    // And back to XML: the same XML when there was no date to lose.
    if (WithoutDates(plan) == plan) REQUIRE(EncodePlanXml(*from_json) == xml);
  }
}

TEST_CASE("plan decoded into a reused scratch: the same plan or error as a fresh decode, whatever came before",
          "[plan]") {
  // Every corpus plan as JSON (short and long strings, lists of values, objects, args), the
  // map form, XML, and texts that fail: each decoded after each into one scratch.
  std::vector<std::pair<std::string, PlanFormat>> texts;
  for (const std::string& file : CorpusPlans()) {
    texts.emplace_back(EncodePlanJson(MustDecodeXml(file)), PlanFormat::kJson);
    if (texts.size() == 1) texts.emplace_back(ReadFile(PlansDir() + "/" + file), PlanFormat::kXml);
  }
  texts.emplace_back(kDocumentedExample, PlanFormat::kJson);
  texts.emplace_back(R"({"accounts":[{"application":"A long application name","op":"Sideways"}]})", PlanFormat::kJson);
  texts.emplace_back(R"({"accounts":[{"application":"x","application":"y"}]})", PlanFormat::kJson);
  texts.emplace_back("{\"accounts\":[", PlanFormat::kJson);
  texts.emplace_back("{}", PlanFormat::kJson);
  // The map form read as such: escapes, nested values, many keys, and failures.
  texts.emplace_back(kDocumentedExample, PlanFormat::kMap);
  texts.emplace_back("{accounts=[{op=Create, application='My \\u00c9 App', nativeIdentity=0012, "
                     "attributes=[{name=\"a\\\"b\", value=[1, TRUE, null, 'x,y'], op=Set}]}], custom={k=v}}",
                     PlanFormat::kMap);
  std::string many_keys = "{args={";
  for (int i = 0; i < 40; ++i) many_keys += "key" + std::to_string(i) + "='value " + std::to_string(i) + "', ";
  texts.emplace_back(many_keys + "}}", PlanFormat::kMap);
  texts.emplace_back("{accounts=[{op=Modify, op=Delete}]}", PlanFormat::kMap);
  texts.emplace_back("{accounts=[{op=Modify}", PlanFormat::kMap);
  PlanScratch scratch;
  for (const auto& [before, before_format] : texts) {
    for (const auto& [text, format] : texts) {
      (void)DecodePlanInto(before, before_format, DefaultLimits(), scratch);
      absl::StatusOr<ProvisioningPlan> want = DecodePlan(text, format);
      absl::Status got = DecodePlanInto(text, format, DefaultLimits(), scratch);
      INFO(before << "\nthen\n" << text << "\n" << got.ToString());
      REQUIRE(got == want.status());
      if (want.ok()) REQUIRE(scratch.plan == *want);
    }
  }
}

TEST_CASE("plan corpus: decoded fields", "[plan]") {
  SECTION("SIM add: plan identity, account, attribute value as attribute") {
    ProvisioningPlan p = MustDecodeXml("iiq72-sim-plan-add.xml");
    REQUIRE(p.native_identity == "idm1");
    REQUIRE(p.accounts.size() == 1);
    const AccountRequest& a = p.accounts[0];
    REQUIRE(a.application == "IDM/IdentityIQ Integration Demo");
    REQUIRE(a.native_identity == "idm1");
    REQUIRE(a.op == AccountOp::kModify);
    REQUIRE(a.attributes.size() == 1);
    REQUIRE(a.attributes[0].name == "groups");
    REQUIRE(a.attributes[0].op == AttributeOp::kAdd);
    REQUIRE(a.attributes[0].value == Value::String("Group B"));
    REQUIRE(p.extra.empty());
  }
  SECTION("SIM create/delete/disable/enable ops; absent plan identity") {
    REQUIRE(MustDecodeXml("iiq72-sim-plan-create.xml").accounts[0].op == AccountOp::kCreate);
    REQUIRE(MustDecodeXml("iiq72-sim-plan-create.xml").accounts[0].attributes.size() == 3);
    REQUIRE(MustDecodeXml("iiq72-sim-plan-delete.xml").accounts[0].op == AccountOp::kDelete);
    REQUIRE(MustDecodeXml("iiq72-sim-plan-disable.xml").accounts[0].op == AccountOp::kDisable);
    REQUIRE(MustDecodeXml("iiq72-sim-plan-enable.xml").accounts[0].op == AccountOp::kEnable);
    REQUIRE(MustDecodeXml("iiq72-sim-plan-remove.xml").accounts[0].attributes[0].op == AttributeOp::kRemove);
    ProvisioningPlan cu = MustDecodeXml("iiq72-sim-plan-createuser.xml");
    REQUIRE_FALSE(cu.native_identity.has_value());
    REQUIRE(cu.accounts[0].attributes[2].name == "password");
    REQUIRE(cu.accounts[0].attributes[2].op == AttributeOp::kSet);
  }
  SECTION("list value, plan trackingId/targetIntegration, Requesters kept verbatim") {
    ProvisioningPlan p = MustDecodeXml("mahesh-RolesProvisioning-seg07-memberOf-add-valuelist.xml");
    REQUIRE(p.tracking_id == "085d84e48c79447bb68a6e1c8046aa5d");
    REQUIRE(p.target_integration == "ActiveDirectory");
    const AttributeRequest& r = p.accounts[0].attributes[0];
    REQUIRE(r.name == "memberOf");
    REQUIRE(r.op == AttributeOp::kAdd);
    REQUIRE(r.value.kind == Value::Kind::kList);
    REQUIRE(r.value.Strings() == std::vector<std::string>{"CN=DEV_All,OU=Groups,OU=Demo,DC=Eshiam,DC=com",
                                                          "CN=DEV_EastCoast,OU=Groups,OU=Demo,DC=Eshiam,DC=com",
                                                          "CN=Compensation,OU=Groups,OU=Demo,DC=Eshiam,DC=com",
                                                          "CN=Corporate-VPN,OU=Groups,OU=Demo,DC=Eshiam,DC=com"});
    REQUIRE(p.args.size() == 3);
    REQUIRE(*FindAttribute(p.args, "identityRequestId") == Value::String("0000000174"));
    REQUIRE(p.extra.xml_elements == std::vector<std::string>{
                                        "<Requesters><Reference class=\"sailpoint.object.Identity\" "
                                        "id=\"c0a81d898f331ca3818f33fcf64800ff\" name=\"spadmin\"/></Requesters>"});
  }
  SECTION("two removes with request args; Boolean plan argument") {
    ProvisioningPlan p = MustDecodeXml("mahesh-RolesProvisioning-seg11-memberOf-remove-two.xml");
    REQUIRE(*FindAttribute(p.args, "inRetry") == Value::Boolean(true));
    const AccountRequest& a = p.accounts[0];
    REQUIRE(a.target_integration == "ActiveDirectory");
    REQUIRE(*FindAttribute(a.args, "attachments") == Value::Null());
    REQUIRE(*FindAttribute(a.args, "operation") == Value::String("EntitlementRemove"));
    REQUIRE(a.attributes.size() == 2);
    REQUIRE(a.attributes[1].op == AttributeOp::kRemove);
    REQUIRE(a.attributes[1].value == Value::String("CN=AccountingGeneral,OU=Groups,OU=Demo,DC=Eshiam,DC=com"));
    REQUIRE(a.attributes[1].args == AttributeMap{{"assignment", Value::String("true")}});
  }
  SECTION("displayValue and assignmentId") {
    ProvisioningPlan p = MustDecodeXml("mahesh-1-identity_2-entitlements-seg01-add-displayValue.xml");
    const AttributeRequest& r = p.accounts[0].attributes[0];
    REQUIRE(r.display_value == "Cost-SavingsAnalysis");
    REQUIRE(r.assignment_id == "4e2a6dd73a154e11893e8600ebfeea62");
    REQUIRE(r.name == "GroupName");
  }
  SECTION("results: retry with errors; committed at account and plan level") {
    ProvisioningPlan p = MustDecodeXml("mahesh-atldap-seg02-set-retry-result-errors.xml");
    REQUIRE(p.accounts[0].result.has_value());
    REQUIRE(p.accounts[0].result->status == "retry");
    REQUIRE(p.accounts[0].result->errors == std::vector<std::string>{"Connection timed out: connect"});
    ProvisioningPlan c = MustDecodeXml("mahesh-LDAP_Disable_Enable-seg06-enable-set-then-remove-committed.xml");
    REQUIRE(c.accounts[0].op == AccountOp::kEnable);
    REQUIRE(c.accounts[0].result->status == "committed");
    REQUIRE(c.result->status == "committed");
    REQUIRE(c.accounts[0].attributes[0].op == AttributeOp::kSet);
    REQUIRE(c.accounts[0].attributes[1].op == AttributeOp::kRemove);
  }
  SECTION("ObjectRequest with a Set list") {
    ProvisioningPlan p = MustDecodeXml("mahesh-GroupProvisioning-seg01-objectrequest-set-list.xml");
    REQUIRE(p.accounts.empty());
    REQUIRE(p.objects.size() == 1);
    REQUIRE(p.objects[0].type == "group");
    REQUIRE(p.objects[0].op == "Modify");
    REQUIRE(p.objects[0].attributes[0].op == AttributeOp::kSet);
    REQUIRE(p.objects[0].attributes[0].value.list.size() == 2);
  }
  SECTION("Disable with an enum-typed argument kept verbatim") {
    ProvisioningPlan p = MustDecodeXml("mahesh-LDAP_Disable_Enable-seg01-disable.xml");
    REQUIRE(p.accounts[0].op == AccountOp::kDisable);
    const Value* op = FindAttribute(p.accounts[0].args, "operation");
    REQUIRE(op != nullptr);
    REQUIRE(op->Find("#xml") != nullptr);
    REQUIRE(op->Find("#xml")->str == "<AccountOperation>Disable</AccountOperation>");
  }
  SECTION("IIQ assignedRoles with ProvisioningTargets kept") {
    ProvisioningPlan p = MustDecodeXml("mahesh-RolesProvisioning-seg01-iiq-assignedRoles-add.xml");
    REQUIRE(p.accounts[0].is_iiq());
    REQUIRE_FALSE(p.accounts[0].native_identity.has_value());
    REQUIRE(p.accounts[0].attributes[0].name == "assignedRoles");
    REQUIRE(p.accounts[0].attributes[0].value == Value::String("ITAccountRoles"));
    REQUIRE(p.extra.xml_elements.size() == 1);
    REQUIRE(p.extra.xml_elements[0].rfind("<ProvisioningTargets><ProvisioningTarget assignmentId=", 0) == 0);
  }
  SECTION("IdentityRequest: the MasterPlan is the plan") {
    ProvisioningPlan p = MustDecodeXml("ssb-Sample-IdentityRequest-1.xml");
    REQUIRE_FALSE(p.tracking_id.has_value());  // the MasterPlan, not the partitioned plan
    REQUIRE(p.accounts.size() == 1);
    REQUIRE(p.accounts[0].application == "Contractor System Employee");
    REQUIRE(p.accounts[0].attributes[0].name == "Group");
    REQUIRE(p.accounts[0].attributes[0].value == Value::String("Admin"));
    REQUIRE(p.accounts[0].attributes[0].assignment_id == "8a01d8d381f7445894ba06631cb385f0");
    ProvisioningPlan q = MustDecodeXml("ssb-Sample-IdentityRequest-2.xml");
    REQUIRE(q.accounts.size() == 2);
    REQUIRE(q.accounts[0].application == "LDAP");
    REQUIRE(q.accounts[1].application == "HR System");
    REQUIRE(q.accounts[1].op == AccountOp::kCreate);
    REQUIRE(q.accounts[1].attributes.empty());
  }
}

TEST_CASE("plan XML: wrappers, DOCTYPE and entities", "[plan]") {
  SECTION("sailpoint wrapper") {
    auto p = DecodePlanXml(
        "<?xml version='1.0'?><!DOCTYPE sailpoint PUBLIC \"sailpoint.dtd\" \"sailpoint.dtd\">"
        "<sailpoint><ProvisioningPlan><AccountRequest application='A' op='Lock'/></ProvisioningPlan></sailpoint>");
    REQUIRE(p.ok());
    REQUIRE(p->accounts[0].op == AccountOp::kLock);
  }
  SECTION("entities are never expanded beyond the predefined and numeric ones") {
    // An internal subset could declare them: refused, never ignored (tests/parser_strictness_test.cc).
    auto p = DecodePlanXml(
        "<!DOCTYPE ProvisioningPlan [<!ENTITY x \"boom\"> <!ENTITY ext SYSTEM \"file:///etc/passwd\">]>"
        "<ProvisioningPlan nativeIdentity=\"&x;&ext;&lt;&#65;&#x42;\"/>");
    RequireError(p.status(), ErrorCode::kInvalidSyntax);
    p = DecodePlanXml("<ProvisioningPlan nativeIdentity=\"&lt;&#65;&#x42;&amp;&quot;&apos;&gt;\"/>");
    REQUIRE(p.ok());
    REQUIRE(p->native_identity == "<AB&\"'>");
  }
  SECTION("text that is blank only once decoded is layout, like any blank text") {
    // Found by plan_xml_roundtrip: "&#32;" between elements was kept as an unknown element,
    // which the encoder wrote as plain blanks that the next decode dropped.
    auto p = DecodePlanXml(
        "<ProvisioningPlan>&#10;<AccountRequest application='A'>&#32;<![CDATA[ \t]]><AttributeRequest name='a'/>"
        "</AccountRequest><Attributes>&#10;<Map>&#9;<entry key='k'><value><List>&#32;<String>x</String></List>"
        "</value></entry></Map></Attributes></ProvisioningPlan>");
    REQUIRE(p.ok());
    CHECK(p->extra.xml_elements.empty());
    REQUIRE(p->accounts.size() == 1);
    CHECK(p->accounts[0].extra.xml_elements.empty());
    CHECK(p->accounts[0].attributes.size() == 1);
    CHECK(p->args[0].second == Value::List({Value::String("x")}));
    CHECK(*DecodePlanXml(EncodePlanXml(*p)) == *p);
    auto text = DecodePlanXml("<ProvisioningPlan><AccountRequest application='A'>&#65;</AccountRequest></ProvisioningPlan>");
    RequireError(text.status(), ErrorCode::kInvalidValue);
    CHECK(text.status().message().find("unexpected text in <AccountRequest>") != std::string_view::npos);
  }
  SECTION("escaping round trip of awkward strings") {
    ProvisioningPlan plan;
    AccountRequest& a = plan.accounts.emplace_back();
    a.application = "a\"b'c<d>&e\tf\ng\rh";
    a.native_identity = "  lead and trail  ";
    AttributeRequest& r = a.attributes.emplace_back();
    r.name = "x";
    r.value = Value::List({Value::String("  "), Value::String("\n"), Value::String(" a\r\nb "), Value::String(""),
                           Value::String("]]> &amp; \xC3\xA9"), Value::Null()});
    r.args = {{"blank", Value::String(" ")}, {"empty", Value::String("")}, {"nul", Value::Null()}};
    std::string xml = EncodePlanXml(plan);
    auto back = DecodePlanXml(xml);
    INFO(xml);
    REQUIRE(back.ok());
    REQUIRE(*back == plan);
  }
}

TEST_CASE("plan codecs: a model using every field round-trips", "[plan]") {
  ProvisioningPlan plan;
  plan.native_identity = "jdoe";
  plan.target_integration = "AD";
  plan.tracking_id = "t1";
  plan.args = {{"n", Value::Integer(7)},
               {"big", Value::Integer(int64_t{1} << 40)},
               {"flag", Value::Boolean(false)},
               {"nested", Value::Map()}};
  plan.args[3].second.map.emplace_back("k", Value::List({Value::Integer(-1), Value::String("v")}));
  plan.result = ProvisioningResult{"failed", {"e1", "e2"}, {"w1"}, {}};
  AccountRequest& a = plan.accounts.emplace_back();
  a.application = "IIQ";
  a.instance = "i";
  a.op = AccountOp::kUnlock;
  a.target_integration = "ti";
  a.tracking_id = "tr";
  a.source_role = "Role";
  a.assignment_ids = "x,y";
  AttributeRequest& r = a.attributes.emplace_back();
  r.name = "assignedRoles";
  r.op = AttributeOp::kRevoke;
  r.value = Value::List({Value::String("A"), Value::String("B")});
  r.display_value = "d";
  r.assignment_id = "as";
  r.tracking_id = "tk";
  r.result = ProvisioningResult{"queued", {}, {}, {}};
  PermissionRequest& pr = a.permissions.emplace_back();
  pr.target = "payroll";
  pr.rights = "read,write";
  pr.op = AttributeOp::kRetain;
  pr.args = {{"a", Value::String("b")}};
  AttributeRequest& noop = a.attributes.emplace_back();
  noop.name = "n";  // no op, null value
  ObjectRequest& o = plan.objects.emplace_back();
  o.type = "group";
  o.application = "AD";
  o.native_identity = "cn=g";
  o.op = "Create";
  o.attributes.push_back(a.attributes[0]);  // `r` dangles after the emplace_back above

  std::string xml = EncodePlanXml(plan);
  auto from_xml = DecodePlanXml(xml);
  INFO(xml);
  REQUIRE(from_xml.ok());
  REQUIRE(*from_xml == plan);
  std::string json = EncodePlanJson(plan, 2);
  auto from_json = DecodePlanJson(json);
  INFO(json);
  REQUIRE(from_json.ok());
  REQUIRE(*from_json == plan);
  REQUIRE(xml.find("<Long>1099511627776</Long>") != std::string::npos);
  REQUIRE(xml.find("<PermissionRequest op=\"Retain\" rights=\"read,write\" target=\"payroll\">") != std::string::npos);

  SECTION("dates are exact in XML, integers in JSON") {
    plan.args.emplace_back("when", Value::Date(1730182324496));
    auto x = DecodePlanXml(EncodePlanXml(plan));
    REQUIRE(x.ok());
    REQUIRE(*x == plan);
    auto j = DecodePlanJson(EncodePlanJson(plan));
    REQUIRE(j.ok());
    REQUIRE(*FindAttribute(j->args, "when") == Value::Integer(1730182324496));
  }
}

TEST_CASE("plan JSON: keys, extras and numbers", "[plan]") {
  auto p = DecodePlanJson(R"({"identity":"jdoe","integrationData":{"source":"LCM"},"custom":[1,2.5],
    "accounts":[{"application":"LDAP","nativeIdentity":null,"op":"Modify","foo":{"x":true},
      "attributes":[{"name":"groups","op":"Add","value":["cn=a",12345678901234567890,1e3,-4]}],
      "permissions":[{"target":"payroll","rights":"read,write","op":"Add"}]}]})");
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  REQUIRE(p->native_identity == "jdoe");
  REQUIRE(p->args == AttributeMap{{"source", Value::String("LCM")}});
  REQUIRE(p->extra.json_fields ==
          AttributeMap{{"custom", Value::List({Value::Integer(1), Value::String("2.5")})}});
  const AccountRequest& a = p->accounts[0];
  REQUIRE_FALSE(a.native_identity.has_value());
  REQUIRE(a.extra.json_fields.size() == 1);
  REQUIRE(a.attributes[0].value == Value::List({Value::String("cn=a"), Value::String("12345678901234567890"),
                                                Value::String("1000"), Value::Integer(-4)}));
  REQUIRE(a.permissions[0].rights == "read,write");
  REQUIRE(a.permissions[0].op == AttributeOp::kAdd);
  auto again = DecodePlanJson(EncodePlanJson(*p));
  REQUIRE(again.ok());
  REQUIRE(*again == *p);

  SECTION("args and integrationData together: integrationData stays an unknown key") {
    auto q = DecodePlanJson(R"({"integrationData":{"a":1},"args":{}})");
    REQUIRE(q.ok());
    REQUIRE(q->args.empty());
    REQUIRE(q->extra.json_fields.size() == 1);
    auto r = DecodePlanJson(EncodePlanJson(*q));
    REQUIRE(r.ok());
    REQUIRE(*r == *q);
  }
  SECTION("xmlElements must be one canonical element the model does not name") {
    RequireError(DecodePlanJson(R"({"xmlElements":["<AccountRequest/>"]})").status(), ErrorCode::kInvalidValue);
    RequireError(DecodePlanJson(R"({"xmlElements":["</x><y>"]})").status(), ErrorCode::kInvalidValue);
    RequireError(DecodePlanJson(R"({"xmlAttributes":{"nativeIdentity":"x"}})").status(), ErrorCode::kInvalidValue);
    auto ok = DecodePlanJson(R"({"xmlElements":["<Requesters><Reference name=\"a\"/></Requesters>"]})");
    REQUIRE(ok.ok());
    REQUIRE(EncodePlanXml(*ok).find("  <Requesters>\n    <Reference name=\"a\" />\n  </Requesters>\n") !=
            std::string::npos);
  }
}

TEST_CASE("plan map form: the documented example", "[plan]") {
  for (bool via_json : {false, true}) {
    auto p = via_json ? DecodePlanJson(kDocumentedExample) : DecodePlanMap(kDocumentedExample);
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    REQUIRE(p->accounts.size() == 1);
    const AccountRequest& a = p->accounts[0];
    REQUIRE(a.application == "Active_Directory");
    REQUIRE(a.op == AccountOp::kModify);
    REQUIRE_FALSE(a.instance.has_value());
    REQUIRE_FALSE(a.native_identity.has_value());
    REQUIRE(a.attributes.size() == 1);
    REQUIRE(a.attributes[0].name == "groupmbr");
    REQUIRE(a.attributes[0].op == AttributeOp::kAdd);
    REQUIRE(a.attributes[0].value == Value::String("UnixAdministration"));
    REQUIRE(a.extra.empty());
  }
  REQUIRE(DetectPlanFormat(kDocumentedExample) == PlanFormat::kMap);
}

TEST_CASE("plan map form: a text of 4 GiB or more is refused before it is read (32-bit offsets)", "[plan]") {
  // Only the length is looked at: the view's bytes past the first are never read.
  const char one[] = "{";
  MapFormTree tree;
  absl::Status s = ParseMapForm(std::string_view(one, size_t{1} << 32), 64, tree);
  RequireError(s, ErrorCode::kTooMany);
  REQUIRE(DetailOf(s) == "map-form plan of 4294967296 bytes: at most 4 GiB");
}

TEST_CASE("plan map form: tokenizer rules", "[plan]") {
  auto p = DecodePlanMap(
      "{ accounts => [ { op : Create ; application = \"My App\" , nativeIdentity=0012,\n"
      "  attributes=[{name='it''s', value=[ 42 , -7, TRUE, Null, 1.5, 'a,b', \"q\\\"\\u00e9\" ,], op=Set}, ],\n"
      "  # a comment\n  instance = Spaced Word  // trailing\n } ], /* block */ custom = {k = v} }");
  INFO(p.status().ToString());
  REQUIRE_FALSE(p.ok());  // 'it''s' is two strings in a row: a syntax error
  auto q = DecodePlanMap(
      "{ accounts => [ { op : Create ; application = \"My App\" , nativeIdentity=0012,\n"
      "  attributes=[{name='it\\'s', value=[ 42 , -7, TRUE, Null, 1.5, 'a,b', \"q\\\"\\u00e9\" ,], op=Set}, ],\n"
      "  # a comment\n  instance = Spaced Word  // trailing\n } ], /* block */ custom = {k = v} }");
  INFO(q.status().ToString());
  REQUIRE(q.ok());
  const AccountRequest& a = q->accounts[0];
  REQUIRE(a.op == AccountOp::kCreate);
  REQUIRE(a.application == "My App");
  REQUIRE(a.native_identity == "0012");  // a bare number where a string is wanted is taken as written
  REQUIRE(a.instance == "Spaced Word");
  REQUIRE(a.attributes[0].name == "it's");
  REQUIRE(a.attributes[0].value ==
          Value::List({Value::Integer(42), Value::Integer(-7), Value::Boolean(true), Value::Null(),
                       Value::String("1.5"), Value::String("a,b"), Value::String("q\"\xC3\xA9")}));
  REQUIRE(q->extra.json_fields.size() == 1);
  REQUIRE(q->extra.json_fields[0].first == "custom");
  REQUIRE(*q->extra.json_fields[0].second.Find("k") == Value::String("v"));
}

TEST_CASE("plan errors: exact codes and locations", "[plan]") {
  SECTION("malformed XML") {
    absl::Status s = DecodePlanXml("<ProvisioningPlan>\n  <AccountRequest op='Modify'>\n</ProvisioningPlan>").status();
    RequireError(s, ErrorCode::kInvalidSyntax);
    REQUIRE(LocationOf(s).line == 3);
    REQUIRE(LocationOf(s).column == 3);
  }
  SECTION("unknown account op in XML, with the allowed values") {
    absl::Status s =
        DecodePlanXml("<ProvisioningPlan>\n  <AccountRequest application=\"A\" op=\"modify\"/>\n</ProvisioningPlan>")
            .status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).line == 2);
    REQUIRE(LocationOf(s).column == 39);
    REQUIRE(DetailOf(s).find("allowed: Create, Modify, Delete, Enable, Disable, Unlock, Lock") != std::string::npos);
  }
  SECTION("unknown attribute op in XML") {
    absl::Status s = DecodePlanXml("<ProvisioningPlan><AccountRequest><AttributeRequest name='a' op='Append'/>"
                                   "</AccountRequest></ProvisioningPlan>")
                         .status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).line == 1);
    REQUIRE(LocationOf(s).column == 66);
  }
  SECTION("wrong XML root") {
    absl::Status s = DecodePlanXml("<Identity name='x'/>").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).line == 1);
    REQUIRE(LocationOf(s).column == 1);
  }
  SECTION("wrong JSON types and case-sensitive ops carry a JSON pointer") {
    absl::Status s = DecodePlanJson(R"({"accounts":[{"op":5}]})").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/accounts/0/op");
    s = DecodePlanJson(R"({"accounts":[{"op":"modify"}]})").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/accounts/0/op");
    s = DecodePlanJson(R"({"accounts":[{"op":"Modify","attributes":[{"name":"a","op":"add"}]}]})").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/accounts/0/attributes/0/op");
    s = DecodePlanJson(R"({"accounts":{}})").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/accounts");
    s = DecodePlanJson(R"(["not a plan"])").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/");
  }
  SECTION("map-form semantic errors carry a pointer and an offset") {
    absl::Status s = DecodePlanMap("{accounts=[{op=modify}]}").status();
    RequireError(s, ErrorCode::kInvalidValue);
    REQUIRE(LocationOf(s).pointer == "/accounts/0/op");
    REQUIRE(LocationOf(s).offset == 15);
  }
  SECTION("malformed JSON vs malformed map text") {
    absl::Status s = DecodePlanJson(R"({"accounts": [})").status();
    RequireError(s, ErrorCode::kInvalidSyntax);
    REQUIRE(DetailOf(s) == "JSON plan is not valid JSON at byte 14: expected a value (a string, number, object, array, true, "
                           "false or null)");
    REQUIRE(LocationOf(s).offset == 14);
    REQUIRE(LocationOf(s).line == 1);
    REQUIRE(LocationOf(s).column == 15);
    std::string text = "{accounts=[{op=Modify, application=a/b}]}";
    s = DecodePlanJson(text).status();
    RequireError(s, ErrorCode::kInvalidSyntax);
    REQUIRE(LocationOf(s).offset == static_cast<int64_t>(text.find('/')));
    REQUIRE(DetailOf(s).find('^') != std::string::npos);
    s = DecodePlanMap("{accounts=[{op=Modify}]").status();
    RequireError(s, ErrorCode::kInvalidSyntax);
    REQUIRE(LocationOf(s).offset == 23);
    RequireError(DecodePlanMap("{a=\"\\q\"}").status(), ErrorCode::kInvalidSyntax);
    RequireError(DecodePlanMap("").status(), ErrorCode::kInvalidSyntax);
    RequireError(DecodePlanMap("{a=}").status(), ErrorCode::kInvalidSyntax);
  }
  SECTION("10,000-deep XML, JSON and map text are tooMany, quickly and without a crash") {
    std::string xml = "<ProvisioningPlan>";
    for (int i = 0; i < 10000; ++i) xml += "<a>";
    for (int i = 0; i < 10000; ++i) xml += "</a>";
    xml += "</ProvisioningPlan>";
    absl::Status s = DecodePlanXml(xml).status();
    RequireError(s, ErrorCode::kTooMany);
    REQUIRE(LocationOf(s).offset == 18 + 63 * 3);  // the 65th element
    std::string json = R"({"args":{"x":)" + std::string(10000, '[') + std::string(10000, ']') + "}}";
    RequireError(DecodePlanJson(json).status(), ErrorCode::kTooMany);
    std::string map = "{args={x=" + std::string(10000, '[') + std::string(10000, ']') + "}}";
    s = DecodePlanMap(map).status();
    RequireError(s, ErrorCode::kTooMany);
    REQUIRE(LocationOf(s).offset == 9 + 62);  // the 65th container
    RequireError(DecodePlanJson(map).status(), ErrorCode::kTooMany);
    std::string value_xml = "<ProvisioningPlan><Attributes><Map><entry key='k'><value>";
    for (int i = 0; i < 10000; ++i) value_xml += "<List>";
    RequireError(DecodePlanXml(value_xml).status(), ErrorCode::kInvalidSyntax);  // unclosed: syntax first
  }
  SECTION("100 MB input is tooMany before parsing") {
    std::string big(100u << 20, ' ');
    big[0] = '<';
    RequireError(DecodePlanXml(big).status(), ErrorCode::kTooMany);
    RequireError(DecodePlanJson(big).status(), ErrorCode::kTooMany);
    RequireError(DecodePlanMap(big).status(), ErrorCode::kTooMany);
    RequireError(DecodePlan(big, PlanFormat::kXml).status(), ErrorCode::kTooMany);
  }
  SECTION("count budgets") {
    Limits limits;
    limits.max_plan_requests = 2;
    absl::Status s =
        DecodePlanXml("<ProvisioningPlan><AccountRequest><AttributeRequest name='a'/><AttributeRequest name='b'/>"
                      "</AccountRequest></ProvisioningPlan>",
                      limits)
            .status();
    RequireError(s, ErrorCode::kTooMany);
    RequireError(DecodePlanJson(R"({"accounts":[{"attributes":[{"name":"a"},{"name":"b"}]}]})", limits).status(),
                 ErrorCode::kTooMany);
    Limits values;
    values.max_plan_values = 3;
    RequireError(DecodePlanJson(R"({"args":{"a":[1,2,3]}})", values).status(), ErrorCode::kTooMany);
    RequireError(
        DecodePlanXml("<ProvisioningPlan><Attributes><Map><entry key='a'><value><List><String>1</String>"
                      "<String>2</String><String>3</String></List></value></entry></Map></Attributes>"
                      "</ProvisioningPlan>",
                      values)
            .status(),
        ErrorCode::kTooMany);
  }
  SECTION("plan media types and form names") {
    REQUIRE(*PlanFormatFromMediaType("application/xml") == PlanFormat::kXml);
    REQUIRE(*PlanFormatFromMediaType("application/sailpoint.object.ProvisioningPlan+json") == PlanFormat::kJson);
    RequireError(PlanFormatFromMediaType("application/json").status(), ErrorCode::kInvalidValue);
    RequireError(PlanFormatFromMediaType("application/XML").status(), ErrorCode::kInvalidValue);
    RequireError(PlanFormatFromMediaType("").status(), ErrorCode::kInvalidValue);
    REQUIRE(ParsePlanFormatName("map") == PlanFormat::kMap);
    REQUIRE(PlanFormatName(PlanFormat::kJson) == "json");
    REQUIRE_FALSE(ParsePlanFormatName("yaml").has_value());
    REQUIRE(DetectPlanFormat("  <x/>") == PlanFormat::kXml);
    REQUIRE(DetectPlanFormat(" { \"a\":1}") == PlanFormat::kJson);
    REQUIRE(DetectPlanFormat("{a=1}") == PlanFormat::kMap);
    REQUIRE_FALSE(DetectPlanFormat("   ").has_value());
  }
}

}  // namespace preflight
