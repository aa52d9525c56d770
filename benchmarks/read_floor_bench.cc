// The floor under an image's `full` open: how fast this machine can read a file it has in its page
// cache through a fresh mapping, on one thread and on two. The `full` open maps the image and reads
// every byte once (checksums and row checks), so it cannot be faster than the bare read measured here;
// benchmarks/image_bench.py times the open itself. The file is PREFLIGHT_IMAGE (any file will do; an
// image is what the comparison needs). Each timed read sums the file's 64-bit words; the sum must equal
// the one computed once before the timing, or the benchmark fails.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// Four independent accumulators so the loop is bound by the loads, not by one add chain.
uint64_t SumWords(const unsigned char* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, sizeof w);
    a += w[0];
    b += w[1];
    c += w[2];
    d += w[3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

// A part read as the open reads its chunks: each piece's pages mapped in one call where the kernel
// can (MADV_POPULATE_READ, Linux 5.14), then summed. Pieces start 64-byte aligned.
uint64_t ReadPart(const unsigned char* base, size_t begin, size_t end) {
  constexpr size_t kPiece = size_t{4} << 20;
  uint64_t sum = 0;
  for (size_t at = begin; at < end; at += kPiece) {
    const size_t n = std::min(kPiece, end - at);
#ifdef MADV_POPULATE_READ
    const uintptr_t from = reinterpret_cast<uintptr_t>(base + at) & ~uintptr_t{4095};
    ::madvise(reinterpret_cast<void*>(from), reinterpret_cast<uintptr_t>(base + at) + n - from, MADV_POPULATE_READ);
#endif
    sum += SumWords(base + at, n);
  }
  return sum;
}

struct File {
  int fd = -1;
  size_t size = 0;
  uint64_t sum = 0;
  std::string error;
};

const File& Open() {
  static File f = [] {
    File f;
    const char* path = std::getenv("PREFLIGHT_IMAGE");
    if (path == nullptr || *path == '\0') {
      f.error = "set PREFLIGHT_IMAGE to a file (a compiled image) in the page cache";
      return f;
    }
    f.fd = ::open(path, O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (f.fd < 0 || ::fstat(f.fd, &st) != 0 || st.st_size <= 0) {
      f.error = std::string("cannot open ") + path;
      return f;
    }
    f.size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
    if (p == MAP_FAILED) {
      f.error = std::string("cannot map ") + path;
      return f;
    }
    f.sum = SumWords(static_cast<const unsigned char*>(p), f.size);  // also brings it into the cache
    ::munmap(p, f.size);
    return f;
  }();
  return f;
}

// One read as the open makes it: a fresh mapping, the file split into equal parts, one per thread
// (parts 64-byte aligned, so the words summed are the same whatever the split).
void BM_ReadFloor(benchmark::State& state) {
  const File& f = Open();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    void* mapped = ::mmap(nullptr, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
    if (mapped == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      return;
    }
    const auto* p = static_cast<const unsigned char*>(mapped);
    std::vector<uint64_t> sums(threads);
    std::vector<std::thread> workers;
    const size_t part = (f.size / threads) & ~size_t{63};
    for (int t = 0; t < threads; ++t) {
      size_t begin = t * part, end = t + 1 == threads ? f.size : begin + part;
      workers.emplace_back([&, t, begin, end] { sums[t] = ReadPart(p, begin, end); });
    }
    for (auto& w : workers) w.join();
    ::munmap(mapped, f.size);
    uint64_t sum = 0;
    for (uint64_t s : sums) sum += s;
    if (sum != f.sum) {
      state.SkipWithError("the sum differs from the reference read");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.size));
}
BENCHMARK(BM_ReadFloor)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
