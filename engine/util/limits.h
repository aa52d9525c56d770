#pragma once
// Budgets on every untrusted input, with safe defaults. Exceeding one is a
// `tooMany` error (ErrorCode::kTooMany) that names the budget.

#include <cstddef>

namespace preflight {

struct Limits {
  size_t max_input_bytes = 64u << 20;    // one request body, plan or filter document
  int max_nesting_depth = 64;            // XML elements / JSON containers / map-form braces
  size_t max_filter_length = 8192;       // SCIM filter text, bytes
  int max_filter_depth = 32;             // parentheses / not / valuePath nesting
  size_t max_batch_requests = 100000;    // requests in one batch check
  size_t max_plan_values = 100000;       // attribute values across one plan
  size_t max_plan_requests = 10000;      // account + attribute + permission requests in one plan
};

// The defaults, used when a caller passes none.
inline const Limits& DefaultLimits() {
  static const Limits limits;
  return limits;
}

}  // namespace preflight
