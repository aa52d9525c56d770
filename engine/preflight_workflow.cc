// The facade's workflow pieces: the LaunchedWorkflows body for a plan (`plan workflow`),
// and the gate that checks such a body before it reaches IdentityIQ (`serve --gate`).

#include "absl/strings/str_cat.h"
#include "engine/codecs/json_strict.h"
#include "engine/preflight.h"
#include "engine/util/scim_urns.h"
#include "engine/wire/launched_workflow.h"
#include "simdjson.h"

namespace preflight {
namespace {

absl::Status BadLaunch(std::string_view detail) {
  return MakeError(ErrorCode::kInvalidValue, absl::StrCat("LaunchedWorkflows body: ", ToAbsl(detail)));
}

GateVerdict Refused(const absl::Status& status) {
  GateVerdict v;
  v.launches_plan = true;
  v.allowed = false;
  v.status = HttpStatusOf(status);
  v.body = ScimErrorJson(status);
  return v;
}

}  // namespace

absl::StatusOr<std::string> PlanWorkflowJson(const WorkflowLaunch& launch, int indent, const Limits& limits) {
  if (launch.identity.empty()) return MakeError(ErrorCode::kInvalidValue, "plan workflow needs an identity name");
  if (launch.workflow.empty()) return MakeError(ErrorCode::kInvalidValue, "plan workflow needs a workflow name");
  auto xml = ConvertPlan(launch.plan, "xml", launch.plan_type, 0, limits);
  if (!xml.ok()) return xml.status();
  // The value is the element itself, as IdentityIQ's answers write it: no XML declaration
  // or DOCTYPE inside a JSON string (XMLObjectFactory reads it either way).
  std::string_view element = *xml;
  if (size_t at = element.find("<ProvisioningPlan"); at != std::string_view::npos) element.remove_prefix(at);
  return LaunchedWorkflowJson(launch.workflow, launch.identity, element, indent);
}

absl::StatusOr<std::optional<WorkflowLaunch>> ReadWorkflowLaunch(std::string_view body, const Limits& limits) {
  if (body.size() > limits.max_input_bytes)
    return MakeError(ErrorCode::kTooMany, absl::StrCat("LaunchedWorkflows body of ", body.size(),
                                                       " bytes exceeds max_input_bytes ", limits.max_input_bytes));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const size_t bom = json_strict::BomLength(body);
  const int depth = static_cast<int>(limits.max_nesting_depth);
  if (auto err = json_strict::Parse(parser, body.substr(bom), depth, root); err != simdjson::SUCCESS)
    return json_strict::ParseError(err, "LaunchedWorkflows body", body, bom, depth);
  // A repeated key is read differently by different parsers (simdjson finds the first,
  // IdentityIQ's Java readers keep the last): the gate must read what IdentityIQ will.
  if (auto dup = json_strict::FirstDuplicateKey(root))
    return BadLaunch(absl::StrCat("the key \"", dup->key, "\" is repeated at ", dup->pointer));
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return BadLaunch("not a JSON object");
  // The attributes sit under their schema URN (IdentityIQ's form); accept them at the top too.
  simdjson::dom::object launched = top;
  simdjson::dom::element nested;
  if (top.at_key(urn::kLaunchedWorkflow).get(nested) == simdjson::SUCCESS) {
    if (nested.get_object().get(launched) != simdjson::SUCCESS)
      return BadLaunch(absl::StrCat("\"", ToAbsl(urn::kLaunchedWorkflow), "\" is not an object"));
    simdjson::dom::element other;
    if (top.at_key("input").get(other) == simdjson::SUCCESS)  // two readings: which would IdentityIQ take?
      return BadLaunch("\"input\" both at the top level and under the LaunchedWorkflow schema");
  }
  WorkflowLaunch launch;
  launch.workflow.clear();
  std::string_view text;
  if (launched.at_key("workflowName").get_string().get(text) == simdjson::SUCCESS) launch.workflow = text;
  simdjson::dom::array inputs;
  simdjson::dom::element input_element;
  if (launched.at_key("input").get(input_element) != simdjson::SUCCESS) return std::nullopt;
  if (input_element.get_array().get(inputs) != simdjson::SUCCESS) return BadLaunch("\"input\" is not an array");
  bool has_plan = false, has_identity = false;
  for (simdjson::dom::element item : inputs) {
    simdjson::dom::object entry;
    if (item.get_object().get(entry) != simdjson::SUCCESS) return BadLaunch("an \"input\" entry is not an object");
    std::string_view key;
    if (entry.at_key("key").get_string().get(key) != simdjson::SUCCESS) continue;
    if (key == "plan") {
      if (has_plan) return BadLaunch("two \"plan\" inputs");
      has_plan = true;
      if (entry.at_key("value").get_string().get(text) != simdjson::SUCCESS)
        return BadLaunch("the \"plan\" input's value is not a string");
      launch.plan = text;
      if (entry.at_key("type").get_string().get(text) == simdjson::SUCCESS) launch.plan_type = text;
    } else if (key == "identityName") {
      if (has_identity) return BadLaunch("two \"identityName\" inputs");
      has_identity = true;
      if (entry.at_key("value").get_string().get(text) != simdjson::SUCCESS)
        return BadLaunch("the \"identityName\" input's value is not a string");
      launch.identity = text;
    }
  }
  if (!has_plan) return std::nullopt;
  return launch;
}

GateVerdict Engine::GateWorkflowLaunch(std::string_view body) const {
  auto launch = ReadWorkflowLaunch(body, limits_);
  if (!launch.ok()) return Refused(launch.status());
  if (!launch->has_value()) return GateVerdict{};
  const WorkflowLaunch& l = **launch;
  if (l.identity.empty())
    return Refused(BadLaunch("a \"plan\" input without an \"identityName\" input cannot be checked"));
  CheckFields fields;
  fields.identity = l.identity;
  fields.plan = l.plan;
  fields.plan_type = l.plan_type;
  auto response = CheckFieldsJson(fields);
  if (!response.ok()) return Refused(response.status());
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  if (parser.parse(*response).get(parsed) != simdjson::SUCCESS)
    return Refused(MakeError(ErrorCode::kInternal, "the gate could not read its own check response"));
  std::vector<GateViolation> violations;
  simdjson::dom::array list;
  if (parsed.at_key("violations").get_array().get(list) == simdjson::SUCCESS) {
    for (simdjson::dom::element v : list) {
      GateViolation gv;
      std::string_view s;
      if (v.at_key("policyName").get_string().get(s) == simdjson::SUCCESS) gv.policy = s;
      if (v.at_key("constraintName").get_string().get(s) == simdjson::SUCCESS) gv.constraint = s;
      violations.push_back(std::move(gv));
    }
  }
  GateVerdict verdict;
  verdict.launches_plan = true;
  verdict.violations = violations.size();
  if (violations.empty()) return verdict;
  verdict.allowed = false;
  verdict.status = 403;
  verdict.body = GateRefusalJson(l.workflow, l.identity, violations, *response);
  return verdict;
}

}  // namespace preflight
