// JSON in, JSON out (Engine::CheckJson, the service's path) against the check itself on the
// generated workload (benchmarks/gen_workload.py, $PREFLIGHT_WORKLOAD): what reading the
// CheckedPolicyViolations body and its plan and writing the response add to a check.
//
//   PREFLIGHT_WORKLOAD=/work/benchdata/w100k build/release/benchmarks/bench_check_json
//       [--benchmark_filter=Overhead]   ($PREFLIGHT_JSON_REQUESTS: how many requests, default 2000)
//
// Before any timing counts, every request's CheckJson answer must equal, byte for byte, the
// response written from the structured check (Check on the decoded request and plan).
// BM_Overhead times each request both ways, interleaved, and reports the per-request
// difference (JSON path minus structured check): its median, p90 and mean, and the heap
// allocations the JSON path makes beyond the check's own. BM_CheckJsonSink is the path into
// a reused writer (a thread serving request after request): once warm, it must not allocate
// for a request that reports no violation (the check itself allocates nothing then either),
// or it stops with an error. BM_OverheadMapForm is BM_Overhead with each plan written in the
// Map.toString form of IdentityIQ's documented example (the JSON plan with its keys
// unquoted and `=` after them: not JSON, so read by the map-form reader); each of those
// answers is first compared with the structured check's on the same plan.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "benchmarks/count_allocations.h"
#include "benchmarks/workload.h"

using namespace preflight;

namespace {

struct Fixture : bench::DecodedWorkload {
  std::vector<std::string> responses;  // the structured path's answers
  std::vector<bool> quiet;             // no violation in the answer
  std::vector<std::string> map_bodies;  // the bodies with their plans in the map form
};

// The body with its plan's keys unquoted: `\"name\":` (a key inside the escaped plan text)
// becomes `name=`. The values stay quoted strings, which the map form reads as JSON's.
std::string MapFormBody(std::string_view body) {
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    if (body.compare(i, 2, "\\\"") == 0) {
      size_t j = i + 2;
      while (j < body.size() && (std::isalnum(static_cast<unsigned char>(body[j])) || body[j] == '_')) ++j;
      if (j > i + 2 && body.compare(j, 3, "\\\":") == 0) {
        out.append(body.substr(i + 2, j - i - 2)).push_back('=');
        i = j + 3;
        continue;
      }
    }
    out.push_back(body[i++]);
  }
  return out;
}

size_t RequestCount() {
  const char* n = std::getenv("PREFLIGHT_JSON_REQUESTS");
  return n ? static_cast<size_t>(std::strtoull(n, nullptr, 10)) : 2000;
}

// The structured path: the check on a decoded request and plan, its response written.
absl::StatusOr<std::string> Structured(const Fixture& f, size_t i) {
  auto result = Check(f.engine->snapshot(), f.requests[i], f.plans[i]);
  if (!result.ok()) return result.status();
  return CheckResponseJson(f.requests[i], *result);
}

const Fixture& Load() {
  static Fixture f = [] {
    Fixture f;
    static_cast<bench::DecodedWorkload&>(f) = bench::LoadDecodedWorkload(RequestCount());
    if (!f.error.empty()) return f;
    // Correctness first: the JSON path answers every request exactly as the structured one.
    for (size_t i = 0; i < f.bodies.size(); ++i) {
      auto want = Structured(f, i);
      auto got = f.engine->CheckJson(f.bodies[i]);
      if (!want.ok() || !got.ok()) {
        f.error = absl::StrCat("request ", i, " failed: ", (want.ok() ? got : want).status().ToString());
        return f;
      }
      if (*want != *got) {
        f.error = absl::StrCat("request ", i, ": CheckJson differs from the structured check:\n", *got, "\n", *want);
        return f;
      }
      f.quiet.push_back(want->find("\"violations\"") == std::string::npos);
      f.responses.push_back(*std::move(want));
      // The same request with its plan in the map form: the same plan, the same answer
      // (which echoes the plan text as given).
      std::string map_body = MapFormBody(f.bodies[i]);
      auto map_request = ParseCheckRequest(map_body);
      if (!map_request.ok()) {
        f.error = absl::StrCat("request ", i, " in the map form: ", map_request.status().ToString());
        return f;
      }
      auto map_plan = DecodePlanMap(map_request->plan_value);
      if (!map_plan.ok() || *map_plan != f.plans[i] || map_request->plan_value.find("\"identity\":") != std::string::npos) {
        f.error = absl::StrCat("request ", i, ": its map form does not read as its plan: ", map_request->plan_value);
        return f;
      }
      auto map_want = Check(f.engine->snapshot(), *map_request, f.plans[i]);
      auto map_got = f.engine->CheckJson(map_body);
      if (!map_want.ok() || !map_got.ok() || *map_got != CheckResponseJson(*map_request, *map_want)) {
        f.error = absl::StrCat("request ", i, ": the map-form body's answer differs from the structured check's");
        return f;
      }
      f.map_bodies.push_back(std::move(map_body));
    }
    return f;
  }();
  return f;
}

#define PF_FIXTURE(f)                                            \
  const Fixture& f = Load();                                     \
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str())

void Finish(benchmark::State& state, const Fixture& f, uint64_t allocations) {
  state.counters["requests"] = static_cast<double>(f.bodies.size());
  state.counters["allocs_per_request"] =
      static_cast<double>(allocations) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.SetItemsProcessed(state.iterations());
}

// The check itself, request and plan already decoded (no response written).
void BM_Check(benchmark::State& state) {
  PF_FIXTURE(f);
  size_t i = 0;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    auto r = Check(f.engine->snapshot(), f.requests[i], f.plans[i]);
    benchmark::DoNotOptimize(r);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
}
BENCHMARK(BM_Check)->UseRealTime();

// The service's path: body text in, response text out.
void BM_CheckJson(benchmark::State& state) {
  PF_FIXTURE(f);
  size_t i = 0;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    auto r = f.engine->CheckJson(f.bodies[i]);
    benchmark::DoNotOptimize(r);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
}
BENCHMARK(BM_CheckJson)->UseRealTime();

// Passes over every request into `out` (reset for each) until one allocates nothing for the
// requests without violations (at most ten, as the buffers grow); that pass's allocations.
uint64_t WarmSink(const Fixture& f, JsonWriter& out) {
  uint64_t quiet_allocations = 0;
  for (int pass = 0; pass < 10; ++pass) {
    quiet_allocations = 0;
    for (size_t k = 0; k < f.bodies.size(); ++k) {
      out.Reset();
      const uint64_t a0 = bench::Allocations();
      absl::Status s = f.engine->CheckJson(f.bodies[k], {}, out);
      if (f.quiet[k]) quiet_allocations += bench::Allocations() - a0;
      benchmark::DoNotOptimize(s);
    }
    if (quiet_allocations == 0) break;
  }
  return quiet_allocations;
}

// The same path into a reused writer: body text in, response text out, no string returned.
void BM_CheckJsonSink(benchmark::State& state) {
  PF_FIXTURE(f);
  JsonWriter out;
  if (uint64_t n = WarmSink(f, out); n != 0)
    return state.SkipWithError(absl::StrCat(n, " allocations on the JSON path for the requests without "
                                            "violations, once warm (expected none)").c_str());
  size_t i = 0, quiet = 0;
  uint64_t quiet_allocations = 0;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    out.Reset();
    const uint64_t b0 = bench::Allocations();
    absl::Status s = f.engine->CheckJson(f.bodies[i], {}, out);
    if (f.quiet[i]) quiet_allocations += bench::Allocations() - b0, ++quiet;
    benchmark::DoNotOptimize(s);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
  state.counters["allocs_quiet"] = static_cast<double>(quiet_allocations) / static_cast<double>(quiet ? quiet : 1);
}
BENCHMARK(BM_CheckJsonSink)->UseRealTime();

// The stages the JSON path adds, one at a time, each into the thread's reused buffers as
// CheckJson reads them.
void BM_ParseRequest(benchmark::State& state) {
  PF_FIXTURE(f);
  size_t i = 0;
  CheckRequest request;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    absl::Status s = ParseCheckRequestInto(f.bodies[i], DefaultLimits(), request);
    benchmark::DoNotOptimize(s);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
}
BENCHMARK(BM_ParseRequest)->UseRealTime();

void BM_DecodePlan(benchmark::State& state) {
  PF_FIXTURE(f);
  size_t i = 0;
  PlanScratch plans;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    absl::Status s = DecodePlanInto(f.requests[i].plan_value, PlanFormat::kJson, DefaultLimits(), plans);
    benchmark::DoNotOptimize(s);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
}
BENCHMARK(BM_DecodePlan)->UseRealTime();

void BM_WriteResponse(benchmark::State& state) {
  PF_FIXTURE(f);
  std::vector<CheckResult> results;
  for (size_t i = 0; i < f.bodies.size(); ++i)
    results.push_back(*Check(f.engine->snapshot(), f.requests[i], f.plans[i]));
  size_t i = 0;
  const uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    auto r = CheckResponseJson(f.requests[i], results[i]);
    benchmark::DoNotOptimize(r);
    if (++i == f.bodies.size()) i = 0;
  }
  Finish(state, f, bench::Allocations() - a0);
}
BENCHMARK(BM_WriteResponse)->UseRealTime();

// Each request timed both ways, interleaved, several passes; per request the fastest pass of
// each path, and the difference. One iteration is one request (both paths).
void Overhead(benchmark::State& state, const Fixture& f, const std::vector<std::string>& bodies) {
  using Clock = std::chrono::steady_clock;
  const size_t n = bodies.size();
  std::vector<double> best_check(n, 1e300), best_json(n, 1e300);
  uint64_t check_allocs = 0, json_allocs = 0;
  size_t i = 0, pass = 0;
  auto timed = [](auto&& call, double& best, uint64_t& allocations) {
    const uint64_t a0 = bench::Allocations();
    auto t0 = Clock::now();
    auto r = call();
    auto t1 = Clock::now();
    allocations += bench::Allocations() - a0;
    benchmark::DoNotOptimize(r);
    best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count());
  };
  for (auto _ : state) {
    auto check = [&] { return Check(f.engine->snapshot(), f.requests[i], f.plans[i]); };
    auto json = [&] { return f.engine->CheckJson(bodies[i]); };
    // Whichever runs second finds the identity's data in cache: alternate the order by pass.
    if (pass % 2 == 0) {
      timed(check, best_check[i], check_allocs);
      timed(json, best_json[i], json_allocs);
    } else {
      timed(json, best_json[i], json_allocs);
      timed(check, best_check[i], check_allocs);
    }
    if (++i == n) i = 0, ++pass;
  }
  std::vector<double> diff, check, json;
  double sum = 0;
  for (size_t k = 0; k < n; ++k) {
    if (best_check[k] > 1e299) continue;  // not timed (fewer iterations than requests)
    diff.push_back(best_json[k] - best_check[k]);
    check.push_back(best_check[k]);
    json.push_back(best_json[k]);
    sum += diff.back();
  }
  if (diff.empty()) return;
  auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
  };
  state.counters["check_median_us"] = quantile(check, 0.5);
  state.counters["json_median_us"] = quantile(json, 0.5);
  state.counters["overhead_median_us"] = quantile(diff, 0.5);
  state.counters["overhead_p90_us"] = quantile(diff, 0.9);
  state.counters["overhead_mean_us"] = sum / static_cast<double>(diff.size());
  const double its = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.counters["check_allocs"] = static_cast<double>(check_allocs) / its;
  state.counters["json_allocs"] = static_cast<double>(json_allocs) / its;
  state.counters["requests"] = static_cast<double>(n);
}

void BM_Overhead(benchmark::State& state) {
  PF_FIXTURE(f);
  Overhead(state, f, f.bodies);
}
BENCHMARK(BM_Overhead)->UseRealTime()->Iterations(20000);

void BM_OverheadMapForm(benchmark::State& state) {
  PF_FIXTURE(f);
  Overhead(state, f, f.map_bodies);
}
BENCHMARK(BM_OverheadMapForm)->UseRealTime()->Iterations(20000);

}  // namespace

BENCHMARK_MAIN();
