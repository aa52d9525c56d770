// filter parse, filter eval, query.

#include "bindings/cli/commands.h"
#include "engine/util/error.h"

namespace preflight::cli {

absl::StatusOr<std::string> RunFilterParse(const Args&) { return MakeError(ErrorCode::kInternal, "not built yet"); }
absl::StatusOr<std::string> RunFilterEval(const Args&) { return MakeError(ErrorCode::kInternal, "not built yet"); }
absl::StatusOr<std::string> RunQuery(const Args&) { return MakeError(ErrorCode::kInternal, "not built yet"); }

}  // namespace preflight::cli
