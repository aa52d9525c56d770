#pragma once
// Rows of `scan` and `impact` (engine/scan), as every face emits them: JSON lines, a
// SCIM ListResponse of PolicyViolation resources, or CSV; streamed chunk by chunk, so
// that a run over a million identities never holds its output. And the run's summary.
//
// A violation row: {"identity","change"?,"policyName","policyType","constraintName"?,
// "description"?,"leftBundles","rightBundles","entitlements":[{"application","attribute",
// "value"}]} (IdentityIQ's PolicyViolation fields; `change` is "new", "gained" or "lost"
// in impact runs). A detected-role row (impact): {"identity","change","role"}.

#include <span>
#include <string>
#include <string_view>

#include "engine/scan/scan.h"

namespace preflight {

enum class RowFormat { kJsonLines, kListResponse, kCsv };
// "jsonl" (or "ndjson"), "json" (the ListResponse) or "csv"; false for anything else.
bool ParseRowFormat(std::string_view name, RowFormat* format);

class ViolationRowWriter {
 public:
  explicit ViolationRowWriter(RowFormat format) : format_(format) {}
  // Text before the first row (the CSV header, the ListResponse's opening).
  std::string Begin();
  // Appends the rows' text to `out`.
  void Rows(std::span<const ScanRow> rows, std::string& out);
  // Text after the last row (the ListResponse's totals).
  std::string End();

 private:
  RowFormat format_;
  size_t count_ = 0;
};

// One row as a JSON object (the JSON-lines form, without the newline).
void AppendRowJson(const ScanRow& row, bool with_schema, std::string& out);

// {"identities","rows","ms","counts":[{"policyName","constraintName"?,"change"?,"rows"} |
// {"role","change","rows"}],"diagnostics":[...]}
std::string ScanSummaryJson(const ScanSummary& summary, int indent = 0);

}  // namespace preflight
