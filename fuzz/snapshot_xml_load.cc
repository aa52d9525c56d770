// libFuzzer target: an IdentityIQ XML snapshot file -> ReadIiqXml -> SnapshotBuilder::Build -> a check.
// Seeds: examples/demo-snapshot, tests/corpus/iiq (small files). FUZZ_MAX_LEN=16384
// The oracle: fuzz/snapshot_load_oracle.h.

#include "fuzz/snapshot_load_oracle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return preflight::fuzz::CheckSnapshotLoad(data, size, &preflight::ReadIiqXml, "fuzz.xml");
}
