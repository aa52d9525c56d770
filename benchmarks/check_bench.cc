// The check on the generated workload (benchmarks/gen_workload.py): single requests,
// batches, and both cores. Before any timing counts, every request's answer through
// the constraint index is compared with the answer that evaluates every constraint.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "benchmarks/workload.h"

using namespace preflight;

namespace {

struct Fixture {
  std::shared_ptr<const Engine> engine;
  std::vector<CheckRequest> requests;
  std::vector<ProvisioningPlan> plans;
  size_t with_new_violations = 0;
  std::string error;
};

const Fixture& Load() {
  static Fixture f = [] {
    Fixture f;
    std::string dir = bench::WorkloadDir();
    if (dir.empty()) {
      f.error = "set PREFLIGHT_WORKLOAD to a directory written by benchmarks/gen_workload.py (scripts/bench.sh does)";
      return f;
    }
    f.engine = bench::WorkloadEngine(dir);
    if (!f.engine) {
      f.error = "cannot load " + dir + "/xml";
      return f;
    }
    for (const std::string& line : bench::ReadRequests(dir)) {
      auto req = ParseCheckRequest(line);
      if (!req.ok()) {
        f.error = std::string(req.status().message());
        return f;
      }
      auto plan = DecodePlanJson(req->plan_value);
      if (!plan.ok()) {
        f.error = std::string(plan.status().message());
        return f;
      }
      f.requests.push_back(*std::move(req));
      f.plans.push_back(*std::move(plan));
    }
    // Correctness first: the indexed answer must equal the exhaustive one.
    CheckOptions all;
    all.use_constraint_index = false;
    for (size_t i = 0; i < f.requests.size(); ++i) {
      auto fast = Check(f.engine->snapshot(), f.requests[i], f.plans[i]);
      auto slow = Check(f.engine->snapshot(), f.requests[i], f.plans[i], all);
      if (!fast.ok() || !slow.ok()) {
        f.error = absl::StrCat("request ", i, " failed: ", (fast.ok() ? slow : fast).status().ToString());
        return f;
      }
      std::string a = CheckResponseJson(f.requests[i], *fast), b = CheckResponseJson(f.requests[i], *slow);
      if (a != b) {
        f.error = absl::StrCat("request ", i, ": indexed and exhaustive answers differ:\n", a, "\n", b);
        return f;
      }
      if (!fast->violations.empty()) ++f.with_new_violations;
    }
    return f;
  }();
  return f;
}

// One check: plan already decoded (what an embedder holding plan objects pays).
void BM_Check(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  CheckOptions options;
  options.use_constraint_index = state.range(0) == 1;
  size_t i = 0, violations = 0;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = Check(f.engine->snapshot(), f.requests[i], f.plans[i], options);
    auto t1 = std::chrono::steady_clock::now();
    latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    violations += r->violations.size();
    benchmark::DoNotOptimize(r);
    if (++i == f.requests.size()) i = 0;
  }
  std::sort(latencies.begin(), latencies.end());
  state.counters["median_us"] = latencies[latencies.size() / 2];
  state.counters["p99_us"] = latencies[latencies.size() * 99 / 100];
  state.counters["requests"] = static_cast<double>(f.requests.size());
  state.counters["with_new_violations"] = static_cast<double>(f.with_new_violations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Check)->Arg(1)->ArgName("indexed")->UseRealTime();
BENCHMARK(BM_Check)->Arg(0)->ArgName("indexed")->UseRealTime();

// The whole call: request JSON in, response JSON out (what the CLI and Python pay).
void BM_CheckJson(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  static const std::vector<std::string> lines = bench::ReadRequests(bench::WorkloadDir());
  size_t i = 0;
  for (auto _ : state) {
    auto r = f.engine->CheckJson(lines[i]);
    benchmark::DoNotOptimize(r);
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckJson)->UseRealTime();

// A batch of 1,000 requests in one call.
void BM_CheckBatch(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  static const std::vector<std::string> lines = bench::ReadRequests(bench::WorkloadDir(), 1000);
  for (auto _ : state) {
    auto r = f.engine->CheckBatchJson(lines);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines.size()));
}
BENCHMARK(BM_CheckBatch)->UseRealTime()->Unit(benchmark::kMillisecond);

// Checks per second on every core: the engine is shared, each thread checks.
void BM_CheckThreads(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    size_t k = i++ % f.requests.size();
    auto r = Check(f.engine->snapshot(), f.requests[k], f.plans[k]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckThreads)->ThreadRange(1, 2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
