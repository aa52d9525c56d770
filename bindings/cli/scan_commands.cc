// scan, impact: population runs through the facade. Rows stream to stdout as they come;
// the summary goes to stderr (or, with --summary, alone to stdout); progress goes to
// stderr only when it is a terminal.

#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"

namespace preflight::cli {
namespace {

absl::Status FillScanParams(const Args& args, ScanParams& p) {
  p.filter = args.Get("filter").value_or("");
  if (args.Has("policy")) p.policies = args.All("policy");
  p.format = args.Get("format").value_or("jsonl");
  if (auto t = args.Get("threads")) {
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), p.threads);
    if (ec != std::errc() || ptr != t->data() + t->size() || p.threads < 0)
      return UsageError(args, absl::StrCat("--threads must be a non-negative integer, not '", *t, "'"));
  }
  if (isatty(STDERR_FILENO)) {
    p.progress = [](size_t done, size_t total) {
      std::fprintf(stderr, "\rpreflight: %zu / %zu identities", done, total);
      if (done == total) std::fputc('\n', stderr);
    };
  }
  return absl::OkStatus();
}

TextSink Stdout(bool quiet) {
  return [quiet](std::string_view text) {
    if (quiet) return true;
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  };
}

// The summary on stderr after the rows, or alone on stdout with --summary.
absl::StatusOr<std::string> Summary(const Args& args, absl::StatusOr<std::string> summary) {
  if (!summary.ok()) return summary;
  if (args.Has("summary")) return summary;
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", summary->c_str());
  return std::string();  // the rows are out already
}

}  // namespace

absl::StatusOr<std::string> RunScan(const Args& args) {
  ScanParams params;
  if (auto st = FillScanParams(args, params); !st.ok()) return st;
  auto engine = LoadEngine(args, {});
  if (!engine.ok()) return engine.status();
  return Summary(args, (*engine)->Scan(params, Stdout(args.Has("summary"))));
}

absl::StatusOr<std::string> RunImpact(const Args& args) {
  ImpactParams params;
  if (auto st = FillScanParams(args, params); !st.ok()) return st;
  params.changes = args.All("change");
  for (const std::string& extra : args.operands) {
    if (params.changes.empty()) return UsageError(args, absl::StrCat("unexpected argument '", extra, "'"));
    params.changes.push_back(extra);  // --change A B C
  }
  params.activate = args.All("activate");
  if (auto plan = args.Get("plan")) {
    auto text = ReadInput(*plan);
    if (!text.ok()) return text.status();
    params.plan = *std::move(text);
    if (params.plan.empty()) return UsageError(args, "--plan: the plan is empty");
    params.plan_type = args.Get("plan-type").value_or("");
  }
  auto engine = LoadEngine(args, {});
  if (!engine.ok()) return engine.status();
  return Summary(args, (*engine)->Impact(params, Stdout(args.Has("summary"))));
}

}  // namespace preflight::cli
