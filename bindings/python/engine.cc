// `_preflight.Engine` and `_preflight.SharedEngine`: facade calls with the GIL released,
// errors through RaiseStatus. Checks take request dicts (read directly, check_objects.h) or
// JSON text and give dicts built from the response's events, or its JSON text; everything
// else gives JSON text (the pure-Python layer json.loads it).

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/python/check_objects.h"
#include "bindings/python/errors.h"
#include "bindings/python/limits.h"
#include "bindings/python/register.h"

namespace preflight::python {
namespace {

struct EngineHandle {
  std::shared_ptr<const Engine> engine;
};

RequestOptions Options(bool explain, int indent) {
  RequestOptions options;
  options.explain = explain;
  options.indent = indent;
  return options;
}

EngineHandle Load(const std::vector<std::string>& paths, bool allow_partial, const LimitMap& limits,
                  const std::string& verify) {
  EngineOptions options;
  options.limits = LimitsFrom(limits);
  options.allow_partial = allow_partial;
  options.image_verify = verify;
  return {Released([&] { return Engine::Load(paths, options); })};
}

// A request as the engine takes it: a dict read into its fields (check_objects.h), or JSON
// text: a str as it is, anything else as preflight._args.json_text makes it (raising what it
// raises, under `name`).
struct RequestInput {
  std::optional<CheckRequest> fields;
  py::object text_owner;  // holds the str whose UTF-8 `text` views
  std::string_view text;
};

RequestInput ReadInput(py::handle request, const Limits& limits, const std::string& name) {
  RequestInput in;
  in.fields = ReadRequestDict(request, limits);
  if (in.fields) return in;
  in.text_owner = py::reinterpret_borrow<py::object>(request);
  if (!PyUnicode_CheckExact(request.ptr()))
    in.text_owner = py::module_::import("preflight._args").attr("json_text")(request, name);
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(in.text_owner.ptr(), &n);
  if (p == nullptr) {  // a lone surrogate: json_text says so in its words
    PyErr_Clear();
    py::module_::import("preflight._args").attr("text")(request, name);
    throw py::value_error(name + ": not valid Unicode text");  // not reached: text() raised
  }
  in.text = std::string_view(p, static_cast<size_t>(n));
  return in;
}

// One check of a read request, its response as events (GIL released).
absl::Status Run(const Engine& engine, RequestInput& in, const RequestOptions& options, JsonSink& response) {
  if (in.fields) return engine.CheckRequestJson(std::move(*in.fields), options, response);
  return engine.CheckJson(in.text, options, response);
}

// The calling thread's tape, reused across calls; a call that finds it in use (a check made
// from a finalizer while objects are built, say) gets its own.
class TapeLease {
 public:
  TapeLease() : tape_(busy_ ? own_.emplace() : shared_) {
    if (&tape_ == &shared_) busy_ = true;
    tape_.Clear();
  }
  ~TapeLease() {
    if (&tape_ != &shared_) return;
    busy_ = false;
    tape_.Clear();
    if (tape_.Capacity() > (1u << 20)) tape_ = ResponseTape();  // after a huge batch: give it back
  }
  ResponseTape& operator*() { return tape_; }

 private:
  static thread_local ResponseTape shared_;
  static thread_local bool busy_;
  std::optional<ResponseTape> own_;
  ResponseTape& tape_;
};
thread_local ResponseTape TapeLease::shared_;
thread_local bool TapeLease::busy_ = false;

// A check's response as a dict built from its events (text: as JSON text, written into the
// thread's writer, whose buffer stays). `check(JsonSink&)` runs without the GIL; a failure
// raises. Nothing between the check and the objects runs Python code that could check on
// this thread again.
template <typename F>
py::object Answer(F&& check, bool text, int indent) {
  absl::Status s;
  if (text) {
    thread_local JsonWriter writer;
    writer.Reset(indent);
    {
      py::gil_scoped_release release;
      s = check(writer);
    }
    if (!s.ok()) RaiseStatus(s);
    const std::string& out = writer.str();
    PyObject* str = PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), nullptr);
    if (str == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(str);
  }
  TapeLease tape;
  {
    py::gil_scoped_release release;
    s = check(*tape);
  }
  if (!s.ok()) RaiseStatus(s);
  return (*tape).Build(0, (*tape).Mark());
}

// Engine.check (a dict back) and Engine.check_json (text back).
py::object Check(const EngineHandle& h, py::handle request, bool explain, int indent, bool text) {
  RequestInput in = ReadInput(request, h.engine->limits(), "request");
  const RequestOptions options = Options(explain, indent);
  return Answer([&](JsonSink& out) { return Run(*h.engine, in, options, out); }, text, indent);
}

py::object CheckFieldsObject(const EngineHandle& h, const std::string& identity, const std::string& plan,
                             const std::optional<std::string>& plan_type,
                             const std::optional<std::vector<std::string>>& policies, bool explain, int indent,
                             bool text) {
  const CheckFields fields{identity, plan, plan_type.value_or(""), policies};
  const RequestOptions options = Options(explain, indent);
  return Answer([&](JsonSink& out) { return h.engine->CheckFieldsJson(fields, options, out); }, text, indent);
}

// One entry per request, in order: the response dict, or the exception instance for a failed
// one. Every request is read first (a bad one raises at once, as json_text does), then all are
// checked with the GIL released once, then the dicts are built.
py::list CheckBatch(const EngineHandle& h, const py::sequence& requests, bool explain) {
  std::vector<RequestInput> inputs;
  inputs.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i)
    inputs.push_back(ReadInput(requests[i], h.engine->limits(), "requests[" + std::to_string(i) + "]"));
  if (absl::Status s = h.engine->BatchBudget(inputs.size()); !s.ok()) RaiseStatus(s);
  const RequestOptions options = Options(explain, 0);
  TapeLease tape;
  std::vector<absl::Status> statuses(inputs.size());
  std::vector<size_t> marks(inputs.size() + 1);
  {
    py::gil_scoped_release release;
    for (size_t i = 0; i < inputs.size(); ++i) {
      statuses[i] = Run(*h.engine, inputs[i], options, *tape);
      marks[i + 1] = (*tape).Mark();
    }
  }
  py::list out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    py::object item = statuses[i].ok() ? (*tape).Build(marks[i], marks[i + 1]) : ExceptionFor(statuses[i]);
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), item.release().ptr());
  }
  return out;
}

// Times `n` checks of one request in C++ with the GIL released: seconds in total.
double BenchCheck(const EngineHandle& h, const std::string& body, int64_t n) {
  return Released([&]() -> absl::StatusOr<double> {
    RequestOptions options;
    if (auto first = h.engine->CheckJson(body, options); !first.ok()) return first.status();
    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; ++i) {
      if (auto r = h.engine->CheckJson(body, options); !r.ok()) return r.status();
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
}

std::string Query(const EngineHandle& h, const std::string& resource_type, const std::optional<std::string>& filter,
                  const std::optional<std::vector<std::string>>& attributes,
                  const std::optional<std::vector<std::string>>& excluded_attributes,
                  const std::optional<std::string>& sort_by, const std::optional<std::string>& sort_order,
                  std::optional<int64_t> start_index, std::optional<int64_t> count) {
  QueryParams params;
  params.resource_type = resource_type;
  params.filter = filter.value_or("");
  params.attributes = attributes.value_or(std::vector<std::string>{});
  params.excluded_attributes = excluded_attributes.value_or(std::vector<std::string>{});
  params.sort_by = sort_by.value_or("");
  params.sort_order = sort_order.value_or("");
  params.start_index = start_index;
  params.count = count;
  return Released([&] { return h.engine->QueryJson(params); });
}

std::string Resource(const EngineHandle& h, const std::string& resource_type, const std::string& id,
                     const std::optional<std::vector<std::string>>& attributes,
                     const std::optional<std::vector<std::string>>& excluded_attributes) {
  return Released([&] {
    return h.engine->ResourceJson(resource_type, id, attributes.value_or(std::vector<std::string>{}),
                                  excluded_attributes.value_or(std::vector<std::string>{}));
  });
}

std::string Compile(const EngineHandle& h, const std::string& identity, const std::string& plan,
                    const std::optional<std::string>& plan_type, int indent) {
  return Released([&] { return h.engine->CompileJson(identity, plan, plan_type.value_or(""), indent); });
}

py::dict Info(const EngineHandle& h) {
  const EngineInfo& i = h.engine->info();
  py::dict d;
  d["source_hash"] = i.source_hash;
  d["identities"] = i.identities;
  d["policies"] = i.policies;
  d["load_errors"] = i.load_errors;
  d["partial"] = i.partial;
  d["load_ms"] = i.load_ms;
  return d;
}

}  // namespace

std::shared_ptr<const Engine> EngineOf(py::handle engine) { return engine.cast<const EngineHandle&>().engine; }

void RegisterEngine(py::module_& m) {
  py::class_<EngineHandle>(m, "Engine")
      .def_static("load", &Load, py::arg("paths"), py::arg("allow_partial") = false, py::arg("limits") = py::none(),
                  py::arg("verify") = "full")
      .def("image_verification", [](const EngineHandle& h) { return std::string(h.engine->ImageVerification()); })
      .def("check", [](const EngineHandle& h, py::handle request, bool explain) {
        return Check(h, request, explain, 0, false);
      }, py::arg("request"), py::arg("explain") = false)
      .def("check_json", [](const EngineHandle& h, py::handle request, bool explain, int indent) {
        return Check(h, request, explain, indent, true);
      }, py::arg("request"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("check_fields", &CheckFieldsObject, py::arg("identity"), py::arg("plan"), py::arg("plan_type"),
           py::arg("policies"), py::arg("explain") = false, py::arg("indent") = 0, py::arg("text") = true)
      .def("check_batch", &CheckBatch, py::arg("requests"), py::arg("explain") = false)
      .def("bench_check", &BenchCheck, py::arg("body"), py::arg("n"))
      .def("stats", [](const EngineHandle& h) { return h.engine->StatsJson(); })
      .def("diagnostics", [](const EngineHandle& h) { return h.engine->DiagnosticsJson(); })
      .def("info", &Info)
      .def("write_image", [](const EngineHandle& h, const std::string& path) {
        return Released([&] { return h.engine->WriteImage(path); });
      }, py::arg("path"))
      .def("query", &Query, py::arg("resource_type"), py::arg("filter"), py::arg("attributes"),
           py::arg("excluded_attributes"), py::arg("sort_by"), py::arg("sort_order"), py::arg("start_index"),
           py::arg("count"))
      .def("resource", &Resource, py::arg("resource_type"), py::arg("id"), py::arg("attributes"),
           py::arg("excluded_attributes"))
      .def("compile", &Compile, py::arg("identity"), py::arg("plan"), py::arg("plan_type"), py::arg("indent") = 0)
      .def("same", [](const EngineHandle& a, const EngineHandle& b) { return a.engine == b.engine; })
      .def("with_changes", [](const EngineHandle& h, const std::vector<std::string>& changes,
                              const std::vector<std::string>& activate) {
        return EngineHandle{Released([&] { return h.engine->WithChanges(changes, activate); })};
      }, py::arg("changes"), py::arg("activate"))
      .def("count_identities", [](const EngineHandle& h, const std::string& filter) {
        return Released([&] { return h.engine->CountIdentities(filter); });
      }, py::arg("filter"));

  py::class_<SharedEngine>(m, "SharedEngine")
      .def(py::init([](const EngineHandle& h) { return std::make_unique<SharedEngine>(h.engine); }),
           py::arg("engine"))
      .def("get", [](const SharedEngine& s) {
        std::shared_ptr<const Engine> e;
        {
          py::gil_scoped_release release;
          e = s.Get();
        }
        return EngineHandle{std::move(e)};
      })
      .def("swap", [](SharedEngine& s, const EngineHandle& h) {
        // The last reference to the old snapshot may drop here: release the GIL around it.
        std::shared_ptr<const Engine> next = h.engine;
        py::gil_scoped_release release;
        s.Swap(std::move(next));
      }, py::arg("engine"));
}

}  // namespace preflight::python
