// libFuzzer target: ProvisioningPlan XML. Oracle: whatever DecodePlanXml accepts must survive
// encode -> decode unchanged (model equality), and the canonical encoding must be a fixed
// point. Rejected inputs only have to fail cleanly (a status, no crash).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/codecs/plan_codec.h"

namespace {
constexpr size_t kMaxInput = 64 * 1024;  // size cap: bigger inputs add time, not coverage

[[noreturn]] void Fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "plan_xml_roundtrip: %s\n--- first:\n%s\n--- second:\n%s\n", what, a.c_str(), b.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  preflight::Limits limits;
  limits.max_nesting_depth = 32;
  limits.max_plan_values = 10000;
  limits.max_plan_requests = 1000;
  absl::StatusOr<preflight::ProvisioningPlan> first = preflight::DecodePlanXml(text, limits);
  if (!first.ok()) return 0;

  std::string xml = preflight::EncodePlanXml(*first);
  preflight::Limits relaxed = limits;
  relaxed.max_input_bytes = SIZE_MAX;  // escaping may make the encoding longer than the input
  absl::StatusOr<preflight::ProvisioningPlan> second = preflight::DecodePlanXml(xml, relaxed);
  if (!second.ok()) Fail("the encoding does not decode", xml, second.status().ToString());
  if (!(*second == *first)) Fail("decode(encode(p)) != p", xml, preflight::EncodePlanXml(*second));
  std::string again = preflight::EncodePlanXml(*second);
  if (again != xml) Fail("the encoding is not a fixed point", xml, again);
  return 0;
}
