#pragma once
#include <string>

#include "absl/status/statusor.h"

namespace preflight {
// Reads a whole file ("-" is standard input). A missing file is kNotFound.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
// The same into `text`, reusing its buffer, with room for `padding` more bytes after the
// end (a parser that reads past the text then reads it in place).
absl::Status ReadFileInto(const std::string& path, std::string& text, size_t padding = 0);
}  // namespace preflight
