#pragma once
// IdentityIQ's LaunchedWorkflows request body, and the gate's refusal of one.
//
// The body, as SailPoint's own answers write it (the LaunchedWorkflow attributes sit under
// their schema URN, TaskResult names the resource IdentityIQ answers with):
//   {"schemas":[".../LaunchedWorkflow", ".../TaskResult"],
//    ".../LaunchedWorkflow":{"workflowName":"LCM Provisioning",
//      "input":[{"key":"identityName","value":NAME},
//               {"key":"plan","value":"<ProvisioningPlan ...>","type":"application/xml"}]}}

#include <string>
#include <string_view>
#include <vector>

namespace preflight {

std::string LaunchedWorkflowJson(std::string_view workflow, std::string_view identity, std::string_view plan_xml,
                                 int indent = 0);

// One violation the gate names in its refusal.
struct GateViolation {
  std::string policy;
  std::string constraint;
};

// The 403 SCIM Error for a launch whose plan would create `violations`: the detail names
// them; the extension (urn kGateExtension) carries identity, workflowName, the violations
// and the whole CheckedPolicyViolation response (`check_response_json`, raw JSON).
std::string GateRefusalJson(std::string_view workflow, std::string_view identity,
                            const std::vector<GateViolation>& violations, std::string_view check_response_json);

}  // namespace preflight
