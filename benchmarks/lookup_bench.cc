// The snapshot's text lookups on the generated workload (benchmarks/gen_workload.py):
// an identity by its name (Snapshot::FindIdentity, what every check does first) and a
// string by its text in the frozen pool (StringPool::Find, what a plan's strings go
// through), over keys in a shuffled order so that most probes miss the caches as a check's
// do. Before any timing counts, every answer is compared with a hash map built from the
// snapshot's own records.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/workload.h"

using namespace preflight;

namespace {

struct Keys {
  std::shared_ptr<const Engine> engine;
  std::vector<std::string> identities;  // the requests' identities, in request order
  std::vector<std::string> strings;     // pool strings, shuffled
  std::vector<std::string> absent;      // texts the pool does not hold
  std::string error;
};

const Keys& Load() {
  static Keys k = [] {
    Keys k;
    std::string dir = bench::WorkloadDir();
    if (dir.empty()) {
      k.error = "set PREFLIGHT_WORKLOAD to a generated workload";
      return k;
    }
    k.engine = bench::WorkloadEngine(dir);
    if (!k.engine) {
      k.error = "the workload's snapshot did not load";
      return k;
    }
    const Snapshot& s = k.engine->snapshot();
    absl::flat_hash_map<std::string_view, Index> identity_of;
    for (Index i = 0; i < s.population().identities.size(); ++i)
      identity_of.emplace(s.str(s.population().identities[i].name), i);
    absl::flat_hash_map<std::string_view, Id> id_of;
    for (Id id = 0; id < s.pool().size(); ++id) id_of.emplace(s.pool().Get(id), id);

    for (const std::string& line : bench::ReadRequests(dir)) {
      auto body = line.find("\"identity\":\"");
      if (body == std::string::npos) continue;
      body += 12;
      k.identities.push_back(line.substr(body, line.find('"', body) - body));
    }
    std::mt19937_64 rng(18);
    std::vector<Id> ids(s.pool().size());
    for (Id id = 0; id < ids.size(); ++id) ids[id] = id;
    std::shuffle(ids.begin(), ids.end(), rng);
    ids.resize(std::min<size_t>(ids.size(), 10000));
    for (Id id : ids) {
      k.strings.emplace_back(s.pool().Get(id));
      k.absent.push_back(std::string(s.pool().Get(id)) + "\x01");
    }
    if (k.identities.empty()) k.error = "no request names an identity";

    // Correctness first: every lookup answers what the maps built from the records do.
    for (const std::string& name : k.identities) {
      auto it = identity_of.find(name);
      if (s.FindIdentity(name) != (it == identity_of.end() ? kNoIndex : it->second))
        k.error = absl::StrCat("FindIdentity(", name, ") differs from the identities' names");
    }
    for (const std::vector<std::string>* list : {&k.strings, &k.absent})
      for (const std::string& text : *list) {
        auto it = id_of.find(text);
        if (s.pool().Find(text) != (it == id_of.end() ? kNoId : it->second))
          k.error = absl::StrCat("the pool's Find(", text, ") differs from its strings");
      }
    for (const std::string& text : k.absent)
      if (id_of.contains(text)) k.error = "an absent key is in the pool";
    return k;
  }();
  return k;
}

template <class Lookup>
void Cycle(benchmark::State& state, const std::vector<std::string>& keys, Lookup lookup) {
  size_t i = 0, found = 0;
  for (auto _ : state) {
    found += lookup(keys[i]);
    if (++i == keys.size()) i = 0;
  }
  state.counters["found"] = benchmark::Counter(static_cast<double>(found) / state.iterations());
}

void BM_FindIdentity(benchmark::State& state) {
  const Keys& k = Load();
  if (!k.error.empty()) return state.SkipWithError(k.error.c_str());
  const Snapshot& s = k.engine->snapshot();
  Cycle(state, k.identities, [&](const std::string& name) { return s.FindIdentity(name) != kNoIndex; });
}
BENCHMARK(BM_FindIdentity);

void BM_PoolFind(benchmark::State& state) {
  const Keys& k = Load();
  if (!k.error.empty()) return state.SkipWithError(k.error.c_str());
  const StringPool& pool = k.engine->snapshot().pool();
  Cycle(state, state.range(0) ? k.strings : k.absent, [&](const std::string& text) { return pool.Find(text) != kNoId; });
}
BENCHMARK(BM_PoolFind)->ArgName("present")->Arg(1)->Arg(0);

}  // namespace

BENCHMARK_MAIN();
