// filter parse, filter eval, query.

#include <charconv>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "engine/load/snapshot_builder.h"
#include "engine/query/filter_cli.h"
#include "engine/query/snapshot_query.h"
#include "engine/util/error.h"
#include "engine/util/file.h"
#include "engine/util/json_writer.h"

namespace preflight::cli {
namespace {

absl::StatusOr<int64_t> IntOption(const Args& args, const std::string& name) {
  std::string text = *args.Get(name);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size())
    return MakeError(ErrorCode::kInvalidValue, absl::StrCat("--", name, " must be an integer, not '", text, "'"));
  return v;
}

}  // namespace

absl::StatusOr<std::string> RunFilterParse(const Args& args) {
  if (args.positional.size() != 3) return Usage("filter parse takes one FILTER argument");
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto sexpr = FilterToSexpr(args.positional[2], *limits);
  if (!sexpr.ok()) return sexpr.status();
  // The S-expression itself, as DESIGN.md's contract shows it (`(pr title)`); the one
  // subcommand whose output is not JSON.
  return *sexpr;
}

absl::StatusOr<std::string> RunFilterEval(const Args& args) {
  if (args.positional.size() < 3 || args.positional.size() > 4) return Usage("filter eval takes FILTER and FILE|-");
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto json = ReadFileToString(args.positional.size() == 4 ? args.positional[3] : "-");
  if (!json.ok()) return json.status();
  auto match = EvalFilterOnJson(args.positional[2], *json, *limits);
  if (!match.ok()) return match.status();
  return std::string(*match ? "true" : "false");
}

absl::StatusOr<std::string> RunQuery(const Args& args) {
  if (args.positional.size() != 2)
    return Usage("query takes one resource type: Users, Accounts, Entitlements, Roles or Applications");
  auto paths = args.All("snapshot");
  if (paths.empty()) return Usage("--snapshot PATH is required");
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  QueryOptions options;
  options.parse = FilterParseOptions::From(*limits);
  if (auto f = args.Get("filter")) options.filter = *f;
  if (auto a = args.Get("attributes")) options.attributes = SplitAttributeList(*a);
  if (auto a = args.Get("excluded-attributes")) options.excluded_attributes = SplitAttributeList(*a);
  if (auto s = args.Get("sort-by")) options.sort_by = *s;
  if (auto o = args.Get("sort-order")) {
    if (*o != "ascending" && *o != "descending")
      return MakeError(ErrorCode::kInvalidValue, absl::StrCat("--sort-order must be ascending or descending, not '", *o, "'"));
    options.descending = *o == "descending";
  }
  if (args.Get("start-index")) {
    auto v = IntOption(args, "start-index");
    if (!v.ok()) return v.status();
    options.start_index = *v;
  }
  if (args.Get("count")) {
    auto v = IntOption(args, "count");
    if (!v.ok()) return v.status();
    options.count = *v;
  }
  LoadOptions load;
  load.strict = args.Get("strict").has_value();
  load.limits = *limits;
  auto snapshot = LoadSnapshot(paths, load);
  if (!snapshot.ok()) return snapshot.status();
  return QuerySnapshot(**snapshot, args.positional[1], options);
}

}  // namespace preflight::cli
