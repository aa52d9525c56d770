#include "engine/util/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::string text;
  if (absl::Status s = ReadFileInto(path, text); !s.ok()) return s;
  return text;
}

absl::Status ReadFileInto(const std::string& path, std::string& text, size_t padding) {
  if (path == "-") {
    text.clear();
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    text.reserve(text.size() + padding);
    return absl::OkStatus();
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot open file: ", std::strerror(errno)), Location{path});
  }
  // Read straight into a string of the file's size (large exports: no regrowing and
  // copying), then whatever more there is (a file that grew, a pipe). The string is
  // resized, not cleared first, so a reused buffer is not zero-filled before the read
  // overwrites it (only bytes past its old size are).
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    text.reserve(static_cast<size_t>(st.st_size) + padding);
    text.resize(static_cast<size_t>(st.st_size));
    text.resize(std::fread(text.data(), 1, text.size(), f));
  } else {
    text.clear();
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return MakeError(ErrorCode::kNotFound, "cannot read file", Location{path});
  text.reserve(text.size() + padding);
  return absl::OkStatus();
}

}  // namespace preflight
