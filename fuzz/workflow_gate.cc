// libFuzzer target: the gate in front of IdentityIQ's LaunchedWorkflows (serve --gate), on the
// demo snapshot. FUZZ_MAX_LEN=4096
// Oracle, for any body:
//   - reading it never fails as an internal error, and the gate never answers 5xx;
//   - a body without a plan input is forwarded untouched (launches_plan false, allowed);
//   - a body whose launch reads is allowed exactly when the same identity and plan, checked
//     through the facade, answer without a violation; refused otherwise (fail-closed: a plan
//     that does not check is refused too).
// Seeds: fuzz/seeds/workflow_gate (bodies as `preflight plan workflow` writes them).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/preflight.h"

using namespace preflight;

namespace {

[[noreturn]] void Fail(const char* what, std::string_view body) {
  std::fprintf(stderr, "ORACLE FAILURE: %s\n%.*s\n", what, static_cast<int>(body.size()), body.data());
  std::abort();
}

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const Engine& engine = Demo();
  auto launch = ReadWorkflowLaunch(body, engine.limits());
  if (!launch.ok() && ErrorCodeOf(launch.status()) == ErrorCode::kInternal) Fail("reading the body failed internally", body);
  GateVerdict verdict = engine.GateWorkflowLaunch(body);
  if (verdict.status >= 500) Fail("the gate answered 5xx", body);
  if (!verdict.allowed && verdict.body.empty()) Fail("refused without a SCIM error", body);
  if (launch.ok() && !launch->has_value() && (verdict.launches_plan || !verdict.allowed))
    Fail("a body without a plan input was not forwarded untouched", body);
  if (launch.ok() && launch->has_value() && !(*launch)->identity.empty()) {
    CheckFields fields{(*launch)->identity, (*launch)->plan, (*launch)->plan_type, std::nullopt};
    auto checked = engine.CheckFieldsJson(fields);
    const bool clean = checked.ok() && checked->find("\"violations\":") == std::string::npos;
    if (verdict.allowed != clean) Fail(clean ? "a clean launch was refused" : "a violating or unchecked launch was allowed", body);
  }
  return 0;
}
