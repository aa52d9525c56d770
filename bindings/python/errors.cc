#include "bindings/python/errors.h"

#include <string>

namespace preflight::python {
namespace {

// A plan that does not decode is InvalidPlan (a subclass of InvalidValue) whatever its SCIM
// type (malformed XML is invalidSyntax outside a check), except budgets, which stay TooMany.
const char* ExceptionClassName(const absl::Status& status) {
  ErrorCode code = ErrorCodeOf(status);
  if (SubjectOf(status) == "plan" && (code == ErrorCode::kInvalidValue || code == ErrorCode::kInvalidSyntax))
    return "InvalidPlan";
  switch (code) {
    case ErrorCode::kInvalidValue: return "InvalidValue";
    case ErrorCode::kNoTarget: return "InvalidValue";
    case ErrorCode::kInvalidSyntax: return "InvalidSyntax";
    case ErrorCode::kInvalidFilter: return "InvalidFilter";
    case ErrorCode::kInvalidPath: return "InvalidPath";
    case ErrorCode::kTooMany: return "TooMany";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kNoSuchResource: return "NoSuchResource";
    case ErrorCode::kUnsupported:
    case ErrorCode::kInternal: return "PreflightError";
  }
  return "PreflightError";
}

py::object OrNone(const std::string& s) { return s.empty() ? py::none() : py::object(py::str(s)); }
py::object OrNone(int64_t v, int64_t unknown) { return v == unknown ? py::none() : py::object(py::int_(v)); }

py::dict LocationDict(const Location& l) {
  py::dict d;
  d["file"] = OrNone(l.file);
  d["line"] = OrNone(l.line, 0);
  d["column"] = OrNone(l.column, 0);
  d["offset"] = OrNone(l.offset, -1);
  d["pointer"] = OrNone(l.pointer);
  return d;
}

}  // namespace

py::object ExceptionFor(const absl::Status& status) {
  ErrorCode code = ErrorCodeOf(status);
  py::object cls = py::module_::import("preflight._errors").attr(ExceptionClassName(status));
  return cls(py::str(std::string(status.message())), py::arg("scim_type") = std::string(ScimType(code)),
             py::arg("detail") = DetailOf(status), py::arg("location") = LocationDict(LocationOf(status)));
}

void RaiseStatus(const absl::Status& status) {
  py::object exc = ExceptionFor(status);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

}  // namespace preflight::python
