#pragma once
// The SCIM schema URNs Preflight reads and writes, in one table (RFC 7643/7644 and
// IdentityIQ's SCIM API).

#include <string_view>

namespace preflight::urn {

// RFC 7644 messages.
inline constexpr std::string_view kListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kError = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr std::string_view kBulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
inline constexpr std::string_view kBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
inline constexpr std::string_view kSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
// RFC 7643 core schemas.
inline constexpr std::string_view kCorePrefix = "urn:ietf:params:scim:schemas:core:";
inline constexpr std::string_view kUser = "urn:ietf:params:scim:schemas:core:2.0:User";
// IdentityIQ's schemas.
inline constexpr std::string_view kSailPointPrefix = "urn:ietf:params:scim:schemas:sailpoint:1.0:";
inline constexpr std::string_view kSailPointUser = "urn:ietf:params:scim:schemas:sailpoint:1.0:User";
inline constexpr std::string_view kAccount = "urn:ietf:params:scim:schemas:sailpoint:1.0:Account";
inline constexpr std::string_view kEntitlement = "urn:ietf:params:scim:schemas:sailpoint:1.0:Entitlement";
inline constexpr std::string_view kRole = "urn:ietf:params:scim:schemas:sailpoint:1.0:Role";
inline constexpr std::string_view kApplication = "urn:ietf:params:scim:schemas:sailpoint:1.0:Application";
inline constexpr std::string_view kAccountSchemaPrefix = "urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:";
inline constexpr std::string_view kCheckedPolicyViolation =
    "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation";
inline constexpr std::string_view kPolicyViolation = "urn:ietf:params:scim:schemas:sailpoint:1.0:PolicyViolation";
inline constexpr std::string_view kLaunchedWorkflow = "urn:ietf:params:scim:schemas:sailpoint:1.0:LaunchedWorkflow";
inline constexpr std::string_view kTaskResult = "urn:ietf:params:scim:schemas:sailpoint:1.0:TaskResult";
// Preflight's extension of the check response (diagnostics, explanations).
inline constexpr std::string_view kCheckExtension =
    "urn:ietf:params:scim:schemas:extension:preflight:1.0:CheckedPolicyViolation";
// Preflight's extension of the 403 Error its gate answers for a refused workflow launch.
inline constexpr std::string_view kGateExtension = "urn:ietf:params:scim:schemas:extension:preflight:1.0:Gate";

}  // namespace preflight::urn
