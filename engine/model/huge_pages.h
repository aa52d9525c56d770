#pragma once
// The snapshot's columns on huge pages. A check reads a few dozen records scattered over
// the columns (identities, accounts, attributes, values, the pool's slots and text),
// most of them cache misses that follow one another; on 4 KiB pages each is also a TLB
// miss whose page walk lengthens every hop of the chain (here, a dependent load over 128
// MiB takes ~240 ns on 4 KiB pages and ~165 ns on 2 MiB ones). Once a snapshot is
// built, its columns of 2 MiB or more are moved onto huge pages, on a thread of their
// own so that the load does not wait (moving 100 MiB takes a few hundred ms).
//
// Advice only: the contents never change, and where the kernel cannot (no huge page
// free, a kernel before 6.1, transparent huge pages off) nothing happens.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace preflight {

class Snapshot;

// [begin, end) of memory, 2 MiB aligned.
struct HugePageRange {
  uintptr_t begin = 0, end = 0;
};

inline constexpr uintptr_t kHugePageBytes = uintptr_t{2} << 20;

// The 2 MiB pages holding each of the snapshot's columns of at least 2 MiB, sorted,
// overlapping ones merged. Empty for a snapshot whose columns view an image (the
// image's mapping is the kernel's page cache, not the process's memory).
std::vector<HugePageRange> HugePageRanges(const Snapshot& snapshot);

// Asks the kernel to back `ranges` with huge pages now (MADV_COLLAPSE) and after
// (MADV_HUGEPAGE), a huge page at a time until `owner` (which owns the memory) is gone.
// Returns the bytes asked for.
size_t UseHugePages(const std::vector<HugePageRange>& ranges, const std::weak_ptr<const void>& owner);

// The same for the snapshot's columns on a thread of its own, started here: it stops
// when the snapshot is gone. Off with PREFLIGHT_HUGE_PAGES=0 in the environment.
void UseHugePagesInBackground(const std::shared_ptr<const Snapshot>& snapshot);

}  // namespace preflight
