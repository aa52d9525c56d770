// libFuzzer target: the fuzzer's bytes drive the random snapshot / plan generator
// (tests/random_snapshot.h) through FuzzedDataProvider; the engine's Check() (with the
// constraint index, and without it) must equal the reference checker
// (tests/reference_checker.h). Aborts on a mismatch, printing the case as IIQ XML.
//
// PREFLIGHT_FUZZ_ENGINE_CHOICES=1 (or letters n/s/o, see Options) in the environment makes the reference take the
// engine's side at the known divergences (tests/reference_checker.h RefOptions), so
// the run looks for new mismatches only. FUZZ_MAX_LEN=1024

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/random_snapshot.h"

using namespace preflight;
using namespace preflight::testing;

namespace {

class FuzzChoices : public Choices {
 public:
  explicit FuzzChoices(FuzzedDataProvider& p) : p_(p) {}
  // Exhausted input gives 0 (the first choice) from here on: every input is valid.
  uint32_t Below(uint32_t n) override { return n <= 1 ? 0 : p_.ConsumeIntegralInRange<uint32_t>(0, n - 1); }

 private:
  FuzzedDataProvider& p_;
};

CompareOptions Options(bool use_index) {
  CompareOptions o;
  o.use_constraint_index = use_index;
  // "1" = all known divergences on the engine's side, or letters: n (null bundle lists,
  // 4.2), s (schema dropping of role expansion, 3.4), o (role expansion order, 2.3).
  static const std::string env = std::getenv("PREFLIGHT_FUZZ_ENGINE_CHOICES") ? std::getenv("PREFLIGHT_FUZZ_ENGINE_CHOICES") : "";
  auto has = [&](char ch) { return env.find('1') != std::string::npos || env.find(ch) != std::string::npos; };
  if (has('n')) o.null_lists_match_anything = false;
  if (has('s')) o.drop_unschema_expansions = false;
  if (has('o')) o.expansion_in_document_order = false;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  FuzzChoices choices(provider);
  RandomCase c = GenerateCase(choices);
  for (bool use_index : {true, false}) {
    Comparison cmp = CompareCase(c, Options(use_index));
    if (cmp.skipped || !cmp.mismatch) continue;
    std::fprintf(stderr, "MISMATCH use_constraint_index=%d\n%s--- engine:\n%s--- reference:\n%s", use_index,
                 DescribeCase(c).c_str(), cmp.engine.c_str(), cmp.reference.c_str());
    std::abort();
  }
  return 0;
}
