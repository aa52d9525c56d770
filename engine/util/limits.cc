#include "engine/util/limits.h"

#include <charconv>
#include <limits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/util/error.h"

namespace preflight {
namespace {

// One row per budget: the name users type and the field it sets.
struct LimitField {
  std::string_view name;
  std::variant<size_t Limits::*, int Limits::*> field;
};

constexpr LimitField kFields[] = {
    {"max_input_bytes", &Limits::max_input_bytes},
    {"max_nesting_depth", &Limits::max_nesting_depth},
    {"max_filter_length", &Limits::max_filter_length},
    {"max_filter_depth", &Limits::max_filter_depth},
    {"max_batch_requests", &Limits::max_batch_requests},
    {"max_plan_values", &Limits::max_plan_values},
    {"max_plan_requests", &Limits::max_plan_requests},
    {"max_query_cache_bytes", &Limits::max_query_cache_bytes},
};

}  // namespace

std::vector<std::string_view> LimitNames() {
  std::vector<std::string_view> names;
  for (const LimitField& f : kFields) names.push_back(f.name);
  return names;
}

absl::Status SetLimit(Limits& limits, std::string_view name, int64_t value) {
  for (const LimitField& f : kFields) {
    if (f.name != name) continue;
    // int budgets (depths) stop at INT_MAX; the size_t ones at what int64 holds.
    int64_t max = std::holds_alternative<int Limits::*>(f.field) ? std::numeric_limits<int>::max()
                                                                 : std::numeric_limits<int64_t>::max();
    if (name == "max_nesting_depth") max = kMaxNestingDepthCap;  // recursion: see limits.h
    if (name == "max_filter_depth") max = kMaxFilterDepthCap;
    if (value < 1 || value > max)
      return MakeError(ErrorCode::kInvalidValue, absl::StrCat("limit ", ToAbsl(name), " must be between 1 and ", max,
                                                              ", not ", value));
    if (auto* p = std::get_if<int Limits::*>(&f.field)) {
      limits.*(*p) = static_cast<int>(value);
    } else {
      limits.*std::get<size_t Limits::*>(f.field) = static_cast<size_t>(value);
    }
    return absl::OkStatus();
  }
  std::vector<absl::string_view> known;
  for (const LimitField& f : kFields) known.push_back(ToAbsl(f.name));
  return MakeError(ErrorCode::kInvalidValue,
                   absl::StrCat("unknown limit '", ToAbsl(name), "': expected one of ", absl::StrJoin(known, ", ")));
}

absl::Status SetLimit(Limits& limits, std::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos)
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("a limit is NAME=N (for example max_nesting_depth=16), not '", ToAbsl(assignment), "'"));
  std::string_view name = assignment.substr(0, eq), digits = assignment.substr(eq + 1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty())
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("limit ", ToAbsl(name), " needs a whole number, not '", ToAbsl(digits), "'"));
  return SetLimit(limits, name, value);
}

}  // namespace preflight
