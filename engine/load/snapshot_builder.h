#pragma once
// Loads snapshot sources (files, directories or text), then builds the immutable
// Snapshot in named, timed passes (engine/load/build_context.h): resolves names,
// interns strings, precomputes the role closure and the indexes. Broken objects become
// diagnostics and the rest stays usable, unless `strict` is set, in which case any
// error diagnostic fails the build.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/objects.h"
#include "engine/model/snapshot.h"
#include "engine/load/source_hash.h"
#include "engine/util/limits.h"

namespace preflight {

struct LoadOptions {
  bool strict = false;
  Limits limits;
};

class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(LoadOptions options = {}) : options_(std::move(options)) {}

  // A file (kind detected from content) or a directory (every regular file below it,
  // in sorted order; files that are neither XML nor JSON are skipped with a warning).
  absl::Status AddPath(const std::string& path);
  absl::Status AddText(std::string_view text, std::string_view name);
  // Objects produced elsewhere (tests, generators).
  SnapshotObjects& objects() { return objects_; }

  absl::StatusOr<std::shared_ptr<const Snapshot>> Build();

 private:
  absl::Status AddFile(const std::string& path);
  LoadOptions options_;
  SnapshotObjects objects_;
  LoadTimings timings_;
  SourceHash hash_;  // of every source text, in the order added
  std::vector<bool> trusted_documents_;  // see BuildContext::trusted_documents
};

// Convenience: load every path and build.
absl::StatusOr<std::shared_ptr<const Snapshot>> LoadSnapshot(const std::vector<std::string>& paths,
                                                             const LoadOptions& options = {});

}  // namespace preflight
