// Plan form names, media types, detection and dispatch (see plan_codec.h).

#include "engine/codecs/plan_codec.h"

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {

namespace {
constexpr std::string_view kXmlMediaType = "application/xml";
constexpr std::string_view kJsonMediaType = "application/sailpoint.object.ProvisioningPlan+json";
}  // namespace

std::string_view PlanFormatName(PlanFormat f) {
  switch (f) {
    case PlanFormat::kXml: return "xml";
    case PlanFormat::kJson: return "json";
    case PlanFormat::kMap: return "map";
  }
  return "xml";
}

std::optional<PlanFormat> ParsePlanFormatName(std::string_view name) {
  if (name == "xml") return PlanFormat::kXml;
  if (name == "json") return PlanFormat::kJson;
  if (name == "map") return PlanFormat::kMap;
  return std::nullopt;
}

// IIQ's TypedAttributeUtil matches the type case-sensitively; a null type means "string",
// which cannot hold a plan, so it is an error too.
absl::StatusOr<PlanFormat> PlanFormatFromMediaType(std::string_view media_type) {
  if (media_type == kXmlMediaType) return PlanFormat::kXml;
  if (media_type == kJsonMediaType) return PlanFormat::kJson;
  return MakeError(ErrorCode::kInvalidValue,
                   absl::StrCat("unsupported plan type '", ToAbsl(media_type), "' (expected '", ToAbsl(kXmlMediaType),
                                "' or '", ToAbsl(kJsonMediaType), "')"));
}

std::optional<PlanFormat> DetectPlanFormat(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t i = 0;
  while (i < text.size() && blank(text[i])) ++i;
  if (i == text.size()) return std::nullopt;
  if (text[i] == '<') return PlanFormat::kXml;
  if (text[i] == '[') return PlanFormat::kJson;
  if (text[i] != '{') return std::nullopt;
  ++i;
  while (i < text.size() && blank(text[i])) ++i;
  if (i == text.size() || text[i] == '"' || text[i] == '}') return PlanFormat::kJson;
  return PlanFormat::kMap;
}

absl::StatusOr<ProvisioningPlan> DecodePlan(std::string_view text, PlanFormat format, const Limits& limits) {
  switch (format) {
    case PlanFormat::kXml: return DecodePlanXml(text, limits);
    case PlanFormat::kJson: return DecodePlanJson(text, limits);
    case PlanFormat::kMap: return DecodePlanMap(text, limits);
  }
  return MakeError(ErrorCode::kInternal, "unknown plan format");
}

}  // namespace preflight
