// filter parse, filter eval, query: arguments to facade calls.

#include <charconv>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"

namespace preflight::cli {
namespace {

absl::StatusOr<std::optional<int64_t>> IntOption(const Args& args, std::string_view name) {
  auto text = args.Get(name);
  if (!text) return std::optional<int64_t>();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || ptr != text->data() + text->size())
    return UsageError(args, absl::StrCat("--", ToAbsl(name), " must be an integer, not '", *text, "'"));
  return std::optional<int64_t>(v);
}

}  // namespace

absl::StatusOr<std::string> RunFilterParse(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  // The S-expression itself, as DESIGN.md's contract shows it (`(pr title)`): the one
  // subcommand whose output is not JSON.
  return FilterSexpr(args.operands[0], *limits);
}

absl::StatusOr<std::string> RunFilterEval(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto json = ReadInput(args.operands.size() == 2 ? args.operands[1] : "-");
  if (!json.ok()) return json.status();
  auto match = EvalFilter(args.operands[0], *json, *limits);
  if (!match.ok()) return match.status();
  return std::string(*match ? "true" : "false");
}

absl::StatusOr<std::string> RunQuery(const Args& args) {
  QueryParams params;
  params.resource_type = args.operands[0];
  params.filter = args.Get("filter").value_or("");
  if (auto a = args.Get("attributes")) params.attributes = SplitAttributeList(*a);
  if (auto a = args.Get("excluded-attributes")) params.excluded_attributes = SplitAttributeList(*a);
  params.sort_by = args.Get("sort-by").value_or("");
  params.sort_order = args.Get("sort-order").value_or("");
  auto start = IntOption(args, "start-index");
  if (!start.ok()) return start.status();
  params.start_index = *start;
  auto count = IntOption(args, "count");
  if (!count.ok()) return count.status();
  params.count = *count;
  auto engine = LoadEngine(args, {});
  if (!engine.ok()) return engine.status();
  return (*engine)->QueryJson(params);
}

}  // namespace preflight::cli
