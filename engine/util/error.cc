#include "engine/util/error.h"

#include <charconv>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace preflight {
namespace {
constexpr char kCodeKey[] = "preflight/code";
constexpr char kLocationKey[] = "preflight/location";
constexpr char kSubjectKey[] = "preflight/subject";

absl::StatusCode AbslCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return absl::StatusCode::kNotFound;
    case ErrorCode::kNoSuchResource: return absl::StatusCode::kNotFound;
    case ErrorCode::kTooMany: return absl::StatusCode::kResourceExhausted;
    case ErrorCode::kUnsupported: return absl::StatusCode::kUnimplemented;
    case ErrorCode::kInternal: return absl::StatusCode::kInternal;
    default: return absl::StatusCode::kInvalidArgument;
  }
}

std::string EncodeLocation(const Location& l) {
  return absl::StrCat(l.line, "\t", l.column, "\t", l.offset, "\t", l.file, "\t", l.pointer);
}
}  // namespace

std::string_view ScimType(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidValue: return "invalidValue";
    case ErrorCode::kInvalidSyntax: return "invalidSyntax";
    case ErrorCode::kInvalidFilter: return "invalidFilter";
    case ErrorCode::kInvalidPath: return "invalidPath";
    case ErrorCode::kTooMany: return "tooMany";
    case ErrorCode::kNoTarget: return "noTarget";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kNotFound: return "notFound";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kNoSuchResource: return "noSuchResource";
  }
  return "internal";
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kUnsupported: return "unsupported";
  }
  return "error";
}

std::string Location::ToString() const {
  std::string out = file;
  if (line > 0) {
    absl::StrAppend(&out, out.empty() ? "" : ":", "line ", line);
    if (column > 0) absl::StrAppend(&out, ", column ", column);
  } else if (offset >= 0) {
    absl::StrAppend(&out, out.empty() ? "" : ":", "offset ", offset);
  }
  if (!pointer.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", "at ", pointer);
  return out;
}

Location LocationAt(std::string_view text, size_t offset, std::string file) {
  Location l;
  l.file = std::move(file);
  if (offset > text.size()) offset = text.size();
  l.offset = static_cast<int64_t>(offset);
  l.line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++l.line;
      line_start = i + 1;
    }
  }
  l.column = static_cast<int>(offset - line_start) + 1;
  return l;
}

absl::Status MakeError(ErrorCode code, std::string_view detail, const Location& where) {
  return MakeErrorAfter(code, {}, detail, where);
}

absl::Status MakeErrorAfter(ErrorCode code, std::string_view lead, std::string_view detail, const Location& where) {
  std::string message = lead.empty() ? std::string() : absl::StrCat(ToAbsl(lead), ": ");
  if (!where.empty()) absl::StrAppend(&message, where.ToString(), ": ");
  absl::StrAppend(&message, ToAbsl(detail));
  absl::Status status(AbslCode(code), message);
  status.SetPayload(kCodeKey, absl::Cord(ToAbsl(ScimType(code))));
  status.SetPayload("preflight/detail",
                    absl::Cord(lead.empty() ? std::string(detail) : absl::StrCat(ToAbsl(lead), ": ", ToAbsl(detail))));
  if (!where.empty()) status.SetPayload(kLocationKey, absl::Cord(EncodeLocation(where)));
  return status;
}

ErrorCode ErrorCodeOf(const absl::Status& status) {
  if (status.ok()) return ErrorCode::kInternal;
  auto payload = status.GetPayload(kCodeKey);
  if (!payload) {
    switch (status.code()) {
      case absl::StatusCode::kNotFound: return ErrorCode::kNotFound;
      case absl::StatusCode::kResourceExhausted: return ErrorCode::kTooMany;
      case absl::StatusCode::kInvalidArgument: return ErrorCode::kInvalidValue;
      default: return ErrorCode::kInternal;
    }
  }
  std::string name(*payload);
  for (ErrorCode c : {ErrorCode::kInvalidValue, ErrorCode::kInvalidSyntax, ErrorCode::kInvalidFilter,
                      ErrorCode::kInvalidPath, ErrorCode::kTooMany, ErrorCode::kNoTarget,
                      ErrorCode::kUnsupported, ErrorCode::kNotFound, ErrorCode::kInternal,
                      ErrorCode::kNoSuchResource}) {
    if (ScimType(c) == name) return c;
  }
  return ErrorCode::kInternal;
}

Location LocationOf(const absl::Status& status) {
  Location l;
  auto payload = status.GetPayload(kLocationKey);
  if (!payload) return l;
  std::vector<std::string> parts = absl::StrSplit(std::string(*payload), '\t');
  if (parts.size() != 5) return l;
  auto num = [](const std::string& s, auto& out) { std::from_chars(s.data(), s.data() + s.size(), out); };
  num(parts[0], l.line);
  num(parts[1], l.column);
  num(parts[2], l.offset);
  l.file = parts[3];
  l.pointer = parts[4];
  return l;
}

std::string DetailOf(const absl::Status& status) {
  auto payload = status.GetPayload("preflight/detail");
  return payload ? std::string(*payload) : std::string(status.message());
}

absl::Status WithSubject(const absl::Status& status, std::string_view subject) {
  if (status.ok()) return status;
  absl::Status out = status;
  out.SetPayload(kSubjectKey, absl::Cord(ToAbsl(subject)));
  return out;
}

std::string SubjectOf(const absl::Status& status) {
  auto payload = status.GetPayload(kSubjectKey);
  return payload ? std::string(*payload) : std::string();
}

absl::Status WithContext(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return WithSubject(MakeError(ErrorCodeOf(status), absl::StrCat(ToAbsl(context), ": ", DetailOf(status)),
                               LocationOf(status)),
                     SubjectOf(status));
}

absl::Status WithFile(const absl::Status& status, std::string_view file) {
  if (status.ok()) return status;
  Location l = LocationOf(status);
  if (!l.file.empty()) return status;
  l.file = std::string(file);
  return WithSubject(MakeError(ErrorCodeOf(status), DetailOf(status), l), SubjectOf(status));
}

}  // namespace preflight
