// The facade's ways into one check (issue 17): a body's text (CheckJson), a request a face
// has read itself (CheckRequestJson), and either answered as text or as JsonSink events. They
// are one path: the same bytes, the same errors.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/preflight.h"
#include "engine/util/file.h"

using namespace preflight;

namespace {

std::shared_ptr<const Engine> DemoEngine() {
  auto engine = Engine::Load({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
  REQUIRE(engine.ok());
  return *engine;
}

// Passes every event on to a JsonWriter and counts them.
class Relay final : public JsonSink {
 public:
  explicit Relay(int indent) : text(indent) {}
  Relay& BeginObject() override { return Count(text.BeginObject()); }
  Relay& EndObject() override { return Count(text.EndObject()); }
  Relay& BeginArray() override { return Count(text.BeginArray()); }
  Relay& EndArray() override { return Count(text.EndArray()); }
  Relay& Key(std::string_view key) override { return Count(text.Key(key)); }
  Relay& String(std::string_view value) override { return Count(text.String(value)); }
  Relay& Int(int64_t value) override { return Count(text.Int(value)); }
  Relay& Bool(bool value) override { return Count(text.Bool(value)); }
  Relay& Null() override { return Count(text.Null()); }
  JsonWriter text;
  size_t events = 0;

 private:
  Relay& Count(JsonWriter&) {
    ++events;
    return *this;
  }
};

std::vector<std::string> Bodies() {
  auto example = ReadFileToString(PREFLIGHT_EXAMPLES_DIR "/request.json");
  REQUIRE(example.ok());
  const std::string xml_plan = R"(<ProvisioningPlan><AccountRequest application='Active_Directory' op='Modify'>)"
                               R"(<AttributeRequest name='groupmbr' op='Add' value='UnixAdministration'/>)"
                               R"(</AccountRequest></ProvisioningPlan>)";
  return {*example,
          R"({"identity":"Ryan.Russell","plan":{"value":")" + xml_plan + R"(","type":"application/xml"}})",
          R"({"identity":"Ryan.Russell","plan":{"value":")" + xml_plan +
              R"(","type":"application/xml"},"policies":"SOD Policy, Entitlement Policy"})",
          R"({"identity":"Nobody","plan":{"value":"<ProvisioningPlan/>","type":"application/xml"}})",
          R"({"identity":"Ryan.Russell","plan":{"value":"<ProvisioningPlan","type":"application/xml"}})",
          R"({"identity":"Ryan.Russell","plan":{"value":"{}","type":"xml"}})"};
}

}  // namespace

TEST_CASE("a request read by a face, and a response as events, answer as the body's text does", "[request]") {
  auto engine = DemoEngine();
  size_t answered = 0, failed = 0;
  for (const std::string& body : Bodies()) {
    for (bool explain : {false, true}) {
      for (int indent : {0, 2}) {
        RequestOptions options;
        options.explain = explain;
        options.indent = indent;
        auto text = engine->CheckJson(body, options);
        auto read = ParseCheckRequest(body);
        REQUIRE(read.ok());
        auto fields = engine->CheckRequestJson(*read, options);
        Relay events(indent);
        absl::Status streamed = engine->CheckJson(body, options, events);
        REQUIRE(text.ok() == fields.ok());
        REQUIRE(text.ok() == streamed.ok());
        if (text.ok()) {
          ++answered;
          CHECK(*fields == *text);
          CHECK(events.text.str() == *text);
        } else {
          ++failed;
          CHECK(fields.status() == text.status());
          CHECK(streamed == text.status());
          CHECK(events.events == 0);  // nothing is written for a failed check
        }
      }
    }
  }
  CHECK(answered == 12);
  CHECK(failed == 12);
}

TEST_CASE("a request read by a face without an identity gets the body's error", "[request]") {
  auto engine = DemoEngine();
  CheckRequest request;
  request.plan_value = "<ProvisioningPlan/>";
  request.plan_type = "application/xml";
  auto fields = engine->CheckRequestJson(request);
  auto body = engine->CheckJson(R"({"identity":"","plan":{"value":"<ProvisioningPlan/>","type":"application/xml"}})");
  REQUIRE_FALSE(fields.ok());
  CHECK(fields.status() == body.status());
  CHECK(DetailOf(fields.status()) == "Identity name is required.");
  CHECK(LocationOf(fields.status()).pointer == "/identity");
}

TEST_CASE("the batch budget is one message for every face", "[request]") {
  Limits limits;
  limits.max_batch_requests = 2;
  auto engine = Engine::Load({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"}, {limits});
  REQUIRE(engine.ok());
  CHECK((*engine)->BatchBudget(2).ok());
  absl::Status over = (*engine)->BatchBudget(3);
  CHECK(ErrorCodeOf(over) == ErrorCode::kTooMany);
  CHECK(DetailOf(over) == "batch of 3 requests exceeds the limit of 2");
  auto batch = (*engine)->CheckBatchJson({"{}", "{}", "{}"});
  CHECK(batch.status() == over);
}

TEST_CASE("an unknown identity is the request's first error, whatever its plan", "[request]") {
  auto engine = DemoEngine();
  const absl::Status want = MakeError(ErrorCode::kInvalidValue, "Identity 'Nobody' not found in the snapshot",
                                      Location{.pointer = "/identity"});
  const std::string json_plan = R"({\"accounts\":[{\"application\":\"Active_Directory\",\"op\":\"Modify\"}]})";
  for (const std::string plan : {
           R"("value":")" + json_plan + R"(","type":"application/sailpoint.object.ProvisioningPlan+json")",
           std::string(R"("value":"<ProvisioningPlan/>","type":"application/xml")"),
           std::string(R"("value":"<ProvisioningPlan","type":"application/xml")"),  // does not parse
           std::string(R"("value":"{\"accounts\":7}","type":"application/sailpoint.object.ProvisioningPlan+json")"),
           std::string(R"("value":"{}","type":"text/plain")"),  // an unknown media type
       }) {
    const std::string body = R"({"identity":"Nobody","plan":{)" + plan + "}}";
    INFO(body);
    CHECK(engine->CheckJson(body).status() == want);
  }
}

TEST_CASE("a request read into a reused CheckRequest is the request read fresh", "[request]") {
  const std::vector<std::string> bodies = {
      R"({"identity":"an identity name longer than inline","plan":{"value":"{\"accounts\":[]}",)"
      R"("type":"application/sailpoint.object.ProvisioningPlan+json"},"policies":["SOD Policy","Other"]})",
      R"({"identity":"b","plan":{"value":"x","type":"t"}})",
      R"({"identity":"c","plan":{"value":"y","type":"t"},"policies":" a , b "})",
      R"({"identity":"d","plan":{"value":"z","type":"t"},"policies":null})",
      R"({"identity":"e","plan":{"value":"z","type":"t"},"policies":["a policy name longer than inline","x","y"]})",
      R"({"identity":"f","plan":{"value":"z","type":"t"},"policies":[]})",
  };
  CheckRequest reused;
  for (const std::string& before : bodies) {
    for (const std::string& body : bodies) {
      REQUIRE(ParseCheckRequestInto(before, DefaultLimits(), reused).ok());
      reused.explain = true;  // set by the caller after reading: read again, it is false
      REQUIRE(ParseCheckRequestInto(body, DefaultLimits(), reused).ok());
      auto fresh = ParseCheckRequest(body);
      REQUIRE(fresh.ok());
      INFO(before << " then " << body);
      CHECK(reused.identity == fresh->identity);
      CHECK(reused.plan_value == fresh->plan_value);
      CHECK(reused.plan_type == fresh->plan_type);
      CHECK(reused.policies == fresh->policies);
      CHECK(reused.explain == fresh->explain);
    }
  }
}

TEST_CASE("policies given as one string are split as the body's reader splits them", "[request]") {
  CHECK(SplitPolicyNames(" SOD Policy ,, Entitlement Policy ,") ==
        std::vector<std::string>{"SOD Policy", "Entitlement Policy"});
  CHECK(SplitPolicyNames("").empty());
  auto read = ParseCheckRequest(R"({"identity":"a","plan":{"value":"x","type":"t"},"policies":" a , b "})");
  REQUIRE(read.ok());
  CHECK(*read->policies == SplitPolicyNames(" a , b "));
}
