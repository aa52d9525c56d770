#pragma once
// The image leg of the tests: a snapshot written as a compiled image (engine/image) and
// opened again, so that every comparison can run against both paths.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/image/image.h"

namespace preflight::testing {

// A path for a temporary image, unique in this process.
inline std::string TempImagePath() {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          absl::StrCat("preflight-test-", ::getpid(), "-", counter++, ".pfimg"))
      .string();
}

// The snapshot through an image; the file is removed at once (the mapping stays valid).
inline absl::StatusOr<std::shared_ptr<const Snapshot>> ThroughImage(const Snapshot& snapshot) {
  const std::string path = TempImagePath();
  auto written = WriteImage(snapshot, path);
  if (!written.ok()) return written.status();
  auto opened = OpenImage(path);
  std::filesystem::remove(path);
  return opened;
}

}  // namespace preflight::testing
