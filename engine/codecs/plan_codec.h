#pragma once
// ProvisioningPlan codecs: IIQ XML (pugixml), the toMap JSON
// (application/sailpoint.object.ProvisioningPlan+json, simdjson) and the lenient Java
// Map.toString form of the official example (grammar/plan_map). Decoders are strict:
// a malformed or half-read plan is an error with a location, never a partial success, and a
// text has one reading or none (issue 14): a key repeated in one JSON object or map is
// invalidValue with its JSON pointer; XML follows plan_xml_strict.h; a leading UTF-8 BOM is
// skipped; nesting stops at min(max_nesting_depth, kMaxNestingDepthCap).

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/plan.h"
#include "engine/util/limits.h"

namespace preflight {

enum class PlanFormat { kXml, kJson, kMap };

std::string_view PlanFormatName(PlanFormat f);                 // "xml", "json", "map"
std::optional<PlanFormat> ParsePlanFormatName(std::string_view name);

// The CheckedPolicyViolations `plan.type`: "application/xml" -> kXml,
// "application/sailpoint.object.ProvisioningPlan+json" -> kJson (whose decoder also
// takes the Map.toString form). Anything else is invalidValue.
absl::StatusOr<PlanFormat> PlanFormatFromMediaType(std::string_view media_type);

// Guesses the form from the first non-blank character: '<' XML, '{"' JSON, '{' map.
std::optional<PlanFormat> DetectPlanFormat(std::string_view text);

absl::StatusOr<ProvisioningPlan> DecodePlanXml(std::string_view text, const Limits& limits = DefaultLimits());
// Strict JSON first; when the text is not JSON, the lenient Map.toString form (as
// IIQ 7.x's flexjson read it). Errors carry a JSON pointer or line/column.
absl::StatusOr<ProvisioningPlan> DecodePlanJson(std::string_view text, const Limits& limits = DefaultLimits());
// The lenient Map.toString form only (`{accounts=[{op=Modify, ...}]}`).
absl::StatusOr<ProvisioningPlan> DecodePlanMap(std::string_view text, const Limits& limits = DefaultLimits());
absl::StatusOr<ProvisioningPlan> DecodePlan(std::string_view text, PlanFormat format,
                                            const Limits& limits = DefaultLimits());

// Canonical encodings: decode(encode(p)) == p for every p a decoder returns.
std::string EncodePlanXml(const ProvisioningPlan& plan);
std::string EncodePlanJson(const ProvisioningPlan& plan, int indent = 0);

}  // namespace preflight
