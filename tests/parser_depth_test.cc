// No recursion driven by input without a hard cap (issue 14): the deepest input each depth
// budget allows, at its largest accepted value, runs through parse, print, bind, evaluate,
// encode and destruction on a thread whose stack is 256 KiB. Each case also measures its
// stack high-water mark on a painted stack and keeps it under 192 KiB, so a regression shows
// as a number before it shows as a crash. One level past the budget is kTooMany.

#include <pthread.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/preflight.h"
#include "engine/query/filter_cli.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "engine/util/limits.h"
#include "grammar/scim_filter.h"

using namespace preflight;

namespace {

// The maxima are proven for the optimized build (-O2/-O3, NDEBUG), which is what ships. Under
// -O0 or a sanitizer frames are several times larger: the same inputs then run on 8x the stack.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kScale = 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr size_t kScale = 8;
#elif defined(NDEBUG)
constexpr size_t kScale = 1;
#else
constexpr size_t kScale = 8;
#endif
#elif defined(NDEBUG)
constexpr size_t kScale = 1;
#else
constexpr size_t kScale = 8;
#endif
constexpr size_t kSmallStack = 256 * 1024 * kScale;
constexpr size_t kHighWaterBudget = 192 * 1024 * kScale;

struct Job {
  std::function<void()> fn;
};
void* RunJob(void* arg) {
  static_cast<Job*>(arg)->fn();
  return nullptr;
}

// Runs fn on a thread with a 256 KiB stack (glibc adds a guard page: an overflow is a crash).
void OnSmallStack(std::function<void()> fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  REQUIRE(pthread_attr_setstacksize(&attr, kSmallStack) == 0);
  Job job{std::move(fn)};
  pthread_t t;
  REQUIRE(pthread_create(&t, &attr, RunJob, &job) == 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

// Bytes of stack fn used: it runs on a 4 MiB stack painted with a pattern, and the lowest
// overwritten byte marks the high-water mark (the stack grows down).
size_t StackHighWater(std::function<void()> fn) {
  constexpr size_t kSize = (4 << 20) * kScale;
  constexpr unsigned char kPaint = 0xA5;
  std::vector<unsigned char> stack(kSize, kPaint);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  REQUIRE(pthread_attr_setstack(&attr, stack.data(), kSize) == 0);
  Job job{std::move(fn)};
  pthread_t t;
  REQUIRE(pthread_create(&t, &attr, RunJob, &job) == 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  size_t untouched = 0;
  while (untouched < kSize && stack[untouched] == kPaint) ++untouched;
  return kSize - untouched;
}

void Deepest(const std::string& what, std::function<void()> fn) {
  size_t used = StackHighWater(fn);
  INFO(what << ": " << used << " bytes of stack");
  CHECK(used < kHighWaterBudget);
  OnSmallStack(fn);
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("depth budgets above the proven maxima are refused", "[depth]") {
  Limits limits;
  CHECK(SetLimit(limits, "max_filter_depth", kMaxFilterDepthCap).ok());
  CHECK(SetLimit(limits, "max_nesting_depth", kMaxNestingDepthCap).ok());
  absl::Status too_deep = SetLimit(limits, "max_filter_depth", kMaxFilterDepthCap + 1);
  CHECK(ErrorCodeOf(too_deep) == ErrorCode::kInvalidValue);
  CHECK(std::string(too_deep.message()) ==
        absl::StrCat("limit max_filter_depth must be between 1 and ", kMaxFilterDepthCap, ", not ",
                     kMaxFilterDepthCap + 1));
  too_deep = SetLimit(limits, "max_nesting_depth", 2147483647);
  CHECK(ErrorCodeOf(too_deep) == ErrorCode::kInvalidValue);
  CHECK(std::string(too_deep.message()) ==
        absl::StrCat("limit max_nesting_depth must be between 1 and ", kMaxNestingDepthCap, ", not 2147483647"));
}

TEST_CASE("the deepest filter runs on a 256 KiB stack", "[depth][filter]") {
  Limits limits;
  limits.max_filter_depth = kMaxFilterDepthCap;
  limits.max_filter_length = 1 << 20;
  const int d = kMaxFilterDepthCap;
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"parentheses", Repeat("(", d) + "userName pr" + Repeat(")", d)},
      {"not", Repeat("not (", d / 2) + "userName pr" + Repeat(")", d / 2)},
      {"and/or groups", Repeat("(title pr or (userName pr and ", d / 2) + "active eq true" + Repeat("))", d / 2)},
  };
  for (const auto& [name, text] : shapes) {
    Deepest("filter " + name, [&, text = text] {
      auto sexpr = FilterToSexpr(text, limits);
      CHECK(sexpr.ok());
      auto ast = ParseScimFilter(text, FilterParseOptions::From(limits));
      CHECK(ast.ok());
      if (ast.ok()) CHECK(ToFilterText(*ast).size() > 0);
      auto eval = EvalFilterOnJson(text, R"({"userName":"a","title":"t","active":true})", limits);
      CHECK(eval.ok());
    });
    auto over = FilterToSexpr("(" + text + ")", limits);
    CHECK(ErrorCodeOf(over.status()) == ErrorCode::kTooMany);
  }
  // The resource a filter is evaluated on is JSON too: its deepest form under max_nesting_depth.
  Limits deep_json = limits;
  deep_json.max_nesting_depth = kMaxNestingDepthCap;
  const std::string resource = R"({"userName":"a","x":)" + Repeat("[", kMaxNestingDepthCap - 1) + "1" +
                               Repeat("]", kMaxNestingDepthCap - 1) + "}";
  Deepest("filter on the deepest resource", [&] {
    auto eval = EvalFilterOnJson(shapes[0].second, resource, deep_json);
    CHECK(eval.status().ToString() == "OK");
  });
  // A valuePath nests inside one: "emails[" at the bottom of the deepest groups.
  std::string value_path = Repeat("(", d - 1) + "emails[value pr]" + Repeat(")", d - 1);
  Deepest("filter valuePath", [&] { CHECK(FilterToSexpr(value_path, limits).ok()); });
  std::string nested = Repeat("a[", d) + "b pr" + Repeat("]", d);
  Deepest("filter nested valuePath", [&] {
    CHECK(ErrorCodeOf(FilterToSexpr(nested, limits).status()) == ErrorCode::kInvalidFilter);
  });
}

namespace {

// A plan whose attribute value nests `lists` lists: {accounts=[{...attributes=[{value=[[...]]}]}]}.
std::string MapPlan(int lists) {
  return "{accounts=[{application=Active_Directory, op=Modify, attributes=[{name=groupmbr, op=Add, value=" + Repeat("[", lists) + "x" +
         Repeat("]", lists) + "}]}]}";
}
std::string JsonPlan(int lists) {
  return R"({"accounts":[{"application":"Active_Directory","op":"Modify","attributes":[{"name":"groupmbr","op":"Add","value":)" +
         Repeat("[", lists) + R"("x")" + Repeat("]", lists) + "}]}]}";
}
// Plan, account, attribute request, <Value> and the innermost <String> are five elements;
// `lists` - 1 <List>s: lists + 4 levels.
std::string XmlPlan(int lists) {
  return R"(<ProvisioningPlan><AccountRequest application="Active_Directory" op="Modify"><AttributeRequest name="groupmbr" op="Add"><Value>)" +
         Repeat("<List>", lists - 1) + "<String>x</String>" + Repeat("</List>", lists - 1) +
         "</Value></AttributeRequest></AccountRequest></ProvisioningPlan>";
}
// Through maps: <Map><entry key="k"><value> per three levels, `levels` + 5 in all (or less).
std::string XmlMapPlan(int levels) {
  int maps = levels / 3;
  return R"(<ProvisioningPlan><AccountRequest application="Active_Directory" op="Modify"><AttributeRequest name="groupmbr" op="Add"><Value>)" +
         Repeat(R"(<Map><entry key="k"><value>)", maps) + "<String>x</String>" +
         Repeat("</value></entry></Map>", maps) + "</Value></AttributeRequest></AccountRequest></ProvisioningPlan>";
}

void RoundTrip(const std::string& text, PlanFormat format, const Limits& limits) {
  // CHECK, not REQUIRE: this runs on another thread, where Catch2 cannot unwind.
  auto plan = DecodePlan(text, format, limits);
  CHECK(plan.status().ToString() == "OK");
  if (!plan.ok()) return;
  auto from_json = DecodePlanJson(EncodePlanJson(*plan), limits);
  CHECK(from_json.status().ToString() == "OK");
  auto from_xml = DecodePlanXml(EncodePlanXml(*plan), limits);
  CHECK(from_xml.status().ToString() == "OK");
}

}  // namespace

TEST_CASE("the deepest plans run on a 256 KiB stack", "[depth][plan]") {
  Limits limits;
  limits.max_nesting_depth = kMaxNestingDepthCap;
  const int d = kMaxNestingDepthCap;
  // Map form and JSON: plan map, accounts list, account map, attributes list, attribute map.
  const int lists = d - 5;
  Deepest("map-form plan", [&] { RoundTrip(MapPlan(lists), PlanFormat::kMap, limits); });
  Deepest("JSON plan", [&] { RoundTrip(JsonPlan(lists), PlanFormat::kJson, limits); });
  Deepest("XML plan, lists", [&] { RoundTrip(XmlPlan(d - 4), PlanFormat::kXml, limits); });
  Deepest("XML plan, maps", [&] { RoundTrip(XmlMapPlan(d - 5), PlanFormat::kXml, limits); });
  CHECK(ErrorCodeOf(DecodePlanMap(MapPlan(lists + 1), limits).status()) == ErrorCode::kTooMany);
  CHECK(ErrorCodeOf(DecodePlanJson(JsonPlan(lists + 1), limits).status()) == ErrorCode::kTooMany);
  CHECK(ErrorCodeOf(DecodePlanXml(XmlPlan(d - 3), limits).status()) == ErrorCode::kTooMany);
  // A bare nest of maps in the map form (its deepest shape for the X3 grammar).
  std::string maps = Repeat("{a=", d) + "x" + Repeat("}", d);
  Deepest("map-form maps", [&] { CHECK(ErrorCodeOf(DecodePlanMap(maps, limits).status()) != ErrorCode::kTooMany); });
}

TEST_CASE("a check with the deepest plans runs on a 256 KiB stack", "[depth][plan]") {
  EngineOptions options;
  options.limits.max_nesting_depth = kMaxNestingDepthCap;
  auto loaded = Engine::Load({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"}, options);
  REQUIRE(loaded.ok());
  const Engine& deep = **loaded;
  const int lists = kMaxNestingDepthCap - 5;
  auto request = [](std::string_view plan, std::string_view type) {
    std::string body = R"({"identity":"Ryan.Russell","plan":{"value":)";
    JsonWriter::AppendEscaped(body, plan);
    body += R"(,"type":")";
    body += type;
    body += R"("}})";
    return body;
  };
  const std::string json_type = "application/sailpoint.object.ProvisioningPlan+json";
  for (const std::string& body : {request(MapPlan(lists), json_type), request(JsonPlan(lists), json_type),
                                  request(XmlPlan(kMaxNestingDepthCap - 4), "application/xml")}) {
    Deepest("check", [&] {
      auto response = deep.CheckJson(body);
      CHECK(response.status().ToString() == "OK");
    });
  }
}

TEST_CASE("inputs far past the budgets are tooMany, also on a 256 KiB stack", "[depth]") {
  // The inputs of issue 14 that overflowed the stack once a budget was raised.
  Limits limits;
  limits.max_nesting_depth = kMaxNestingDepthCap;
  limits.max_filter_depth = kMaxFilterDepthCap;
  limits.max_filter_length = 1 << 20;
  const std::string filter = Repeat("(", 4000) + "userName pr" + Repeat(")", 4000);
  const std::string map = Repeat("{a=", 100000) + "x" + Repeat("}", 100000);
  const std::string json = Repeat("[", 100000) + Repeat("]", 100000);
  const std::string xml = "<ProvisioningPlan>" + Repeat("<List>", 100000) + Repeat("</List>", 100000) + "</ProvisioningPlan>";
  // A Limits set in C++ past the maxima (SetLimit refuses that) is clamped by every parser.
  Limits unchecked = limits;
  unchecked.max_nesting_depth = 2147483647;
  unchecked.max_filter_depth = 2147483647;
  OnSmallStack([&] {
    CHECK(DetailOf(DecodePlanMap(map, unchecked).status()).find("budget of 128 levels") != std::string::npos);
    CHECK(DetailOf(DecodePlanJson(json, unchecked).status()) ==
          "JSON plan nests deeper than the budget of 128 levels (max_nesting_depth)");
    CHECK(DetailOf(DecodePlanXml(xml, unchecked).status()) ==
          "XML plan nests deeper than the budget of 128 elements (max_nesting_depth)");
    CHECK(DetailOf(FilterToSexpr(filter, unchecked).status()).find("budget of 64 levels") != std::string::npos);
  });
  OnSmallStack([&] {
    CHECK(ErrorCodeOf(FilterToSexpr(filter, limits).status()) == ErrorCode::kTooMany);
    CHECK(ErrorCodeOf(DecodePlanMap(map, limits).status()) == ErrorCode::kTooMany);
    CHECK(ErrorCodeOf(DecodePlanJson(json, limits).status()) == ErrorCode::kTooMany);
    CHECK(ErrorCodeOf(DecodePlanXml(xml, limits).status()) == ErrorCode::kTooMany);
  });
}
