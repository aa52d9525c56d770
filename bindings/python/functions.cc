// Module-level functions: plan conversion and SCIM filters, which need no snapshot.

#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings/python/errors.h"
#include "bindings/python/limits.h"
#include "bindings/python/register.h"

namespace preflight::python {

void RegisterFunctions(py::module_& m) {
  m.def("convert_plan", [](const std::string& text, const std::string& to, const std::optional<std::string>& from,
                           int indent, const LimitMap& limits) {
    Limits l = LimitsFrom(limits);
    return Released([&] { return ConvertPlan(text, to, from.value_or(""), indent, l); });
  }, py::arg("text"), py::arg("to"), py::arg("from_") = py::none(), py::arg("indent") = 0,
        py::arg("limits") = py::none());
  m.def("plan_workflow", [](const std::string& identity, const std::string& plan, const std::string& workflow,
                            const std::optional<std::string>& plan_type, int indent, const LimitMap& limits) {
    Limits l = LimitsFrom(limits);
    WorkflowLaunch launch;
    launch.identity = identity;
    launch.plan = plan;
    launch.workflow = workflow;
    launch.plan_type = plan_type.value_or("");
    return Released([&] { return PlanWorkflowJson(launch, indent, l); });
  }, py::arg("identity"), py::arg("plan"), py::arg("workflow") = "LCM Provisioning", py::arg("plan_type") = py::none(),
        py::arg("indent") = 0, py::arg("limits") = py::none());
  m.def("detect_plan_format", [](const std::string& text) -> std::optional<std::string> {
    std::string_view name = DetectPlanFormatName(text);
    if (name.empty()) return std::nullopt;
    return std::string(name);
  }, py::arg("text"));
  m.def("parse_filter", [](const std::string& text, const LimitMap& limits) {
    Limits l = LimitsFrom(limits);
    return Released([&] { return FilterAstJson(text, l); });
  }, py::arg("text"), py::arg("limits") = py::none());
  m.def("path_sexpr", [](const std::string& text, const LimitMap& limits) {
    Limits l = LimitsFrom(limits);
    return Released([&] { return PathSexpr(text, l); });
  }, py::arg("text"), py::arg("limits") = py::none());
  m.def("evaluate_filter", [](const std::string& filter, const std::string& resource_json, const LimitMap& limits) {
    Limits l = LimitsFrom(limits);
    return Released([&] { return EvalFilter(filter, resource_json, l); });
  }, py::arg("filter"), py::arg("resource_json"), py::arg("limits") = py::none());
  m.def("split_attribute_list", [](const std::string& list) { return SplitAttributeList(list); }, py::arg("list"));
}

}  // namespace preflight::python
