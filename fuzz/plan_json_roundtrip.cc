// libFuzzer target: ProvisioningPlan JSON (with the Map.toString fallback of DecodePlanJson).
// Oracle: whatever DecodePlanJson accepts must survive EncodePlanJson -> DecodePlanJson
// unchanged, compact and indented, and the encoding must be a fixed point.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/codecs/plan_codec.h"

namespace {
constexpr size_t kMaxInput = 64 * 1024;

[[noreturn]] void Fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "plan_json_roundtrip: %s\n--- first:\n%s\n--- second:\n%s\n", what, a.c_str(), b.c_str());
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
  absl::StatusOr<preflight::ProvisioningPlan> first = preflight::DecodePlanJson(text, limits);
  if (!first.ok()) return 0;

  preflight::Limits relaxed = limits;
  relaxed.max_input_bytes = SIZE_MAX;
  for (int indent : {0, 2}) {
    std::string json = preflight::EncodePlanJson(*first, indent);
    absl::StatusOr<preflight::ProvisioningPlan> second = preflight::DecodePlanJson(json, relaxed);
    if (!second.ok()) Fail("the encoding does not decode", json, second.status().ToString());
    if (!(*second == *first)) Fail("decode(encode(p)) != p", json, preflight::EncodePlanJson(*second, indent));
    std::string again = preflight::EncodePlanJson(*second, indent);
    if (again != json) Fail("the encoding is not a fixed point", json, again);
  }
  return 0;
}
