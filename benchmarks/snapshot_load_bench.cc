// Snapshot load: MB/s of export read and bytes of model per assignment, on the
// generated workload ($PREFLIGHT_WORKLOAD, both formats when present), with the files
// parsed on every core (threads:0) and on one (threads:1). The identity and constraint
// counts are checked against the generator's manifest.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "benchmarks/workload.h"
#include "simdjson.h"

using namespace preflight;

namespace {

// Peak resident memory of this process so far (VmHWM), in MB.
double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

size_t DirBytes(const std::string& dir) {
  size_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) bytes += e.file_size();
  return bytes;
}

void BM_LoadSnapshot(benchmark::State& state, const char* format) {
  std::string dir = bench::WorkloadDir();
  if (dir.empty()) return state.SkipWithError("set PREFLIGHT_WORKLOAD (scripts/bench.sh does)");
  std::string path = dir + "/" + format;
  if (!std::filesystem::exists(path)) return state.SkipWithError(("no " + path).c_str());
  simdjson::dom::parser parser;
  simdjson::dom::element manifest;
  if (parser.load(dir + "/manifest.json").get(manifest)) return state.SkipWithError("no manifest.json");
  int64_t identities = 0, constraints = 0;
  if (manifest["counts"]["identities"].get(identities) || manifest["counts"]["constraints"].get(constraints))
    return state.SkipWithError("manifest.json has no counts");
  size_t bytes = DirBytes(path);
  Snapshot::Stats stats;
  for (auto _ : state) {
    LoadOptions options;
    options.threads = static_cast<int>(state.range(0));
    auto snapshot = LoadSnapshot({path}, options);
    if (!snapshot.ok()) return state.SkipWithError(std::string(snapshot.status().message()).c_str());
    stats = (*snapshot)->stats();
    if (static_cast<int64_t>(stats.identities) != identities || static_cast<int64_t>(stats.constraints) != constraints)
      return state.SkipWithError(absl::StrCat("loaded ", stats.identities, " identities and ", stats.constraints,
                                              " constraints; the manifest says ", identities, " and ", constraints)
                                     .c_str());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["identities"] = static_cast<double>(stats.identities);
  double assignments = static_cast<double>(stats.role_assignments + stats.entitlement_values);
  state.counters["model_MB"] = static_cast<double>(stats.approx_bytes) / 1e6;
  state.counters["bytes_per_assignment"] = static_cast<double>(stats.approx_bytes) / assignments;
  state.counters["peak_rss_MB"] = PeakRssMb();
  state.counters["bytes_per_identity"] = static_cast<double>(stats.approx_bytes) / static_cast<double>(stats.identities);
}
BENCHMARK_CAPTURE(BM_LoadSnapshot, xml, "xml")
    ->ArgName("threads")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_LoadSnapshot, scim, "scim")
    ->ArgName("threads")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
