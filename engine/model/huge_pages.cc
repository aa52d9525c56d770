#include "engine/model/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "engine/model/snapshot.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif

namespace preflight {

std::vector<HugePageRange> HugePageRanges(const Snapshot& snapshot) {
  std::vector<HugePageRange> out;
  snapshot.ForEachColumn([&](std::string_view, const auto& column) {
    if (column.bytes() < kHugePageBytes || column.viewing()) return;
    // The huge pages around the column: its neighbours are the process's own memory
    // (another allocation), which advice does not change either.
    const auto at = reinterpret_cast<uintptr_t>(column.data());
    out.push_back({at & ~(kHugePageBytes - 1), (at + column.bytes() + kHugePageBytes - 1) & ~(kHugePageBytes - 1)});
  });
  std::sort(out.begin(), out.end(), [](const HugePageRange& a, const HugePageRange& b) { return a.begin < b.begin; });
  size_t n = 0;
  for (const HugePageRange& r : out) {
    if (n > 0 && r.begin <= out[n - 1].end) out[n - 1].end = std::max(out[n - 1].end, r.end);
    else out[n++] = r;
  }
  out.resize(n);
  return out;
}

size_t UseHugePages(const std::vector<HugePageRange>& ranges, const std::weak_ptr<const void>& owner) {
  size_t asked = 0;
  for (const HugePageRange& r : ranges) {
    for (uintptr_t at = r.begin; at < r.end; at += kHugePageBytes) {
      // Not held while advising: the last owner may let go meanwhile and the memory be
      // freed or reused, which advice does not harm (it never changes contents), while a
      // snapshot destroyed on this thread could be at the process's exit.
      if (owner.expired()) return asked;
      void* page = reinterpret_cast<void*>(at);
      ::madvise(page, kHugePageBytes, MADV_HUGEPAGE);
      ::madvise(page, kHugePageBytes, MADV_COLLAPSE);
      asked += kHugePageBytes;
    }
  }
  return asked;
}

void UseHugePagesInBackground(const std::shared_ptr<const Snapshot>& snapshot) {
  if (const char* env = std::getenv("PREFLIGHT_HUGE_PAGES"); env && std::string_view(env) == "0") return;
  std::vector<HugePageRange> ranges = HugePageRanges(*snapshot);
  if (ranges.empty()) return;
  std::weak_ptr<const void> owner = snapshot;
  std::thread([ranges = std::move(ranges), owner = std::move(owner)] { UseHugePages(ranges, owner); }).detach();
}

}  // namespace preflight
