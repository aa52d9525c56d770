// The facade's population runs: Engine::Scan and Engine::Impact over engine/scan, the
// rows written by engine/wire/violation_rows.

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/preflight.h"
#include "engine/scan/scan.h"
#include "engine/wire/violation_rows.h"

namespace preflight {
namespace {

ScanOptions ToScanOptions(const ScanParams& p, const Limits& limits) {
  ScanOptions o;
  o.policies = p.policies;
  o.filter = p.filter;
  o.start = p.start;
  o.stop = p.stop;
  o.threads = p.threads;
  o.progress = p.progress;
  o.limits = limits;
  return o;
}

// Writes the rows in `format` through `sink` around `run`, which gets the row sink.
template <typename Run>
absl::StatusOr<std::string> Stream(std::string_view format, const TextSink& sink, const EngineInfo& info, Run run) {
  RowFormat f;
  if (!ParseRowFormat(format, &f))
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("unknown format '", ToAbsl(format), "': expected jsonl, json or csv"));
  ViolationRowWriter writer(f);
  // Nothing is written before the first row or the end: a run that fails early (a bad
  // filter) leaves the output empty for the error.
  std::string text;
  bool started = false;
  auto start = [&] {
    if (!started) text = writer.Begin();
    started = true;
  };
  ScanSink rows = [&](std::span<const ScanRow> chunk) {
    if (chunk.empty()) return true;
    text.clear();
    start();
    writer.Rows(chunk, text);
    return sink(text);
  };
  absl::StatusOr<ScanSummary> summary = run(rows);
  if (!summary.ok()) return summary.status();
  if (info.partial)  // as every check answer says it
    summary->diagnostics.push_back(
        {Severity::kWarning, ErrorCode::kInvalidValue,
         absl::StrCat("partial snapshot (--allow-partial): ", info.load_errors, " load errors, ", info.policies,
                      " policies, ", info.identities, " identities; these rows may miss violations"),
         {}, "Snapshot"});
  text.clear();
  start();
  text += writer.End();
  if (!text.empty() && !sink(text)) return absl::CancelledError("the output was closed");
  return ScanSummaryJson(*summary);
}

}  // namespace

absl::StatusOr<std::string> Engine::Scan(const ScanParams& params, const TextSink& sink) const {
  ScanOptions options = ToScanOptions(params, limits_);
  return FailClosed(*snapshot_, [&] {
    return Stream(params.format, sink, info_,
                  [&](const ScanSink& rows) { return preflight::Scan(*snapshot_, options, rows); });
  });
}

absl::StatusOr<std::string> Engine::Impact(const ImpactParams& params, const TextSink& sink) const {
  ScanOptions options = ToScanOptions(params, limits_);
  if (!params.plan.empty()) {
    if (!params.changes.empty() || !params.activate.empty())
      return MakeError(ErrorCode::kInvalidValue, "impact takes either a plan or changes, not both");
    std::optional<PlanFormat> format;
    if (params.plan_type.empty()) format = DetectPlanFormat(params.plan);
    else if (!(format = ParsePlanFormatName(params.plan_type))) {
      auto media = PlanFormatFromMediaType(params.plan_type);
      if (!media.ok()) return media.status();
      format = *media;
    }
    if (!format) return MakeError(ErrorCode::kInvalidValue, "cannot tell the plan's form (xml, json or map); give its type");
    auto plan = DecodePlan(params.plan, *format, limits_);
    if (!plan.ok()) return WithSubject(plan.status(), "plan");
    return FailClosed(*snapshot_, [&] {
      return Stream(params.format, sink, info_,
                    [&](const ScanSink& rows) { return ImpactPlan(*snapshot_, *plan, options, rows); });
    });
  }
  if (params.changes.empty() && params.activate.empty()) return ImpactTo(*this, params, sink);  // nothing changes
  auto after = WithChanges(params.changes, params.activate);
  if (!after.ok()) return after.status();
  return ImpactTo(**after, params, sink);
}

absl::StatusOr<std::shared_ptr<const Engine>> Engine::WithChanges(const std::vector<std::string>& changes,
                                                                  const std::vector<std::string>& activate) const {
  if (paths_.empty())
    return MakeError(ErrorCode::kInvalidValue, "impact of a change needs an engine loaded from the exports (paths), not from a compiled image");
  auto changed = LoadChangedSnapshot(paths_, changes, activate, limits_);
  if (!changed.ok()) return changed.status();
  auto engine = std::make_shared<Engine>(*std::move(changed), limits_, info_.partial);
  engine->paths_ = paths_;
  return std::shared_ptr<const Engine>(std::move(engine));
}

absl::StatusOr<std::string> Engine::ImpactTo(const Engine& after, const ScanParams& params,
                                             const TextSink& sink) const {
  ScanOptions options = ToScanOptions(params, limits_);
  if (absl::Status failed = after.Health(); !failed.ok()) return failed;
  return FailClosed(*snapshot_, [&] {
    return Stream(params.format, sink, info_,
                  [&](const ScanSink& rows) { return ImpactChange(*snapshot_, *after.snapshot_, options, rows); });
  });
}

absl::StatusOr<size_t> Engine::CountIdentities(std::string_view filter) const {
  ScanOptions options;
  options.filter = std::string(filter);
  options.limits = limits_;
  return FailClosed(*snapshot_, [&]() -> absl::StatusOr<size_t> {
    auto ids = SelectIdentities(*snapshot_, options);
    if (!ids.ok()) return ids.status();
    return ids->size();
  });
}

}  // namespace preflight
