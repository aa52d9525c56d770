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
#include <vector>

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

// One thread's plan, decoded again for every request (the check's path): the strings and
// attribute lists of the last plan are kept and filled again by the next decode, so that a
// plan like the last one decodes without allocating (plan_json.cc). Never shared.
struct PlanScratch {
  ProvisioningPlan plan;  // the last plan decoded (unspecified after a failed decode)
  std::vector<std::string> strings;  // spare buffers, longer than a string keeps inline
  std::vector<std::vector<AttributeRequest>> attribute_lists;  // spare, empty, with capacity
  std::vector<std::vector<Value>> value_lists;                 // the same, for list values
};
// DecodePlan into scratch.plan: the same plan, or the same error. The JSON form reuses the
// scratch's buffers; the others are decoded as DecodePlan does and moved in.
absl::Status DecodePlanInto(std::string_view text, PlanFormat format, const Limits& limits, PlanScratch& scratch);

// Canonical encodings: decode(encode(p)) == p for every p a decoder returns.
std::string EncodePlanXml(const ProvisioningPlan& plan);
std::string EncodePlanJson(const ProvisioningPlan& plan, int indent = 0);

}  // namespace preflight
