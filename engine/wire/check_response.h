#pragma once
// The CheckedPolicyViolation response resource.

#include <string>

#include "engine/policy/check.h"
#include "engine/util/json_writer.h"

namespace preflight {

// The response resource exactly as IdentityIQ shapes it: violations, identity,
// schemas, plan, policies, meta. Diagnostics and explanations, when any, go under the
// extension urn:ietf:params:scim:schemas:extension:preflight:1.0:CheckedPolicyViolation.
std::string CheckResponseJson(const CheckRequest& request, const CheckResult& result,
                              const CheckOptions& options = {});
// The same resource as events (options.indent aside, which only the text has).
void WriteCheckResponse(JsonSink& out, const CheckRequest& request, const CheckResult& result,
                        const CheckOptions& options = {});

}  // namespace preflight
