#pragma once
// The SCIM Error resource (RFC 7644 section 3.12) as IdentityIQ shapes it: `status` is a
// JSON string ("400"), `scimType` names the problem, `detail` the message with its location.

#include <string>

#include "absl/status/status.h"

namespace preflight {

std::string ScimErrorJson(const absl::Status& status, int indent = 0);
// 400 for bad input, 404 for an absent resource, 500 for an internal failure.
int HttpStatusOf(const absl::Status& status);

}  // namespace preflight
