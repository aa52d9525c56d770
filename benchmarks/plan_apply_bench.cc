// Plan application on one identity of the demo snapshot when a plan brings many values on
// one attribute: the cost must grow linearly with the values (issue 14). Each case adds N
// distinct values to Active_Directory's multi-valued groupmbr, or adds them and removes
// them again; compare the time per value (the items/s counter) between N = 1,000,
// 10,000 and 100,000.

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "engine/load/snapshot_builder.h"
#include "engine/model/plan.h"
#include "engine/model/snapshot.h"
#include "engine/plan/compiler.h"
#include "engine/preflight.h"

using namespace preflight;

namespace {

std::shared_ptr<const Engine> DemoEngine() {
  static auto engine = Engine::Load({PREFLIGHT_SOURCE_DIR "/examples/demo-snapshot"});
  return engine.ok() ? *engine : nullptr;
}

AttributeRequest ManyValues(AttributeOp op, int64_t n) {
  AttributeRequest a;
  a.name = "groupmbr";
  a.op = op;
  a.value = Value::List();
  a.value.list.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) a.value.list.push_back(Value::String(absl::StrCat("CN=Group ", i, ",OU=Groups")));
  return a;
}

void Apply(benchmark::State& state, bool remove_too) {
  auto engine = DemoEngine();
  if (!engine) return state.SkipWithError("cannot load examples/demo-snapshot");
  const Snapshot& s = engine->snapshot();
  Index who = s.FindIdentity("Ryan.Russell");
  if (who == kNoIndex) return state.SkipWithError("Ryan.Russell is not in the demo snapshot");
  ProvisioningPlan plan;
  AccountRequest& account = plan.accounts.emplace_back();
  account.application = "Active_Directory";
  account.op = AccountOp::kModify;
  account.attributes.push_back(ManyValues(AttributeOp::kAdd, state.range(0)));
  if (remove_too) account.attributes.push_back(ManyValues(AttributeOp::kRemove, state.range(0)));
  Projection p;
  for (auto _ : state) {
    ValueIds ids(s.pool());
    auto st = ProjectInto(s, who, plan, ids, p);
    if (!st.ok()) return state.SkipWithError(std::string(st.message()).c_str());
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_AddManyValues(benchmark::State& state) { Apply(state, false); }
void BM_AddThenRemoveManyValues(benchmark::State& state) { Apply(state, true); }
BENCHMARK(BM_AddManyValues)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddThenRemoveManyValues)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
