// What the C ABI adds to a check: the same request checked N times through the C++ facade
// (Engine::CheckJson), through libpreflight.so (preflight_check + preflight_string_free) and
// into a reused buffer (preflight_check_into), alternating, median of the runs, in thread CPU
// time, with the heap allocations per call (every malloc of the process, the library's
// included, counted here). Every answer is compared with the C++ one before timing. Built
// with -DPREFLIGHT_BENCHMARKS=ON as bench_c_abi_overhead.
//
//   build/bench/bindings/c/bench_c_abi_overhead [N] [RUNS]   (from the repository root)

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bindings/c/include/preflight/preflight.h"
#include "engine/preflight.h"

// Every malloc of the process goes through here (glibc's own entry points behind it), the
// library's and libstdc++'s operator new included.
extern "C" void* __libc_malloc(size_t size);
extern "C" void* __libc_calloc(size_t n, size_t size);
extern "C" void* __libc_realloc(void* p, size_t size);
static std::atomic<uint64_t> mallocs{0};
extern "C" void* malloc(size_t size) {
  mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t n, size_t size) {
  mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, size_t size) {
  mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}

namespace {

// The thread's CPU time, not wall time: the machine is shared, and time spent descheduled
// is not the call's.
double ThreadCpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

template <typename F>
double AllocationsPerCall(int n, F&& f) {
  uint64_t start = mallocs.load();
  for (int i = 0; i < n; ++i) f();
  return static_cast<double>(mallocs.load() - start) / n;
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

  preflight_buffer* buffer = nullptr;
  if (preflight_buffer_new(&buffer) != PREFLIGHT_OK) return 1;
  // The three must answer alike before any time counts.
  const std::string expected = *(*cpp)->CheckJson(body);
  if (preflight_check(c, body.data(), body.size(), 0, &out) != PREFLIGHT_OK || expected != out) return 1;
  preflight_string_free(out);
  if (preflight_check_into(c, body.data(), body.size(), 0, buffer) != PREFLIGHT_OK ||
      expected != preflight_buffer_data(buffer))
    return 1;

  size_t sink = 0;
  auto via_cpp = [&] { sink += (*cpp)->CheckJson(body)->size(); };
  auto via_c = [&] {
    preflight_check(c, body.data(), body.size(), 0, &out);
    sink += out[0];
    preflight_string_free(out);
  };
  auto via_c_into = [&] {
    preflight_check_into(c, body.data(), body.size(), 0, buffer);
    sink += preflight_buffer_size(buffer);
  };
  PerCallNs(n / 10, via_cpp);  // warm-up
  PerCallNs(n / 10, via_c);
  PerCallNs(n / 10, via_c_into);
  std::vector<double> cpp_ns, c_ns, into_ns;
  for (int r = 0; r < runs; ++r) {
    cpp_ns.push_back(PerCallNs(n, via_cpp));
    c_ns.push_back(PerCallNs(n, via_c));
    into_ns.push_back(PerCallNs(n, via_c_into));
  }
  const int counted = std::max(1, n / 10);
  double a = Median(cpp_ns), b = Median(c_ns), d = Median(into_ns);
  std::printf("C++ Engine::CheckJson      %8.0f ns per check, %5.2f allocations\n", a,
              AllocationsPerCall(counted, via_cpp));
  std::printf("C ABI preflight_check      %8.0f ns per check (%+.0f ns), %5.2f allocations\n", b, b - a,
              AllocationsPerCall(counted, via_c));
  std::printf("C ABI preflight_check_into %8.0f ns per check (%+.0f ns), %5.2f allocations\n", d, d - a,
              AllocationsPerCall(counted, via_c_into));
  preflight_buffer_free(buffer);
  preflight_engine_free(c);
  return sink == 0;
}
