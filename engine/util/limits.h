#pragma once
// Budgets on every untrusted input, with safe defaults. Exceeding one is a
// `tooMany` error (ErrorCode::kTooMany) that names the budget.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace preflight {

// The largest depth budgets the parsers are proven to handle on a 256 KiB thread stack
// (tests/parser_depth_test.cc runs the deepest input each allows on such a thread);
// SetLimit refuses more, and the parsers never go deeper whatever a Limits holds.
inline constexpr int kMaxNestingDepthCap = 128;
inline constexpr int kMaxFilterDepthCap = 64;

struct Limits {
  size_t max_input_bytes = 64u << 20;    // one request body, plan or filter document
  int max_nesting_depth = 64;            // XML elements / JSON containers / map-form braces
  size_t max_filter_length = 8192;       // SCIM filter text, bytes
  int max_filter_depth = 32;             // parentheses / not / valuePath nesting
  size_t max_batch_requests = 100000;    // requests in one batch check
  size_t max_plan_values = 100000;       // attribute values across one plan
  size_t max_plan_requests = 10000;      // account + attribute + permission requests in one plan
  // The query documents a snapshot keeps of one resource type; past it, each query makes
  // the documents it reads again (bounded memory, slower queries). Not an error.
  size_t max_query_cache_bytes = size_t{1} << 30;
};

// The defaults, used when a caller passes none.
inline const Limits& DefaultLimits() {
  static const Limits limits;
  return limits;
}

// The budgets by name ("max_nesting_depth"), for the command line (`--limit NAME=N`)
// and the Python module (`limits={"max_nesting_depth": 16}`).
std::vector<std::string_view> LimitNames();
// Sets one budget. kInvalidValue for an unknown name (the message lists the known ones)
// or a value below 1 or above what the budget's type holds.
absl::Status SetLimit(Limits& limits, std::string_view name, int64_t value);
// "NAME=N", as `--limit` takes it.
absl::Status SetLimit(Limits& limits, std::string_view assignment);

}  // namespace preflight
