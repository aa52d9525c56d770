// check, plan convert, plan compile, snapshot stats, snapshot compile: arguments to facade calls.

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"

namespace preflight::cli {
namespace {

std::string OperandOrStdin(const Args& args) { return args.operands.empty() ? "-" : args.operands[0]; }

}  // namespace

absl::StatusOr<std::string> RunCheck(const Args& args) {
  RequestOptions options;
  options.indent = Indent(args);
  options.explain = args.Has("explain");
  if (args.Has("identity")) {
    if (args.Has("request")) return UsageError(args, "give --request or --identity with --plan, not both");
    auto plan_file = args.Get("plan");
    if (!plan_file) return UsageError(args, "--identity needs --plan FILE");
    auto text = ReadInput(*plan_file);
    if (!text.ok()) return text.status();
    CheckFields fields;
    fields.identity = *args.Get("identity");
    fields.plan = *std::move(text);
    fields.plan_type = args.Get("plan-type").value_or("");
    if (args.Has("policy")) fields.policies = args.All("policy");
    auto engine = LoadEngine(args, {});
    if (!engine.ok()) return engine.status();
    return (*engine)->CheckFieldsJson(fields, options);
  }
  if (args.Has("plan") || args.Has("plan-type") || args.Has("policy"))
    return UsageError(args, "--plan, --plan-type and --policy go with --identity");
  auto body = ReadInput(args.Get("request").value_or("-"));
  if (!body.ok()) return body.status();
  auto engine = LoadEngine(args, {});
  if (!engine.ok()) return engine.status();
  return (*engine)->CheckJson(*body, options);
}

absl::StatusOr<std::string> RunPlanConvert(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto to = args.Get("to");
  if (!to || (*to != "xml" && *to != "json")) return UsageError(args, "plan convert needs --to xml|json");
  std::string file = OperandOrStdin(args);
  auto text = ReadInput(file);
  if (!text.ok()) return text.status();
  auto converted = ConvertPlan(*text, *to, args.Get("from").value_or(""), Indent(args), *limits);
  if (!converted.ok()) return WithFile(converted.status(), file);
  return converted;
}

absl::StatusOr<std::string> RunPlanCompile(const Args& args) {
  auto identity = args.Get("identity");
  if (!identity) return UsageError(args, "plan compile needs --identity NAME");
  std::string file = OperandOrStdin(args);
  auto text = ReadInput(file);
  if (!text.ok()) return text.status();
  auto engine = LoadEngine(args, {});
  if (!engine.ok()) return engine.status();
  auto report = (*engine)->CompileJson(*identity, *text, args.Get("plan-type").value_or(""), Indent(args));
  if (!report.ok()) return WithFile(report.status(), file);
  return report;
}

absl::StatusOr<std::string> RunSnapshotStats(const Args& args) {
  auto engine = LoadEngine(args, args.operands);
  if (!engine.ok()) return engine.status();
  return (*engine)->StatsJson(Indent(args));
}

// Loads the sources (fail-closed, like every command), writes the image and prints what
// it holds (JSON); one summary line on stderr.
absl::StatusOr<std::string> RunSnapshotCompile(const Args& args) {
  auto output = args.Get("output");
  if (!output) return UsageError(args, "-o FILE (the image to write) is required");
  auto engine = LoadEngine(args, args.operands);
  if (!engine.ok()) return engine.status();
  auto summary = (*engine)->WriteImage(*output, Indent(args));
  if (!summary.ok()) return summary.status();
  const EngineInfo& info = (*engine)->info();
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(*output, ec);
  std::fprintf(stderr, "preflight: compiled %zu identities and %zu policies (source hash %s) into %s, %ju bytes\n",
               info.identities, info.policies, info.source_hash.c_str(), output->c_str(), ec ? uintmax_t{0} : bytes);
  return summary;
}

}  // namespace preflight::cli
