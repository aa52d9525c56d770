// The documented CheckedPolicyViolations example, answered end to end from the demo
// snapshot (examples/): request body in, the documented response out.

#include <catch2/catch.hpp>

#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/preflight.h"
#include "engine/util/file.h"
#include "simdjson.h"

using namespace preflight;

namespace {
std::string Minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(json).get(e));
  return simdjson::minify(e);
}
std::shared_ptr<const Engine> DemoEngine() {
  auto engine = Engine::Load({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
  REQUIRE(engine.ok());
  return *engine;
}
}  // namespace

TEST_CASE("the documented request gives the documented response", "[demo]") {
  auto engine = DemoEngine();
  auto request = ReadFileToString(PREFLIGHT_EXAMPLES_DIR "/request.json");
  auto expected = ReadFileToString(PREFLIGHT_EXAMPLES_DIR "/expected-response.json");
  REQUIRE(request.ok());
  REQUIRE(expected.ok());
  auto response = engine->CheckJson(*request);
  REQUIRE(response.ok());
  CHECK(*response == Minified(*expected));
  CHECK(engine->snapshot().diagnostics().empty());
}

TEST_CASE("the demo answer is computed: without the entitlement there is no violation", "[demo]") {
  auto engine = DemoEngine();
  std::string request = R"({"identity":"Ryan.Russell","plan":{"value":"{accounts=[{op=Modify, instance=null, application=Active_Directory, attributes=[{op=Add, name=groupmbr, value=PrinterAdmins}], nativeIdentity=null}]}","type":"application/sailpoint.object.ProvisioningPlan+json"},"policies":["SOD Policy","Entitlement Policy","RandomPolicyNotExisting"]})";
  auto response = engine->CheckJson(request);
  REQUIRE(response.ok());
  CHECK(*response == R"({"identity":"Ryan.Russell","schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation"],"plan":{"value":"{accounts=[{op=Modify, instance=null, application=Active_Directory, attributes=[{op=Add, name=groupmbr, value=PrinterAdmins}], nativeIdentity=null}]}","type":"application/sailpoint.object.ProvisioningPlan+json"},"policies":["SOD Policy","Entitlement Policy","RandomPolicyNotExisting"],"meta":{"resourceType":"CheckedPolicyViolation"}})");
}

TEST_CASE("the demo entitlement policy fires on a strict JSON plan", "[demo]") {
  auto engine = DemoEngine();
  std::string request = R"({"identity":"Amanda.Ross","plan":{"type":"application/sailpoint.object.ProvisioningPlan+json","value":"{\"accounts\":[{\"application\":\"Financials\",\"op\":\"Modify\",\"attributes\":[{\"name\":\"capability\",\"op\":\"Add\",\"value\":\"ApprovePayments\"}]}]}"}})";
  auto response = engine->CheckJson(request);
  REQUIRE(response.ok());
  CHECK(response->substr(0, response->find(",\"identity\"")) ==
        R"({"violations":[{"policyName":"Entitlement Policy","constraintName":"FIN SOD-021","leftBundles":[],"policyType":"EntitlementSOD","entitlements":[{"application":"Financials","attribute":"capability","value":"CreateVendors"},{"application":"Financials","attribute":"capability","value":"ApprovePayments"}],"rightBundles":[]}])");
}

TEST_CASE("bad requests are SCIM errors with IdentityIQ's messages", "[demo]") {
  auto engine = DemoEngine();
  auto missing = engine->CheckJson(R"({"plan":{"value":"{}","type":"application/xml"}})");
  REQUIRE_FALSE(missing.ok());
  CHECK(ScimErrorJson(missing.status()) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"at /identity: Identity name is required."})");
  auto malformed = engine->CheckJson("{\"identity\": ");
  REQUIRE_FALSE(malformed.ok());
  CHECK(ErrorCodeOf(malformed.status()) == ErrorCode::kInvalidSyntax);
  auto type = engine->CheckJson(R"({"identity":"Ryan.Russell","plan":{"value":"x","type":"text/plain"}})");
  REQUIRE_FALSE(type.ok());
  CHECK(ErrorCodeOf(type.status()) == ErrorCode::kInvalidValue);
}

TEST_CASE("budgets: a batch over max_batch_requests and an oversized body are tooMany", "[demo]") {
  auto snapshot = LoadSnapshot({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
  REQUIRE(snapshot.ok());
  Limits limits;
  limits.max_batch_requests = 2;
  limits.max_input_bytes = 4096;
  Engine engine(*snapshot, limits);
  auto request = ReadFileToString(PREFLIGHT_EXAMPLES_DIR "/request.json");
  REQUIRE(request.ok());
  auto two = engine.CheckBatchJson({*request, *request});
  REQUIRE(two.ok());
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].ok());
  CHECK((*two)[1].ok());
  auto three = engine.CheckBatchJson({*request, *request, *request});
  REQUIRE_FALSE(three.ok());
  CHECK(ErrorCodeOf(three.status()) == ErrorCode::kTooMany);
  CHECK(DetailOf(three.status()) == "batch of 3 requests exceeds the limit of 2");
  auto big = engine.CheckJson(std::string(5000, ' ') + *request);
  REQUIRE_FALSE(big.ok());
  CHECK(ErrorCodeOf(big.status()) == ErrorCode::kTooMany);
}
