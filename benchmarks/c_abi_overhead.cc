// What the C ABI adds to a check: the same request checked N times through the C++ facade
// (Engine::CheckJson) and through libpreflight.so (preflight_check + preflight_string_free),
// alternating, median of the runs, in thread CPU time. Built with -DPREFLIGHT_BENCHMARKS=ON as bench_c_abi_overhead.
//
//   build/bench/bindings/c/bench_c_abi_overhead [N] [RUNS]   (from the repository root)

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bindings/c/include/preflight/preflight.h"
#include "engine/preflight.h"

namespace {

// The thread's CPU time, not wall time: the machine is shared, and time spent descheduled
// is not the call's.
double ThreadCpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

template <typename F>
double PerCallNs(int n, F&& f) {
  double start = ThreadCpuNs();
  for (int i = 0; i < n; ++i) f();
  return (ThreadCpuNs() - start) / n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  std::stringstream body_stream;
  body_stream << std::ifstream("examples/request.json").rdbuf();
  const std::string body = body_stream.str();

  auto cpp = preflight::Engine::Load({"examples/demo-snapshot"});
  if (!cpp.ok()) return 1;
  const char* paths[] = {"examples/demo-snapshot"};
  preflight_engine* c = nullptr;
  char* out = nullptr;
  if (preflight_engine_load(paths, 1, nullptr, 0, 0, &c, &out) != PREFLIGHT_OK) return 1;

  size_t sink = 0;
  auto via_cpp = [&] { sink += (*cpp)->CheckJson(body)->size(); };
  auto via_c = [&] {
    preflight_check(c, body.data(), body.size(), 0, &out);
    sink += out[0];
    preflight_string_free(out);
  };
  PerCallNs(n / 10, via_cpp);  // warm-up
  PerCallNs(n / 10, via_c);
  std::vector<double> cpp_ns, c_ns;
  for (int r = 0; r < runs; ++r) {
    cpp_ns.push_back(PerCallNs(n, via_cpp));
    c_ns.push_back(PerCallNs(n, via_c));
  }
  double a = Median(cpp_ns), b = Median(c_ns);
  std::printf("C++ Engine::CheckJson      %8.0f ns per check\n", a);
  std::printf("C ABI preflight_check      %8.0f ns per check (%+.0f ns)\n", b, b - a);
  preflight_engine_free(c);
  return sink == 0;
}
