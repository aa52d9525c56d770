// check, plan convert, plan compile, snapshot stats.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "engine/plan/compile_report.h"
#include "engine/preflight.h"
#include "engine/util/file.h"
#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"

namespace preflight::cli {
namespace {

int Indent(const Args& args) { return args.Get("pretty") ? 2 : 0; }

absl::StatusOr<std::shared_ptr<const Snapshot>> LoadFrom(const std::vector<std::string>& paths, const Args& args,
                                                         const Limits& limits) {
  if (paths.empty()) return Usage("--snapshot PATH is required");
  LoadOptions options;
  options.strict = args.Get("strict").has_value();
  options.limits = limits;
  return LoadSnapshot(paths, options);
}

absl::StatusOr<PlanFormat> FormatOption(const Args& args, const std::string& name, std::string_view text) {
  if (auto f = args.Get(name)) {
    auto parsed = ParsePlanFormatName(*f);
    if (!parsed) return Usage(absl::StrCat("unknown plan type '", *f, "': expected xml, json or map"));
    return *parsed;
  }
  auto detected = DetectPlanFormat(text);
  if (!detected) return MakeError(ErrorCode::kInvalidValue, "cannot tell the plan's form; give --plan-type");
  return *detected;
}

std::string_view MediaType(PlanFormat f) {
  return f == PlanFormat::kXml ? "application/xml" : "application/sailpoint.object.ProvisioningPlan+json";
}

}  // namespace

absl::StatusOr<std::string> RunCheck(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  CheckRequest request;
  if (auto identity = args.Get("identity")) {
    auto plan_file = args.Get("plan");
    if (!plan_file) return Usage("--identity needs --plan FILE");
    auto text = ReadFileToString(*plan_file);
    if (!text.ok()) return text.status();
    auto format = FormatOption(args, "plan-type", *text);
    if (!format.ok()) return format.status();
    request.identity = *identity;
    request.plan_value = *std::move(text);
    request.plan_type = std::string(MediaType(*format));
    auto policies = args.All("policy");
    if (!policies.empty()) request.policies = policies;
    if (*format == PlanFormat::kMap) {
      // The map form travels under the +json media type, as in IdentityIQ.
      request.plan_type = "application/sailpoint.object.ProvisioningPlan+json";
    }
  } else {
    auto text = ReadFileToString(args.Get("request").value_or("-"));
    if (!text.ok()) return text.status();
    auto parsed = ParseCheckRequest(*text, *limits);
    if (!parsed.ok()) return parsed.status();
    request = *std::move(parsed);
  }
  request.explain = args.Get("explain").has_value();
  auto snapshot = LoadFrom(args.All("snapshot"), args, *limits);
  if (!snapshot.ok()) return snapshot.status();
  CheckOptions options;
  options.indent = Indent(args);
  auto result = Check(**snapshot, request, options, *limits);
  if (!result.ok()) return result.status();
  return CheckResponseJson(request, *result, options);
}

absl::StatusOr<std::string> RunPlanConvert(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto to = args.Get("to");
  if (!to || (*to != "xml" && *to != "json")) return Usage("plan convert needs --to xml|json");
  std::string file = args.positional.size() > 2 ? args.positional[2] : "-";
  auto text = ReadFileToString(file);
  if (!text.ok()) return text.status();
  auto format = FormatOption(args, "from", *text);
  if (!format.ok()) return format.status();
  auto plan = DecodePlan(*text, *format, *limits);
  if (!plan.ok()) return WithFile(plan.status(), file);
  if (*to == "xml") {
    std::string xml = EncodePlanXml(*plan);
    while (!xml.empty() && xml.back() == '\n') xml.pop_back();
    return xml;
  }
  return EncodePlanJson(*plan, Indent(args));
}

absl::StatusOr<std::string> RunPlanCompile(const Args& args) {
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto identity = args.Get("identity");
  if (!identity) return Usage("plan compile needs --identity NAME");
  std::string file = args.positional.size() > 2 ? args.positional[2] : "-";
  auto text = ReadFileToString(file);
  if (!text.ok()) return text.status();
  auto format = FormatOption(args, "plan-type", *text);
  if (!format.ok()) return format.status();
  auto plan = DecodePlan(*text, *format, *limits);
  if (!plan.ok()) return WithFile(plan.status(), file);
  auto snapshot = LoadFrom(args.All("snapshot"), args, *limits);
  if (!snapshot.ok()) return snapshot.status();
  return CompileReportJson(**snapshot, *identity, *plan, Indent(args));
}

absl::StatusOr<std::string> RunSnapshotStats(const Args& args) {
  std::vector<std::string> paths(args.positional.begin() + std::min<size_t>(2, args.positional.size()),
                                 args.positional.end());
  for (const auto& p : args.All("snapshot")) paths.push_back(p);
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  auto snapshot = LoadFrom(paths, args, *limits);
  if (!snapshot.ok()) return snapshot.status();
  const Snapshot& s = **snapshot;
  Snapshot::Stats st = s.stats();
  const LoadTimings& t = s.timings();
  JsonWriter w(Indent(args));
  w.BeginObject();
  w.Key("counts").BeginObject();
  w.Key("identities").Int(st.identities).Key("accounts").Int(st.accounts).Key("roles").Int(st.roles);
  w.Key("policies").Int(st.policies).Key("constraints").Int(st.constraints);
  w.Key("applications").Int(st.applications).Key("entitlements").Int(st.entitlements);
  w.Key("roleAssignments").Int(st.role_assignments).Key("entitlementValues").Int(st.entitlement_values);
  w.Key("strings").Int(st.strings);
  // Identities whose stored detected roles match a fresh detection (checks on them
  // re-detect only what the plan touches), and whose assigned roles are fully provisioned.
  w.Key("consistentDetection").Int(st.consistent_detection).Key("provisionedAssignments").Int(st.expansion_noop);
  w.EndObject();
  w.Key("memory").BeginObject().Key("approxBytes").Int(st.approx_bytes).EndObject();
  w.Key("load").BeginObject().Key("files").Int(t.files).Key("bytes").Int(t.bytes);
  w.Key("readMs").Double(t.read_ms).Key("parseMs").Double(t.parse_ms).Key("buildMs").Double(t.build_ms).EndObject();
  WriteDiagnostics(w, "diagnostics", s.diagnostics());
  w.EndObject();
  return w.Take();
}

}  // namespace preflight::cli
