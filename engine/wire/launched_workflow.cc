#include "engine/wire/launched_workflow.h"

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "engine/util/scim_urns.h"

namespace preflight {

std::string LaunchedWorkflowJson(std::string_view workflow, std::string_view identity, std::string_view plan_xml,
                                 int indent) {
  JsonWriter w(indent);
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kLaunchedWorkflow).String(urn::kTaskResult).EndArray();
  w.Key(urn::kLaunchedWorkflow).BeginObject();
  w.Field("workflowName", workflow);
  w.Key("input").BeginArray();
  w.BeginObject().Field("key", "identityName").Field("value", identity).EndObject();
  w.BeginObject().Field("key", "plan").Field("value", plan_xml).Field("type", "application/xml").EndObject();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

std::string GateRefusalJson(std::string_view workflow, std::string_view identity,
                            const std::vector<GateViolation>& violations, std::string_view check_response_json) {
  std::string detail = absl::StrCat("workflow '", ToAbsl(workflow), "' not launched: the plan would create ",
                                    violations.size(), violations.size() == 1 ? " policy violation" : " policy violations",
                                    " for identity '", ToAbsl(identity), "'");
  for (size_t i = 0; i < violations.size(); ++i)
    absl::StrAppend(&detail, i == 0 ? ": " : "; ", violations[i].policy, " / ", violations[i].constraint);
  JsonWriter w;
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kError).String(urn::kGateExtension).EndArray();
  w.Field("status", "403");
  w.Field("detail", detail);
  w.Key(urn::kGateExtension).BeginObject();
  w.Field("workflowName", workflow);
  w.Field("identity", identity);
  w.Key("violations").BeginArray();
  for (const GateViolation& v : violations)
    w.BeginObject().Field("policyName", v.policy).Field("constraintName", v.constraint).EndObject();
  w.EndArray();
  w.Key("checkedPolicyViolation").Raw(check_response_json);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
