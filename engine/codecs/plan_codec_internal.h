#pragma once
// Shared between the plan codecs (plan_xml_*.cc, plan_json.cc); not part of the API.

#include <string_view>

#include "absl/status/status.h"

namespace preflight::plan_codec_internal {

// Where an extra element or attribute lives; decides which names the decoder would have
// read as known fields (those must never be written back as extras).
enum class XmlContext { kPlan, kAccount, kObject, kAttribute, kPermission, kResult, kValue };
bool IsPortableXmlElement(std::string_view raw, XmlContext context);
bool IsPortableXmlAttribute(std::string_view name, XmlContext context);

}  // namespace preflight::plan_codec_internal

#define PF_RETURN_IF_ERROR(expr)             \
  do {                                       \
    absl::Status pf_status_ = (expr);        \
    if (!pf_status_.ok()) return pf_status_; \
  } while (0)
