#pragma once
#include <string>

#include "absl/status/statusor.h"

namespace preflight {
// Reads a whole file ("-" is standard input). A missing file is kNotFound.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
}  // namespace preflight
