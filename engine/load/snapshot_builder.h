#pragma once
// Loads snapshot sources (files, directories or text), then builds the immutable
// Snapshot in named, timed passes (engine/load/build_context.h): resolves names,
// interns strings, precomputes the role closure and the indexes. Broken objects become
// diagnostics and the rest stays usable, unless `strict` is set, in which case any
// error diagnostic fails the build.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/objects.h"
#include "engine/model/snapshot.h"
#include "engine/load/deferred_hash.h"
#include "engine/util/limits.h"
#include "engine/util/load_progress.h"

namespace preflight {

struct LoadOptions {
  bool strict = false;
  Limits limits;
  int threads = 0;  // files parsed at once; 0: one per core
  LoadProgressFn progress;  // none: quiet
};

class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(LoadOptions options = {}) : options_(std::move(options)) {}

  // A file (kind detected from content) or a directory (every .xml and .json file below
  // it, in sorted order). The files are parsed in parallel (LoadOptions::threads) and
  // added in order, so the objects, the diagnostics and the source hash are the same as
  // adding them one by one; the first file that cannot be read (or, when strict, does
  // not parse) stops the load, with the files before it added.
  absl::Status AddPaths(const std::vector<std::string>& paths);
  absl::Status AddPath(const std::string& path) { return AddPaths({path}); }
  absl::Status AddText(std::string_view text, std::string_view name);
  // Objects produced elsewhere (tests, generators).
  SnapshotObjects& objects() { return objects_; }

  absl::StatusOr<std::shared_ptr<const Snapshot>> Build();

 private:
  // Appends what one source gave (SnapshotObjects and the reader's status).
  absl::Status Merge(SnapshotObjects&& part, const absl::Status& status, std::string_view name, size_t bytes);
  void Report(std::string_view stage);
  double Seconds() const;
  LoadOptions options_;
  std::chrono::steady_clock::time_point start_{};
  size_t files_total_ = 0, files_added_ = 0, identities_added_ = 0;
  uint64_t bytes_total_ = 0, bytes_added_ = 0;
  SnapshotObjects objects_;
  LoadTimings timings_;
  DeferredHash hash_;  // of every source text, in the order added
};

// Convenience: load every path and build.
absl::StatusOr<std::shared_ptr<const Snapshot>> LoadSnapshot(const std::vector<std::string>& paths,
                                                             const LoadOptions& options = {});

}  // namespace preflight
