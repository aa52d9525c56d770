// libFuzzer target: the lenient Map.toString form (grammar/plan_map.h). The parser must never
// crash or recurse past its depth budget. Oracle for accepted plans: the canonical JSON of the
// plan decodes to the same plan through the JSON decoder and through the map-form decoder
// (flexjson's tokenizer reads JSON too), and the JSON encoding is a fixed point.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/codecs/plan_codec.h"
#include "grammar/plan_map.h"

namespace {
constexpr size_t kMaxInput = 64 * 1024;

[[noreturn]] void Fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "plan_map_parse: %s\n--- first:\n%s\n--- second:\n%s\n", what, a.c_str(), b.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  preflight::MapFormTree tree;
  (void)preflight::ParseMapForm(text, 32, tree).ok();
  preflight::Limits limits;
  limits.max_nesting_depth = 32;
  limits.max_plan_values = 10000;
  limits.max_plan_requests = 1000;
  absl::StatusOr<preflight::ProvisioningPlan> plan = preflight::DecodePlanMap(text, limits);
  if (!plan.ok()) return 0;

  preflight::Limits relaxed = limits;
  relaxed.max_input_bytes = SIZE_MAX;
  std::string json = preflight::EncodePlanJson(*plan);
  absl::StatusOr<preflight::ProvisioningPlan> via_json = preflight::DecodePlanJson(json, relaxed);
  if (!via_json.ok()) Fail("the JSON encoding does not decode", json, via_json.status().ToString());
  if (!(*via_json == *plan)) Fail("JSON decode(encode(p)) != p", json, preflight::EncodePlanJson(*via_json));
  absl::StatusOr<preflight::ProvisioningPlan> via_map = preflight::DecodePlanMap(json, relaxed);
  if (!via_map.ok()) Fail("the JSON encoding does not read as map form", json, via_map.status().ToString());
  if (!(*via_map == *plan)) Fail("map decode(encode(p)) != p", json, preflight::EncodePlanJson(*via_map));
  if (preflight::EncodePlanJson(*via_json) != json) Fail("JSON is not a fixed point", json, preflight::EncodePlanJson(*via_json));
  return 0;
}
