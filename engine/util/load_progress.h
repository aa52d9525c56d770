#pragma once
// How far a snapshot load is, for a progress display: the load reports it
// (LoadOptions::progress, EngineOptions::progress) and the caller decides whether and
// how to show it; the library itself never prints.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace preflight {

struct LoadProgress {
  std::string_view stage;  // "read" while the files are read, then each pass's name as it starts
  size_t files = 0, files_total = 0;  // files read and added, of all the paths hold
  uint64_t bytes = 0, bytes_total = 0;
  size_t identities = 0;  // read so far
  double seconds = 0;     // since the load began
};

// Called on the loading thread after each file and before each pass.
using LoadProgressFn = std::function<void(const LoadProgress&)>;

}  // namespace preflight
