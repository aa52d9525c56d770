#include "engine/load/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <string_view>

namespace preflight {
namespace {
#if defined(__linux__) && !defined(MADV_COLLAPSE)
constexpr int MADV_COLLAPSE = 25;  // Linux 6.1 (glibc 2.36's headers do not name it); older kernels refuse it
#endif
}  // namespace

size_t CollapseColumnsToHugePages(const Snapshot& s) {
#ifdef __linux__
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  size_t moved = 0;
  auto collapse = [&](std::string_view name, const auto& column) {
    // Not the SCIM resources' texts (queries read them in order, checks never): at 100,000
    // SCIM identities, 1.2 GB copied onto huge pages took 3 s of a 6 s load.
    if (column.viewing() || name.starts_with("resources.")) return;
    uintptr_t begin = reinterpret_cast<uintptr_t>(column.data());
    uintptr_t end = (begin + column.bytes()) & ~(kHuge - 1);
    begin = (begin + kHuge - 1) & ~(kHuge - 1);
    if (end <= begin) return;
    if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_COLLAPSE) == 0) moved += end - begin;
  };
  s.population().ForEachColumn(collapse);
  s.pool().ForEachColumn(collapse);
  return moved;
#else
  (void)s;
  return 0;
#endif
}

}  // namespace preflight
