// `_preflight.Engine` and `_preflight.SharedEngine`: facade calls with the GIL released,
// JSON text back (the pure-Python layer json.loads it), errors through RaiseStatus.

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

EngineHandle Load(const std::vector<std::string>& paths, bool allow_partial, const LimitMap& limits) {
  EngineOptions options;
  options.limits = LimitsFrom(limits);
  options.allow_partial = allow_partial;
  return {Released([&] { return Engine::Load(paths, options); })};
}

std::string CheckJson(const EngineHandle& h, const std::string& body, bool explain, int indent) {
  return Released([&] { return h.engine->CheckJson(body, Options(explain, indent)); });
}

std::string CheckFieldsJson(const EngineHandle& h, const std::string& identity, const std::string& plan,
                            const std::optional<std::string>& plan_type,
                            const std::optional<std::vector<std::string>>& policies, bool explain, int indent) {
  CheckFields fields{identity, plan, plan_type.value_or(""), policies};
  return Released([&] { return h.engine->CheckFieldsJson(fields, Options(explain, indent)); });
}

// One entry per request: the response text, or the exception instance for a failed one.
py::list CheckBatch(const EngineHandle& h, const std::vector<std::string>& bodies, bool explain, int indent) {
  auto results = Released([&] { return h.engine->CheckBatchJson(bodies, Options(explain, indent)); });
  py::list out;
  for (auto& r : results) {
    if (r.ok()) out.append(py::str(*r));
    else out.append(ExceptionFor(r.status()));
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
      .def_static("load", &Load, py::arg("paths"), py::arg("allow_partial") = false, py::arg("limits") = py::none())
      .def("check_json", &CheckJson, py::arg("body"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("check_fields", &CheckFieldsJson, py::arg("identity"), py::arg("plan"), py::arg("plan_type"),
           py::arg("policies"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("check_batch", &CheckBatch, py::arg("bodies"), py::arg("explain") = false, py::arg("indent") = 0)
      .def("bench_check", &BenchCheck, py::arg("body"), py::arg("n"))
      .def("stats", [](const EngineHandle& h) { return h.engine->StatsJson(); })
      .def("diagnostics", [](const EngineHandle& h) { return h.engine->DiagnosticsJson(); })
      .def("info", &Info)
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
