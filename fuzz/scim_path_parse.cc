// libFuzzer target: SCIM PATCH path parse -> print -> parse must give an equal AST; rejected
// input must carry invalidPath or tooMany. Size cap: 4 KiB.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/util/error.h"
#include "grammar/scim_filter.h"

using namespace preflight;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<PathAst> path = ParseScimPath(text);
  if (!path.ok()) {
    ErrorCode code = ErrorCodeOf(path.status());
    if (code != ErrorCode::kInvalidPath && code != ErrorCode::kTooMany) std::abort();
    return 0;
  }
  const std::string sexpr = ToSexpr(*path);
  const std::string printed = ToPathText(*path);
  absl::StatusOr<PathAst> again = ParseScimPath(printed);
  if (!again.ok() || ToSexpr(*again) != sexpr) {
    std::fprintf(stderr, "round trip failed\n  input:   %.*s\n  printed: %s\n", static_cast<int>(size),
                 text.data(), printed.c_str());
    std::abort();
  }
  return 0;
}
