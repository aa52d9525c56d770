#include "engine/wire/violation_rows.h"

#include "absl/strings/str_format.h"
#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"

namespace preflight {
namespace {

constexpr std::string_view kViolationSchema = "urn:ietf:params:scim:schemas:sailpoint:1.0:PolicyViolation";
constexpr std::string_view kListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
constexpr std::string_view kCsvHeader =
    "identity,change,kind,policyName,constraintName,policyType,leftBundles,rightBundles,entitlements,role\r\n";

void CsvField(std::string_view s, std::string& out) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ';';
    out += items[i];
  }
  return out;
}

void AppendRowCsv(const ScanRow& row, std::string& out) {
  const ViolationReport& v = row.violation;
  bool violation = row.kind == ScanRow::Kind::kViolation;
  CsvField(row.identity_name, out);
  out += ',';
  CsvField(row.change, out);
  out += violation ? ",violation," : ",role,";
  if (violation) {
    std::string entitlements;
    for (size_t i = 0; i < v.entitlements.size(); ++i) {
      if (i) entitlements += ';';
      if (v.entitlements[i].application) entitlements += *v.entitlements[i].application + ":";
      entitlements += v.entitlements[i].attribute + "=" + v.entitlements[i].value;
    }
    CsvField(v.policy_name, out);
    out += ',';
    if (v.has_constraint_name) CsvField(v.constraint_name, out);
    out += ',';
    CsvField(v.policy_type, out);
    out += ',';
    CsvField(Joined(v.left_bundles), out);
    out += ',';
    CsvField(Joined(v.right_bundles), out);
    out += ',';
    CsvField(entitlements, out);
    out += ',';
  } else {
    out += ",,,,,,";
    CsvField(row.role, out);
  }
  out += "\r\n";
}

}  // namespace

bool ParseRowFormat(std::string_view name, RowFormat* format) {
  if (name == "jsonl" || name == "ndjson") *format = RowFormat::kJsonLines;
  else if (name == "json") *format = RowFormat::kListResponse;
  else if (name == "csv") *format = RowFormat::kCsv;
  else return false;
  return true;
}

void AppendRowJson(const ScanRow& row, bool with_schema, std::string& out) {
  JsonWriter w;
  w.BeginObject();
  if (with_schema) w.Key("schemas").BeginArray().String(kViolationSchema).EndArray();
  w.Field("identity", row.identity_name);
  if (!row.change.empty()) w.Field("change", row.change);
  if (row.kind == ScanRow::Kind::kRole) {
    w.Field("role", row.role).EndObject();
    out += w.str();
    return;
  }
  const ViolationReport& v = row.violation;
  w.Field("policyName", v.policy_name).Field("policyType", v.policy_type);
  if (v.has_constraint_name) w.Field("constraintName", v.constraint_name);
  if (v.description) w.Field("description", *v.description);
  w.Key("leftBundles").BeginArray();
  for (const auto& b : v.left_bundles) w.String(b);
  w.EndArray().Key("rightBundles").BeginArray();
  for (const auto& b : v.right_bundles) w.String(b);
  w.EndArray().Key("entitlements").BeginArray();
  for (const auto& e : v.entitlements) {
    w.BeginObject().Key("application");
    if (e.application) w.String(*e.application);
    else w.Null();
    w.Field("attribute", e.attribute).Field("value", e.value).EndObject();
  }
  w.EndArray().EndObject();
  out += w.str();
}

std::string ViolationRowWriter::Begin() {
  switch (format_) {
    case RowFormat::kCsv: return std::string(kCsvHeader);
    case RowFormat::kListResponse: return std::string("{\"schemas\":[\"") + std::string(kListSchema) + "\"],\"Resources\":[";
    case RowFormat::kJsonLines: break;
  }
  return {};
}

void ViolationRowWriter::Rows(std::span<const ScanRow> rows, std::string& out) {
  for (const ScanRow& row : rows) {
    switch (format_) {
      case RowFormat::kJsonLines:
        AppendRowJson(row, false, out);
        out += '\n';
        break;
      case RowFormat::kListResponse:
        if (count_) out += ',';
        AppendRowJson(row, true, out);
        break;
      case RowFormat::kCsv: AppendRowCsv(row, out); break;
    }
    ++count_;
  }
}

std::string ViolationRowWriter::End() {
  if (format_ != RowFormat::kListResponse) return {};
  // The totals follow the resources: they are known only once every row is out.
  std::string n = std::to_string(count_);
  return "],\"totalResults\":" + n + ",\"startIndex\":1,\"itemsPerPage\":" + n + "}\n";
}

std::string ScanSummaryJson(const ScanSummary& s, int indent) {
  JsonWriter w(indent);
  w.BeginObject();
  w.Key("identities").Int(static_cast<int64_t>(s.identities));
  w.Key("rows").Int(static_cast<int64_t>(s.rows));
  w.Key("ms").Raw(absl::StrFormat("%.3f", s.ms));
  w.Key("counts").BeginArray();
  for (const auto& c : s.counts) {
    w.BeginObject();
    if (c.kind == "role") {
      w.Field("role", c.policy_name);
    } else {
      w.Field("policyName", c.policy_name);
      if (!c.constraint_name.empty()) w.Field("constraintName", c.constraint_name);
    }
    if (!c.change.empty()) w.Field("change", c.change);
    w.Key("rows").Int(static_cast<int64_t>(c.rows)).EndObject();
  }
  w.EndArray();
  WriteDiagnostics(w, "diagnostics", s.diagnostics);
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
