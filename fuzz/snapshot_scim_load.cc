// libFuzzer target: a SCIM JSON snapshot file (ListResponse pages or single resources) -> ReadScimJson
// Seeds: tests/corpus/iiq/scim (small files). FUZZ_MAX_LEN=16384
// The oracle: fuzz/snapshot_load_oracle.h.

#include "fuzz/snapshot_load_oracle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return preflight::fuzz::CheckSnapshotLoad(data, size, &preflight::ReadScimJson, "fuzz.json");
}
