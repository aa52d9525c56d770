#pragma once
// The loaded model's large columns on 2 MiB pages. A check reads a few dozen records
// scattered over some hundred megabytes (the identity, its accounts and attributes, the
// pool's strings): on 4 KiB pages nearly every one of those reads also misses the TLB
// and walks the page tables, a second trip to memory. Best effort: where the kernel
// cannot (no MADV_COLLAPSE before Linux 6.1, huge pages disabled, no free memory), the
// columns stay as they are and every answer is the same.

#include <cstddef>

#include "engine/model/snapshot.h"

namespace preflight {

// Asks the kernel to move each column of at least 2 MiB of the population and the string
// pool onto huge pages (madvise MADV_COLLAPSE, synchronous; the whole 2 MiB pages inside
// each column). Returns the bytes moved. Columns a snapshot views in a mapped image are
// left alone (the page cache holds them).
size_t CollapseColumnsToHugePages(const Snapshot& snapshot);

}  // namespace preflight
