// The check on the generated workload (benchmarks/gen_workload.py): single requests,
// batches, and both cores. Before any timing counts, every request's answer through
// the constraint index and the fast paths is compared with the answer that evaluates
// every constraint with every fast path off.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "benchmarks/count_allocations.h"
#include "benchmarks/workload.h"

using namespace preflight;

// bench_check counts allocations per check (benchmarks/count_allocations.h), and
// BM_Check/indexed:1 requires none in steady state for a request that reports no
// violation (its answer, an empty list, needs no memory).
namespace {

struct Fixture : bench::DecodedWorkload {
  std::vector<bool> violates;  // the answer lists a violation
  size_t with_new_violations = 0;
};

const Fixture& Load() {
  static Fixture f = [] {
    Fixture f;
    static_cast<bench::DecodedWorkload&>(f) = bench::LoadDecodedWorkload();
    if (!f.error.empty()) return f;
    // Correctness first: the answer with the index and every fast path must equal the
    // one that evaluates every constraint with none.
    CheckOptions all = CheckOptions::Exhaustive();
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
      f.violates.push_back(!fast->violations.empty());
      if (!fast->violations.empty()) ++f.with_new_violations;
    }
    return f;
  }();
  return f;
}

// Passes over every request on this thread until one allocates nothing for the requests
// that report no violation (at most ten): the thread's check scratch has grown to the
// size the requests need. Accounts and overlay entries are reused in a different order
// each pass, so it takes a few.
void WarmUp(const Fixture& f, const CheckOptions& options) {
  for (int pass = 0; pass < 10; ++pass) {
    uint64_t quiet = 0;
    for (size_t k = 0; k < f.requests.size(); ++k) {
      uint64_t a0 = bench::Allocations();
      benchmark::DoNotOptimize(Check(f.engine->snapshot(), f.requests[k], f.plans[k], options));
      if (!f.violates[k]) quiet += bench::Allocations() - a0;
    }
    if (quiet == 0) return;
  }
}

CheckOptions OptionsFor(int64_t indexed) { return indexed ? CheckOptions{} : CheckOptions::Exhaustive(); }

// With $PREFLIGHT_BENCH_SLOWEST=N, TimeChecks names on stderr the N requests whose
// fastest check (over every pass: the machine's interruptions filtered out) is the
// slowest, with what they do, and compares the slowest 1% of requests so ranked with
// the rest: what the p99 is made of.
void ReportSlowest(const Fixture& f, const std::vector<std::pair<double, uint32_t>>& timed) {
  const char* env = std::getenv("PREFLIGHT_BENCH_SLOWEST");
  if (!env || timed.empty()) return;
  const size_t n = static_cast<size_t>(std::atoi(env));
  std::vector<double> fastest(f.requests.size(), 1e300);
  for (auto [us, k] : timed) fastest[k] = std::min(fastest[k], us);
  std::vector<uint32_t> order(f.requests.size());
  for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return fastest[a] > fastest[b]; });
  const Snapshot& s = f.engine->snapshot();
  ValueIds ids(s.pool());
  Projection p;
  struct Sums {
    double requests = 0, us = 0, violations = 0, accounts = 0, changes = 0, pre = 0, plan = 0, unflagged = 0;
  } slow, rest;
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const uint32_t k = order[rank];
    auto r = Check(s, f.requests[k], f.plans[k]);
    Index identity = s.FindIdentity(f.requests[k].identity);
    ids.Clear();
    if (!r.ok() || identity == kNoIndex || !ProjectInto(s, identity, f.plans[k], ids, p).ok()) continue;
    const unsigned flags = s.identities()[identity].flags;
    Sums& sums = rank < order.size() / 100 ? slow : rest;
    sums.requests += 1;
    sums.us += fastest[k];
    sums.violations += static_cast<double>(r->violations.size());
    sums.accounts += static_cast<double>(f.plans[k].accounts.size());
    sums.changes += static_cast<double>(p.changes.size());
    sums.pre += static_cast<double>(p.pre_expansions.size());
    sums.plan += static_cast<double>(p.plan_expansions.size());
    sums.unflagged += flags == 3 ? 0 : 1;
    if (rank < n)
      std::fprintf(stderr,
                   "slow request %u: fastest %.1f us; %zu new violations, %zu account requests, %zu changes, "
                   "%zu pre / %zu plan expansions, %zu accounts, %zu assigned / %zu detected roles, flags %u\n",
                   k, fastest[k], r->violations.size(), f.plans[k].accounts.size(), p.changes.size(),
                   p.pre_expansions.size(), p.plan_expansions.size(), p.pre.accounts.size(),
                   p.pre.assigned_roles.size(), p.pre.detected_roles.size(), flags);
  }
  for (auto [name, x] : {std::pair{"slowest 1%", slow}, std::pair{"the rest", rest}}) {
    double d = x.requests ? x.requests : 1;
    std::fprintf(stderr,
                 "%s (%.0f requests), means: fastest %.2f us, %.2f new violations, %.2f account requests, %.1f "
                 "changes, %.1f pre / %.1f plan expansions, %.0f%% without both identity flags\n",
                 name, x.requests, x.us / d, x.violations / d, x.accounts / d, x.changes / d, x.pre / d, x.plan / d,
                 100 * x.unflagged / d);
  }
}

// Times one check per iteration over the requests in turn, and asserts that a check
// with the defaults allocates nothing for a request that reports no violation. With
// `fresh`, each request and its plan are first copied, untimed, as a caller who has
// just decoded them holds them: in cache, at new addresses.
void TimeChecks(benchmark::State& state, const Fixture& f, const CheckOptions& options, bool fresh) {
  // Steady state: passes over every request grow the thread's scratch to its size.
  WarmUp(f, options);
  size_t i = 0;
  uint64_t allocs = 0, allocs_quiet = 0, quiet = 0;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  std::vector<std::pair<double, uint32_t>> timed;  // for ReportSlowest
  const bool slowest = std::getenv("PREFLIGHT_BENCH_SLOWEST") != nullptr;
  for (auto _ : state) {
    std::optional<CheckRequest> request_copy;
    std::optional<ProvisioningPlan> plan_copy;
    if (fresh) {
      request_copy.emplace(f.requests[i]);
      plan_copy.emplace(f.plans[i]);
    }
    const CheckRequest& request = fresh ? *request_copy : f.requests[i];
    const ProvisioningPlan& plan = fresh ? *plan_copy : f.plans[i];
    uint64_t a0 = bench::Allocations();
    auto t0 = std::chrono::steady_clock::now();
    auto r = Check(f.engine->snapshot(), request, plan, options);
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(r);
    uint64_t n = bench::Allocations() - a0;
    latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (slowest) timed.emplace_back(latencies.back(), static_cast<uint32_t>(i));
    if (!r.ok() || r->violations.empty() == f.violates[i])
      return state.SkipWithError(absl::StrCat("request ", i, ": the answer differs from the one compared").c_str());
    allocs += n;
    if (!f.violates[i]) {
      allocs_quiet += n;
      ++quiet;
    }
    if (++i == f.requests.size()) i = 0;
  }
  // The hot path (the defaults) must not allocate; the exhaustive one is the reference.
  if (allocs_quiet != 0 && options.use_constraint_index)
    return state.SkipWithError(absl::StrCat(allocs_quiet, " allocations in ", quiet,
                                            " checks that report no violation (expected none)").c_str());
  std::sort(latencies.begin(), latencies.end());
  state.counters["median_us"] = latencies[latencies.size() / 2];
  state.counters["p99_us"] = latencies[latencies.size() * 99 / 100];
  ReportSlowest(f, timed);
  state.counters["allocs_per_check"] = static_cast<double>(allocs) / static_cast<double>(state.iterations());
  // Per check that reports no violation (the answer itself allocates nothing then).
  state.counters["allocs_quiet"] = static_cast<double>(allocs_quiet) / static_cast<double>(quiet ? quiet : 1);
  state.counters["requests"] = static_cast<double>(f.requests.size());
  state.counters["with_new_violations"] = static_cast<double>(f.with_new_violations);
  state.SetItemsProcessed(state.iterations());
}

// One check: plan already decoded, 10,000 plans read in turn (what an embedder holding
// plan objects pays: each plan is a cold read). indexed:1 is the default options (the
// constraint index and every fast path), indexed:0 evaluates every constraint with
// every fast path off. The headline.
void BM_Check(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  TimeChecks(state, f, OptionsFor(state.range(0)), false);
}
BENCHMARK(BM_Check)->Arg(1)->ArgName("indexed")->UseRealTime();
BENCHMARK(BM_Check)->Arg(0)->ArgName("indexed")->UseRealTime();

// The same with the plan just built: each request and its plan copied, untimed, before
// the check (as a service that decodes a request and then checks it). BM_Check's time
// over this one is what its 10,000 pre-decoded plans' cache misses cost.
void BM_CheckFreshPlan(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  TimeChecks(state, f, CheckOptions(), true);
}
BENCHMARK(BM_CheckFreshPlan)->UseRealTime();

// BM_Check (fresh:0) and BM_CheckFreshPlan (fresh:1) with CheckOptions::prefetch_ahead
// off: in one binary, what asking ahead for the identity's runs and the indexes by value
// saves.
void BM_CheckNoPrefetch(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  CheckOptions options;
  options.prefetch_ahead = false;
  TimeChecks(state, f, options, state.range(0) != 0);
}
BENCHMARK(BM_CheckNoPrefetch)->Arg(0)->Arg(1)->ArgName("fresh")->UseRealTime();

// One check into a CheckResult the caller reuses (CheckInto, the defaults): once the
// thread's scratch and the result's lists have grown, no check allocates, whether it
// reports violations or not; any allocation fails the benchmark.
void BM_CheckInto(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  CheckResult result;
  auto check = [&](size_t k) {
    if (!CheckInto(f.engine->snapshot(), f.requests[k], f.plans[k], CheckOptions(), result).ok()) std::abort();
    if (result.violations.empty() == f.violates[k]) std::abort();  // the answer Load() compared
  };
  for (int pass = 0; pass < 10; ++pass) {
    uint64_t a0 = bench::Allocations();
    for (size_t k = 0; k < f.requests.size(); ++k) check(k);
    if (bench::Allocations() == a0) break;
  }
  size_t i = 0;
  uint64_t allocs = 0;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  for (auto _ : state) {
    uint64_t a0 = bench::Allocations();
    auto t0 = std::chrono::steady_clock::now();
    check(i);
    auto t1 = std::chrono::steady_clock::now();
    allocs += bench::Allocations() - a0;
    latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (++i == f.requests.size()) i = 0;
  }
  if (allocs != 0)
    return state.SkipWithError(absl::StrCat(allocs, " allocations in ", state.iterations(), " checks (expected none)").c_str());
  std::sort(latencies.begin(), latencies.end());
  state.counters["median_us"] = latencies[latencies.size() / 2];
  state.counters["p99_us"] = latencies[latencies.size() * 99 / 100];
  state.counters["allocs_per_check"] = static_cast<double>(allocs) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckInto)->UseRealTime();

// Compute against memory: each request checked `repeats` times in a row (the defaults).
// The first check of a request pays its cache misses (the identity, its records, the
// plan, the pool slots of the plan's strings); the later ones find them in cache, so
// what they cost is the check's instructions. cold_* time the first check, warm_* the
// last; the difference is what the misses cost. `primed` brings parts into the cache
// before the first check, untimed, to say what their misses cost: 1 the identity lookup,
// 2 the plan and its strings' pool lookups, 3 both.
void BM_CheckWarm(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const int repeats = static_cast<int>(state.range(0));
  const int primed = static_cast<int>(state.range(1));
  const CheckOptions options;
  WarmUp(f, options);
  size_t i = 0;
  std::vector<double> cold, warm;
  cold.reserve(1 << 18);
  warm.reserve(1 << 18);
  for (auto _ : state) {
    if (primed & 1) benchmark::DoNotOptimize(f.engine->snapshot().FindIdentity(f.requests[i].identity));
    if (primed & 2) {
      const StringPool& pool = f.engine->snapshot().pool();
      for (const AccountRequest& a : f.plans[i].accounts) {
        if (a.native_identity) benchmark::DoNotOptimize(pool.Find(*a.native_identity));
        for (const AttributeRequest& ar : a.attributes) {
          benchmark::DoNotOptimize(pool.Find(ar.name));
          ar.value.ForEachString([&](std::string_view v) { benchmark::DoNotOptimize(pool.Find(v)); });
        }
      }
    }
    for (int k = 0; k < repeats; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = Check(f.engine->snapshot(), f.requests[i], f.plans[i], options);
      auto t1 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(r);
      if (!r.ok() || r->violations.empty() == f.violates[i])
        return state.SkipWithError(absl::StrCat("request ", i, ": a repeated check changed its answer").c_str());
      if (k == 0) cold.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      else if (k == repeats - 1) warm.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    if (++i == f.requests.size()) i = 0;
  }
  auto put = [&](std::vector<double>& v, const char* name) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    state.counters[absl::StrCat(name, "_median_us")] = v[v.size() / 2];
    state.counters[absl::StrCat(name, "_p99_us")] = v[v.size() * 99 / 100];
  };
  put(cold, "cold");
  put(warm, "warm");
  state.SetItemsProcessed(state.iterations() * repeats);
}
BENCHMARK(BM_CheckWarm)->Args({4, 0})->Args({1, 1})->Args({1, 2})->Args({1, 3})->ArgNames({"repeats", "primed"})->UseRealTime();

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

// Checks per second on every core: the engine is shared, each thread checks. The
// threads:2 row's items_per_second over the threads:1 row's is the scaling (CPU time
// per check says how much of a shortfall is the machine's other load).
void BM_CheckThreads(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  WarmUp(f, CheckOptions());
  uint64_t a0 = bench::Allocations();
  for (auto _ : state) {
    size_t k = i++ % f.requests.size();
    auto r = Check(f.engine->snapshot(), f.requests[k], f.plans[k]);
    benchmark::DoNotOptimize(r);
  }
  state.counters["allocs_per_check"] =
      benchmark::Counter(static_cast<double>(bench::Allocations() - a0), benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckThreads)->ThreadRange(1, 2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
