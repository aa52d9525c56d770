// libFuzzer target: a CheckedPolicyViolations request body -> ParseCheckRequest ->
// Check against the demo snapshot (examples/demo-snapshot, loaded once) -> response JSON.
// Oracle: never crashes; every error is a user-input error (invalidValue,
// invalidSyntax, tooMany, ...), never kInternal; the ScimErrorJson / CheckResponseJson
// of every outcome is produced; the batch form gives the same answer as the single
// one. Seeds: examples/request.json and variants. FUZZ_MAX_LEN=8192

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/wire/check_response.h"
#include "engine/preflight.h"

using namespace preflight;

namespace {

const Engine& Demo() {
  static const std::shared_ptr<const Engine> engine = [] {
    auto e = Engine::Load({PREFLIGHT_EXAMPLES_DIR "/demo-snapshot"});
    if (!e.ok()) {
      std::fprintf(stderr, "cannot load the demo snapshot: %s\n", std::string(e.status().message()).c_str());
      std::abort();
    }
    return *e;
  }();
  return *engine;
}

[[noreturn]] void Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "ORACLE FAILURE: %s: %s\n", what, std::string(s.message()).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Engine& engine = Demo();
  std::string body(reinterpret_cast<const char*>(data), size);
  auto request = ParseCheckRequest(body);
  if (!request.ok()) {
    if (ErrorCodeOf(request.status()) == ErrorCode::kInternal) Fail("ParseCheckRequest internal error", request.status());
    (void)ScimErrorJson(request.status());
    return 0;
  }
  auto result = Check(engine.snapshot(), *request, CheckOptions{}, engine.limits());
  if (!result.ok()) {
    if (ErrorCodeOf(result.status()) == ErrorCode::kInternal) Fail("Check internal error", result.status());
    (void)ScimErrorJson(result.status());
  } else {
    (void)CheckResponseJson(*request, *result);
  }
  // The JSON entry point and the batch form must agree with each other.
  auto single = engine.CheckJson(body);
  auto batch = engine.CheckBatchJson({body});
  if (!batch.ok() || batch->size() != 1 || (*batch)[0].ok() != single.ok() ||
      (single.ok() && *single != *(*batch)[0])) {
    std::fprintf(stderr, "ORACLE FAILURE: CheckJson and CheckBatchJson disagree\n");
    std::abort();
  }
  if (single.ok() != result.ok()) {
    std::fprintf(stderr, "ORACLE FAILURE: CheckJson ok=%d but ParseCheckRequest+Check ok=%d\n", single.ok(), result.ok());
    std::abort();
  }
  return 0;
}
