// ProvisioningPlan codec throughput: decode and encode, XML and JSON (and the map form),
// for plans of 1, 10, 100 and 1000 attribute requests. Reported as bytes/second of plan text.
// Each benchmark checks the decoded result once before the timed loop (attribute count and
// a sample value) and skips with an error on a mismatch, so a codec that silently drops
// requests cannot look fast.
// Built by benchmarks/CMakeLists.txt as bench_plan_codec (preflight + benchmark::benchmark).

#include <benchmark/benchmark.h>

#include <string>

#include "engine/codecs/plan_codec.h"

namespace preflight {
namespace {

// A deterministic plan shaped like a compiled LCM plan: up to 10 attribute requests per
// account, single string values with every third one a list, request arguments, plan args.
ProvisioningPlan MakePlan(int attribute_requests) {
  ProvisioningPlan plan;
  plan.native_identity = "Aaron Nichols";
  plan.tracking_id = "beaf9150e2fa400daf9faedde0c46ee4";
  plan.args = {{"identityRequestId", Value::String("0000000960")},
               {"requester", Value::String("spadmin")},
               {"source", Value::String("LCM")}};
  for (int i = 0; i < attribute_requests; ++i) {
    if (i % 10 == 0) {
      AccountRequest& a = plan.accounts.emplace_back();
      int n = i / 10;
      a.application = "ActiveDirectory";
      a.native_identity = "CN=User " + std::to_string(n) + ",OU=People,OU=Demo,DC=Eshiam,DC=com";
      a.op = AccountOp::kModify;
      a.args = {{"flow", Value::String("AccessRequest")}, {"interface", Value::String("LCM")}};
    }
    AttributeRequest& r = plan.accounts.back().attributes.emplace_back();
    r.name = "memberOf";
    r.op = i % 4 == 3 ? AttributeOp::kRemove : AttributeOp::kAdd;
    std::string group = "CN=Group " + std::to_string(i) + ",OU=Groups,OU=Demo,DC=Eshiam,DC=com";
    if (i % 3 == 2) {
      r.value = Value::List({Value::String(group), Value::String(group + "-2")});
    } else {
      r.value = Value::String(group);
    }
    r.assignment_id = "4e2a6dd73a154e11893e8600ebfe" + std::to_string(1000 + i);
    r.args = {{"assignment", Value::String("true")}};
  }
  return plan;
}

size_t CountAttributes(const ProvisioningPlan& p) {
  size_t n = 0;
  for (const AccountRequest& a : p.accounts) n += a.attributes.size();
  return n;
}

bool Check(benchmark::State& state, const absl::StatusOr<ProvisioningPlan>& decoded, const ProvisioningPlan& want) {
  if (!decoded.ok()) {
    state.SkipWithError(decoded.status().ToString().c_str());
    return false;
  }
  if (CountAttributes(*decoded) != CountAttributes(want) || !(*decoded == want)) {
    state.SkipWithError("decoded plan differs from the generated one");
    return false;
  }
  return true;
}

void BM_DecodeXml(benchmark::State& state) {
  ProvisioningPlan plan = MakePlan(static_cast<int>(state.range(0)));
  std::string text = EncodePlanXml(plan);
  if (!Check(state, DecodePlanXml(text), plan)) return;
  for (auto _ : state) {
    auto p = DecodePlanXml(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_DecodeJson(benchmark::State& state) {
  ProvisioningPlan plan = MakePlan(static_cast<int>(state.range(0)));
  std::string text = EncodePlanJson(plan);
  if (!Check(state, DecodePlanJson(text), plan)) return;
  for (auto _ : state) {
    auto p = DecodePlanJson(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_DecodeMap(benchmark::State& state) {
  // The map form of the JSON text (flexjson reads JSON too): quoted keys, ':' separators.
  ProvisioningPlan plan = MakePlan(static_cast<int>(state.range(0)));
  std::string text = EncodePlanJson(plan);
  if (!Check(state, DecodePlanMap(text), plan)) return;
  for (auto _ : state) {
    auto p = DecodePlanMap(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

void BM_EncodeXml(benchmark::State& state) {
  ProvisioningPlan plan = MakePlan(static_cast<int>(state.range(0)));
  std::string once = EncodePlanXml(plan);
  if (!Check(state, DecodePlanXml(once), plan)) return;
  for (auto _ : state) {
    std::string text = EncodePlanXml(plan);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(once.size()));
}

void BM_EncodeJson(benchmark::State& state) {
  ProvisioningPlan plan = MakePlan(static_cast<int>(state.range(0)));
  std::string once = EncodePlanJson(plan);
  if (!Check(state, DecodePlanJson(once), plan)) return;
  for (auto _ : state) {
    std::string text = EncodePlanJson(plan);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(once.size()));
}

BENCHMARK(BM_DecodeXml)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_DecodeJson)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_DecodeMap)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_EncodeXml)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_EncodeJson)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace preflight

BENCHMARK_MAIN();
