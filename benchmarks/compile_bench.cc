// Plan compile (the projection a check starts with: pre state, plan applied, roles
// expanded and re-detected) on the generated workload's requests. Before timing, every
// plan must compile and the projections must differ from the pre state (the plans add
// something).

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "benchmarks/workload.h"

using namespace preflight;

namespace {

void BM_Compile(benchmark::State& state) {
  std::string dir = bench::WorkloadDir();
  if (dir.empty()) return state.SkipWithError("set PREFLIGHT_WORKLOAD (scripts/bench.sh does)");
  auto engine = bench::WorkloadEngine(dir);
  if (!engine) return state.SkipWithError("cannot load the workload");
  const Snapshot& s = engine->snapshot();
  std::vector<std::pair<Index, ProvisioningPlan>> work;
  size_t changed = 0;
  for (const std::string& line : bench::ReadRequests(dir)) {
    auto req = ParseCheckRequest(line);
    if (!req.ok()) return state.SkipWithError(std::string(req.status().message()).c_str());
    auto plan = DecodePlanJson(req->plan_value);
    if (!plan.ok()) return state.SkipWithError(std::string(plan.status().message()).c_str());
    Index who = s.FindIdentity(req->identity);
    if (who == kNoIndex) return state.SkipWithError(("unknown identity " + req->identity).c_str());
    ValueIds ids(s.pool());
    Projection p;
    if (auto st = ProjectInto(s, who, *plan, ids, p); !st.ok()) return state.SkipWithError(std::string(st.message()).c_str());
    if (!p.changes.empty() || p.pre.assigned_roles != p.post.assigned_roles) ++changed;
    work.emplace_back(who, *std::move(plan));
  }
  if (changed * 10 < work.size() * 9)
    return state.SkipWithError(absl::StrCat("only ", changed, " of ", work.size(), " plans change anything").c_str());
  Projection p;
  size_t i = 0;
  for (auto _ : state) {
    ValueIds ids(s.pool());
    auto st = ProjectInto(s, work[i].first, work[i].second, ids, p);
    benchmark::DoNotOptimize(st);
    if (++i == work.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["plans_changing_state"] = static_cast<double>(changed);
}
BENCHMARK(BM_Compile)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
