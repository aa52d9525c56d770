#pragma once
// Errors in user input: a stable code that maps one-to-one to a SCIM scimType, a
// human message, and a location. They travel inside absl::Status (as payloads), so
// every stage returns absl::Status / absl::StatusOr and nothing throws across the API.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace preflight {

// Stable codes. ScimType() gives the wire name; never renumber or rename.
enum class ErrorCode {
  kInvalidValue,   // "invalidValue": well-formed input with a wrong value (IIQ's catch-all)
  kInvalidSyntax,  // "invalidSyntax": malformed JSON / XML / map text
  kInvalidFilter,  // "invalidFilter": SCIM filter syntax or unsupported comparison
  kInvalidPath,    // "invalidPath": SCIM PATCH path / attribute path
  kTooMany,        // "tooMany": a budget (size, depth, count) was exceeded
  kNoTarget,       // "noTarget"
  kUnsupported,    // reported, never silently passed: rules, scripts, populations...
  kNotFound,       // a file or named object does not exist
  kInternal,       // a bug: exit status 1
  kNoSuchResource, // a SCIM resource asked for by id that the snapshot does not hold (HTTP 404)
};

std::string_view ScimType(ErrorCode code);

// Where in the input. Any part may be empty/zero; ToString() prints what is known.
struct Location {
  std::string file;
  int line = 0;         // 1-based, 0 = unknown
  int column = 0;       // 1-based, 0 = unknown
  int64_t offset = -1;  // byte offset, -1 = unknown
  std::string pointer;  // JSON pointer or object path ("Policy[SOD Policy]/SODConstraint[2]")

  bool empty() const { return file.empty() && line == 0 && offset < 0 && pointer.empty(); }
  std::string ToString() const;
};

// Computes line and column of a byte offset in text.
Location LocationAt(std::string_view text, size_t offset, std::string file = {});

absl::Status MakeError(ErrorCode code, std::string_view detail, const Location& where = {});
// The same with a fixed text before the location: "<lead>: <location>: <detail>" (IdentityIQ's
// own message first, Preflight's precise location after it).
absl::Status MakeErrorAfter(ErrorCode code, std::string_view lead, std::string_view detail, const Location& where);
ErrorCode ErrorCodeOf(const absl::Status& status);
Location LocationOf(const absl::Status& status);
// The message without the location prefix (the SCIM `detail` is the full message).
std::string DetailOf(const absl::Status& status);
// Prepends context ("while reading plan: ...") and keeps code and location.
absl::Status WithContext(const absl::Status& status, std::string_view context);
// Which part of a call's input an error is about ("plan", ...), for faces that name it
// (the Python module's InvalidPlan). Kept by WithContext and WithFile.
absl::Status WithSubject(const absl::Status& status, std::string_view subject);
std::string SubjectOf(const absl::Status& status);
// Sets the file of the location if it has none.
absl::Status WithFile(const absl::Status& status, std::string_view file);

// A problem found while loading or checking that does not stop the work.
enum class Severity { kError, kWarning, kUnsupported };
std::string_view SeverityName(Severity s);

struct Diagnostic {
  Severity severity = Severity::kError;
  ErrorCode code = ErrorCode::kInvalidValue;
  std::string message;
  Location where;
  std::string object;  // e.g. "Policy 'SOD Policy'"
};

// Bridges between std::string_view and absl::string_view (Debian builds Abseil
// without std::string_view aliasing).
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace preflight
