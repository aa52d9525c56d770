// `_preflight`: the thin pybind11 layer over engine/preflight.h. The public API is the
// pure-Python package `preflight` (bindings/python/preflight/__init__.py); this module
// only moves text and plain values across, with the GIL released around every call
// into the engine, and turns a failed absl::Status into a Python exception in exactly
// one place (RaiseStatus / ExceptionFor).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/plan/compile_report.h"
#include "engine/preflight.h"
#include "engine/query/filter_cli.h"
#include "engine/query/query.h"
#include "engine/query/snapshot_query.h"
#include "grammar/scim_filter.h"

#ifndef PREFLIGHT_VERSION
#define PREFLIGHT_VERSION "0.0.0"
#endif

namespace py = pybind11;

namespace preflight::python {
namespace {

// ---------------------------------------------------------------------------------------
// Status -> exception: the one place.

// Plan decoding failures become InvalidPlan (a subclass of InvalidValue) whatever their
// SCIM type (malformed XML is invalidSyntax), except budgets, which stay TooMany.
enum class ErrorContext { kGeneral, kPlan };

const char* ExceptionClassName(ErrorCode code, ErrorContext context) {
  if (context == ErrorContext::kPlan && (code == ErrorCode::kInvalidValue || code == ErrorCode::kInvalidSyntax))
    return "InvalidPlan";
  switch (code) {
    case ErrorCode::kInvalidValue: return "InvalidValue";
    case ErrorCode::kNoTarget: return "InvalidValue";
    case ErrorCode::kInvalidSyntax: return "InvalidSyntax";
    case ErrorCode::kInvalidFilter: return "InvalidFilter";
    case ErrorCode::kInvalidPath: return "InvalidPath";
    case ErrorCode::kTooMany: return "TooMany";
    case ErrorCode::kNotFound: return "NotFound";
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

// The exception instance for a failed status (the GIL must be held). The classes live in
// preflight/_errors.py so that they can inherit from both PreflightError and ValueError.
py::object ExceptionFor(const absl::Status& status, ErrorContext context = ErrorContext::kGeneral) {
  ErrorCode code = ErrorCodeOf(status);
  py::object cls = py::module_::import("preflight._errors").attr(ExceptionClassName(code, context));
  return cls(py::str(std::string(status.message())), py::arg("scim_type") = std::string(ScimType(code)),
             py::arg("detail") = DetailOf(status), py::arg("location") = LocationDict(LocationOf(status)));
}

[[noreturn]] void RaiseStatus(const absl::Status& status, ErrorContext context = ErrorContext::kGeneral) {
  py::object exc = ExceptionFor(status, context);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

template <typename T>
T Unwrap(absl::StatusOr<T> value, ErrorContext context = ErrorContext::kGeneral) {
  if (!value.ok()) RaiseStatus(value.status(), context);
  return *std::move(value);
}

// A result computed without the GIL, with the context its error (if any) belongs to.
struct Outcome {
  absl::StatusOr<std::string> json;
  ErrorContext context = ErrorContext::kGeneral;
};

std::string Take(Outcome outcome) {
  if (!outcome.json.ok()) RaiseStatus(outcome.json.status(), outcome.context);
  return *std::move(outcome.json);
}

// ---------------------------------------------------------------------------------------
// Engine calls (no Python objects touched: these run with the GIL released).

struct EngineHandle {
  std::shared_ptr<const Engine> engine;
};

// The same steps as preflight::Check(snapshot, request), split so that a plan that does
// not decode is reported as InvalidPlan.
Outcome CheckOne(const Engine& engine, const CheckRequest& request, const CheckOptions& options) {
  auto format = PlanFormatFromMediaType(request.plan_type);
  if (!format.ok()) {
    Location where = LocationOf(format.status());
    if (where.pointer.empty()) where.pointer = "/plan/type";
    return {MakeError(ErrorCodeOf(format.status()), DetailOf(format.status()), where)};
  }
  auto plan = DecodePlan(request.plan_value, *format, engine.limits());
  if (!plan.ok()) return {WithContext(plan.status(), "plan.value"), ErrorContext::kPlan};
  auto result = Check(engine.snapshot(), request, *plan, options);
  if (!result.ok()) return {result.status()};
  return {CheckResponseJson(request, *result, options)};
}

Outcome CheckBody(const Engine& engine, std::string_view body, bool explain, const CheckOptions& options) {
  auto request = ParseCheckRequest(body, engine.limits());
  if (!request.ok()) return {request.status()};
  request->explain = explain;
  return CheckOne(engine, *request, options);
}

CheckOptions MakeOptions(int indent) {
  CheckOptions options;
  options.indent = indent;
  return options;
}

constexpr std::string_view kXmlMediaType = "application/xml";
constexpr std::string_view kJsonMediaType = "application/sailpoint.object.ProvisioningPlan+json";

// "xml" / "json" / "map" (the map form travels under the +json media type, as in IdentityIQ),
// a media type as is, or nothing: detected from the text.
absl::StatusOr<std::string> MediaTypeFor(const std::optional<std::string>& plan_type, std::string_view text) {
  std::optional<PlanFormat> format;
  if (plan_type) {
    format = ParsePlanFormatName(*plan_type);
    if (!format) return *plan_type;  // a media type; PlanFormatFromMediaType judges it
  } else {
    format = DetectPlanFormat(text);
    if (!format) return MakeError(ErrorCode::kInvalidValue, "cannot tell the plan's form; give plan_type");
  }
  return std::string(*format == PlanFormat::kXml ? kXmlMediaType : kJsonMediaType);
}

absl::StatusOr<PlanFormat> FormatFor(const std::optional<std::string>& name, std::string_view text) {
  if (name) {
    if (auto f = ParsePlanFormatName(*name)) return *f;
    if (auto f = PlanFormatFromMediaType(*name); f.ok()) return *f;
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("unknown plan format '", *name, "': expected xml, json or map"));
  }
  if (auto f = DetectPlanFormat(text)) return *f;
  return MakeError(ErrorCode::kInvalidValue, "cannot tell the plan's form; give its format");
}

// Decodes a plan; errors carry ErrorContext::kPlan.
struct DecodedPlan {
  absl::StatusOr<ProvisioningPlan> plan;
  ErrorContext context = ErrorContext::kGeneral;
};

DecodedPlan Decode(std::string_view text, const std::optional<std::string>& format, const Limits& limits) {
  auto f = FormatFor(format, text);
  if (!f.ok()) return {f.status()};
  return {DecodePlan(text, *f, limits), ErrorContext::kPlan};
}

Outcome EncodeAs(const ProvisioningPlan& plan, std::string_view to, int indent) {
  if (to == "xml") {
    std::string xml = EncodePlanXml(plan);
    while (!xml.empty() && xml.back() == '\n') xml.pop_back();
    return {std::move(xml)};
  }
  if (to == "json") return {EncodePlanJson(plan, indent)};
  return {MakeError(ErrorCode::kInvalidValue,
                    absl::StrCat("cannot encode a plan as '", ToAbsl(to), "': expected xml or json"))};
}

// ---------------------------------------------------------------------------------------
// Plain Python values built with the GIL held.

const char* FilterKindName(FilterKind k) {
  switch (k) {
    case FilterKind::kCompare: return "compare";
    case FilterKind::kPresent: return "present";
    case FilterKind::kAnd: return "and";
    case FilterKind::kOr: return "or";
    case FilterKind::kNot: return "not";
    case FilterKind::kValuePath: return "valuePath";
  }
  return "compare";
}

const char* LiteralKindName(LiteralKind k) {
  switch (k) {
    case LiteralKind::kString: return "string";
    case LiteralKind::kNumber: return "number";
    case LiteralKind::kTrue: return "true";
    case LiteralKind::kFalse: return "false";
    case LiteralKind::kNull: return "null";
  }
  return "null";
}

bool HasPath(FilterKind k) {
  return k == FilterKind::kCompare || k == FilterKind::kPresent || k == FilterKind::kValuePath;
}

// One AST node as a dict; the pure-Python layer turns it into a FilterNode.
py::dict NodeDict(const FilterNode& node) {
  py::dict d;
  d["kind"] = FilterKindName(node.kind);
  d["op"] = node.kind == FilterKind::kCompare ? py::object(py::str(std::string(CompareOpName(node.op)))) : py::none();
  if (HasPath(node.kind)) {
    d["path"] = node.path.ToString();
    d["uri"] = OrNone(node.path.uri);
    d["name"] = node.path.name;
    d["sub"] = OrNone(node.path.sub);
  } else {
    for (const char* key : {"path", "uri", "name", "sub"}) d[key] = py::none();
  }
  if (node.kind == FilterKind::kCompare) {
    d["value_kind"] = LiteralKindName(node.value.kind);
    d["value_text"] = node.value.text;
  } else {
    d["value_kind"] = py::none();
    d["value_text"] = py::none();
  }
  py::list children;
  for (const FilterNode& c : node.children) children.append(NodeDict(c));
  d["children"] = children;
  d["span"] = py::make_tuple(node.span.begin, node.span.end);
  d["sexpr"] = ToSexpr(node);
  d["text"] = ToFilterText(node);
  return d;
}

py::dict DiagnosticDict(const Diagnostic& diagnostic) {
  py::dict d;
  d["severity"] = std::string(SeverityName(diagnostic.severity));
  d["code"] = std::string(ScimType(diagnostic.code));
  d["object"] = OrNone(diagnostic.object);
  d["location"] = diagnostic.where.empty() ? py::object(py::none()) : py::object(LocationDict(diagnostic.where));
  d["message"] = diagnostic.message;
  return d;
}

py::dict StatsDict(const Snapshot& s) {
  Snapshot::Stats st;
  LoadTimings t;
  {
    py::gil_scoped_release release;
    st = s.stats();
    t = s.timings();
  }
  py::dict counts;
  counts["identities"] = st.identities;
  counts["accounts"] = st.accounts;
  counts["roles"] = st.roles;
  counts["policies"] = st.policies;
  counts["constraints"] = st.constraints;
  counts["applications"] = st.applications;
  counts["entitlements"] = st.entitlements;
  counts["roleAssignments"] = st.role_assignments;
  counts["entitlementValues"] = st.entitlement_values;
  counts["strings"] = st.strings;
  py::dict memory;
  memory["approxBytes"] = st.approx_bytes;
  py::dict load;
  load["files"] = t.files;
  load["bytes"] = t.bytes;
  load["readMs"] = t.read_ms;
  load["parseMs"] = t.parse_ms;
  load["buildMs"] = t.build_ms;
  py::dict d;
  d["counts"] = counts;
  d["memory"] = memory;
  d["load"] = load;
  return d;
}

// ---------------------------------------------------------------------------------------
// Bound functions.

// `limits={"max_nesting_depth": 16}`: the defaults with these budgets changed
// (InvalidValue for an unknown name or a value below 1).
using LimitMap = std::optional<std::map<std::string, int64_t>>;

Limits LimitsFrom(const LimitMap& overrides) {
  Limits limits;
  if (overrides) {
    for (const auto& [name, value] : *overrides) {
      if (absl::Status s = SetLimit(limits, name, value); !s.ok()) RaiseStatus(s);
    }
  }
  return limits;
}

EngineHandle Load(const std::vector<std::string>& paths, bool strict, const LimitMap& limits) {
  absl::StatusOr<std::shared_ptr<const Engine>> engine;
  LoadOptions options;
  options.strict = strict;
  options.limits = LimitsFrom(limits);
  {
    py::gil_scoped_release release;
    engine = Engine::Load(paths, options);
  }
  return {Unwrap(std::move(engine))};
}

std::string CheckJsonText(const EngineHandle& h, const std::string& body, bool explain, int indent) {
  Outcome out;
  {
    py::gil_scoped_release release;
    out = CheckBody(*h.engine, body, explain, MakeOptions(indent));
  }
  return Take(std::move(out));
}

std::string CheckFields(const EngineHandle& h, const std::string& identity, const std::string& plan,
                        const std::optional<std::string>& plan_type,
                        const std::optional<std::vector<std::string>>& policies, bool explain, int indent) {
  Outcome out;
  {
    py::gil_scoped_release release;
    auto media_type = MediaTypeFor(plan_type, plan);
    if (!media_type.ok()) {
      out = {media_type.status()};
    } else {
      CheckRequest request;
      request.identity = identity;
      request.plan_value = plan;
      request.plan_type = *std::move(media_type);
      request.policies = policies;
      request.explain = explain;
      if (request.identity.empty()) {
        Location where;
        where.pointer = "/identity";
        out = {MakeError(ErrorCode::kInvalidValue, "Identity name is required.", where)};
      } else {
        out = CheckOne(*h.engine, request, MakeOptions(indent));
      }
    }
  }
  return Take(std::move(out));
}

// One entry per request: the response text, or the exception instance for a failed one.
py::list CheckBatch(const EngineHandle& h, const std::vector<std::string>& bodies, bool explain, int indent) {
  std::vector<Outcome> outs;
  absl::Status budget;
  {
    py::gil_scoped_release release;
    const Engine& engine = *h.engine;
    if (bodies.size() > engine.limits().max_batch_requests) {
      budget = MakeError(ErrorCode::kTooMany, absl::StrCat("batch of ", bodies.size(),
                                                           " requests exceeds the limit of ",
                                                           engine.limits().max_batch_requests));
    } else {
      outs.reserve(bodies.size());
      CheckOptions options = MakeOptions(indent);
      for (const std::string& body : bodies) outs.push_back(CheckBody(engine, body, explain, options));
    }
  }
  if (!budget.ok()) RaiseStatus(budget);
  py::list result;
  for (Outcome& o : outs) {
    if (o.json.ok()) {
      result.append(py::str(*o.json));
    } else {
      result.append(ExceptionFor(o.json.status(), o.context));
    }
  }
  return result;
}

// Times `n` checks of one request in C++ with the GIL released: seconds in total.
double BenchCheck(const EngineHandle& h, const std::string& body, int64_t n) {
  Outcome first;
  double seconds = 0;
  {
    py::gil_scoped_release release;
    CheckOptions options;
    first = CheckBody(*h.engine, body, false, options);
    if (first.json.ok()) {
      auto start = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < n; ++i) {
        Outcome o = CheckBody(*h.engine, body, false, options);
        if (!o.json.ok()) {
          first = std::move(o);
          break;
        }
      }
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  Take(std::move(first));
  return seconds;
}

py::list Diagnostics(const EngineHandle& h) {
  py::list out;
  for (const Diagnostic& d : h.engine->snapshot().diagnostics()) out.append(DiagnosticDict(d));
  return out;
}

std::string Query(const EngineHandle& h, const std::string& resource_type, const std::optional<std::string>& filter,
                  const std::optional<std::vector<std::string>>& attributes,
                  const std::optional<std::vector<std::string>>& excluded_attributes,
                  const std::optional<std::string>& sort_by, const std::optional<std::string>& sort_order,
                  std::optional<int64_t> start_index, std::optional<int64_t> count) {
  Outcome out;
  {
    py::gil_scoped_release release;
    QueryOptions options;
    options.parse = FilterParseOptions::From(h.engine->limits());
    if (filter) options.filter = *filter;
    if (attributes) options.attributes = *attributes;
    if (excluded_attributes) options.excluded_attributes = *excluded_attributes;
    if (sort_by) options.sort_by = *sort_by;
    if (start_index) options.start_index = *start_index;
    options.count = count;
    if (sort_order && *sort_order != "ascending" && *sort_order != "descending") {
      Location where;
      where.pointer = "sortOrder";
      out = {MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat("sortOrder must be ascending or descending, not '", *sort_order, "'"), where)};
    } else {
      options.descending = sort_order && *sort_order == "descending";
      out = {QuerySnapshot(h.engine->snapshot(), resource_type, options)};
    }
  }
  return Take(std::move(out));
}

std::string Compile(const EngineHandle& h, const std::string& identity, const std::string& plan_text,
                    const std::optional<std::string>& format, int indent) {
  Outcome out;
  {
    py::gil_scoped_release release;
    DecodedPlan plan = Decode(plan_text, format, h.engine->limits());
    if (!plan.plan.ok()) {
      out = {plan.plan.status(), plan.context};
    } else {
      out = {CompileReportJson(h.engine->snapshot(), identity, *plan.plan, indent)};
    }
  }
  return Take(std::move(out));
}

// Decodes `text` (format: xml, json, map, a media type, or None to detect) and encodes
// it as `to` (xml or json).
std::string ConvertPlan(const std::string& text, const std::string& to, const std::optional<std::string>& from,
                        int indent, const LimitMap& limit_overrides) {
  Limits limits = LimitsFrom(limit_overrides);
  Outcome out;
  {
    py::gil_scoped_release release;
    DecodedPlan plan = Decode(text, from, limits);
    if (!plan.plan.ok()) {
      out = {plan.plan.status(), plan.context};
    } else {
      out = EncodeAs(*plan.plan, to, indent);
    }
  }
  return Take(std::move(out));
}

py::dict ParseFilter(const std::string& text, const LimitMap& limit_overrides) {
  FilterParseOptions options = FilterParseOptions::From(LimitsFrom(limit_overrides));
  absl::StatusOr<FilterAst> ast;
  {
    py::gil_scoped_release release;
    ast = ParseScimFilter(text, options);
  }
  FilterAst tree = Unwrap(std::move(ast));
  py::dict d = NodeDict(tree.root);
  return d;
}

std::string PathSexpr(const std::string& text, const LimitMap& limit_overrides) {
  Limits limits = LimitsFrom(limit_overrides);
  absl::StatusOr<std::string> sexpr;
  {
    py::gil_scoped_release release;
    sexpr = PathToSexpr(text, limits);
  }
  return Unwrap(std::move(sexpr));
}

bool EvaluateFilter(const std::string& filter, const std::string& resource_json, const LimitMap& limit_overrides) {
  Limits limits = LimitsFrom(limit_overrides);
  absl::StatusOr<bool> match;
  {
    py::gil_scoped_release release;
    match = EvalFilterOnJson(filter, resource_json, limits);
  }
  return Unwrap(std::move(match));
}

}  // namespace
}  // namespace preflight::python

PYBIND11_MODULE(_preflight, m) {
  using namespace preflight::python;
  namespace pf = preflight;
  m.doc() = "Preflight's native layer; use the `preflight` package.";
  m.attr("__version__") = PREFLIGHT_VERSION;

  py::class_<EngineHandle>(m, "Engine")
      .def_static("load", &Load, py::arg("paths"), py::arg("strict") = false, py::arg("limits") = py::none())
      .def("check_json", &CheckJsonText, py::arg("body"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("check_fields", &CheckFields, py::arg("identity"), py::arg("plan"), py::arg("plan_type"),
           py::arg("policies"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("check_batch", &CheckBatch, py::arg("bodies"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("bench_check", &BenchCheck, py::arg("body"), py::arg("n"))
      .def("stats", [](const EngineHandle& h) { return StatsDict(h.engine->snapshot()); })
      .def("diagnostics", &Diagnostics)
      .def("query", &Query, py::arg("resource_type"), py::arg("filter"), py::arg("attributes"),
           py::arg("excluded_attributes"), py::arg("sort_by"), py::arg("sort_order"), py::arg("start_index"),
           py::arg("count"))
      .def("compile", &Compile, py::arg("identity"), py::arg("plan"), py::arg("format"), py::arg("indent") = 0)
      .def("same", [](const EngineHandle& a, const EngineHandle& b) { return a.engine == b.engine; });

  py::class_<pf::SharedEngine>(m, "SharedEngine")
      .def(py::init([](const EngineHandle& h) { return std::make_unique<pf::SharedEngine>(h.engine); }),
           py::arg("engine"))
      .def("get", [](const pf::SharedEngine& s) {
        std::shared_ptr<const pf::Engine> e;
        {
          py::gil_scoped_release release;
          e = s.Get();
        }
        return EngineHandle{std::move(e)};
      })
      .def("swap", [](pf::SharedEngine& s, const EngineHandle& h) {
        // The last reference to the old snapshot may drop here: release the GIL around it.
        std::shared_ptr<const pf::Engine> next = h.engine;
        py::gil_scoped_release release;
        s.Swap(std::move(next));
      }, py::arg("engine"));

  m.def("convert_plan", &ConvertPlan, py::arg("text"), py::arg("to"), py::arg("from_") = py::none(),
        py::arg("indent") = 0, py::arg("limits") = py::none());
  m.def("detect_plan_format", [](const std::string& text) -> std::optional<std::string> {
    auto f = pf::DetectPlanFormat(text);
    if (!f) return std::nullopt;
    return std::string(pf::PlanFormatName(*f));
  }, py::arg("text"));
  m.def("parse_filter", &ParseFilter, py::arg("text"), py::arg("limits") = py::none());
  m.def("path_sexpr", &PathSexpr, py::arg("text"), py::arg("limits") = py::none());
  m.def("evaluate_filter", &EvaluateFilter, py::arg("filter"), py::arg("resource_json"),
        py::arg("limits") = py::none());
  m.def("split_attribute_list", [](const std::string& list) { return pf::SplitAttributeList(list); },
        py::arg("list"));
}
