#include "engine/util/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return text;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot open file: ", std::strerror(errno)), Location{path});
  }
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return MakeError(ErrorCode::kNotFound, "cannot read file", Location{path});
  return text;
}

}  // namespace preflight
