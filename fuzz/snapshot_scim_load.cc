// libFuzzer target: a SCIM JSON snapshot file (ListResponse pages or single resources) -> ReadScimJson
// Seeds: tests/corpus/iiq/scim (small files). FUZZ_MAX_LEN=16384
// The oracle: fuzz/snapshot_load_oracle.h, and ReadScimJson (On-Demand) gives what the
// DOM reader gives (ReadScimJsonDom): the same status and message, and the same objects,
// diagnostics and number of query documents.

#include "absl/strings/str_cat.h"
#include "fuzz/snapshot_load_oracle.h"

namespace {

using namespace preflight;

std::string Summary(const absl::Status& status, const SnapshotObjects& o) {
  std::string out = status.ToString();
  for (const IdentityObject& i : o.identities)
    absl::StrAppend(&out, "|i:", i.name, ",", i.id, ",", i.inactive, ",", i.attributes.size(), ",",
                    i.assigned_roles.size(), ",", i.detected_roles.size(), ",", i.accounts.size(), ",",
                    i.where.pointer);
  for (const AccountObject& a : o.accounts)
    absl::StrAppend(&out, "|a:", a.id, ",", a.application, ",", a.identity, ",", a.attributes.size(), ",",
                    a.where.pointer);
  for (const RoleObject& r : o.roles) absl::StrAppend(&out, "|r:", r.name, ",", r.type, ",", r.inheritance.size());
  for (const ApplicationObject& a : o.applications) absl::StrAppend(&out, "|p:", a.name);
  for (const EntitlementObject& e : o.entitlements) absl::StrAppend(&out, "|e:", e.attribute, "=", e.value);
  for (const Diagnostic& d : o.diagnostics) absl::StrAppend(&out, "|d:", d.message, "@", d.where.pointer);
  absl::StrAppend(&out, "|documents:", o.scim_documents.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SnapshotObjects on_demand, dom;
  std::string a = Summary(ReadScimJson(text, "fuzz.json", on_demand), on_demand);
  std::string b = Summary(ReadScimJsonDom(text, "fuzz.json", dom), dom);
  if (a != b) {
    std::fprintf(stderr, "ORACLE FAILURE: On-Demand and DOM readers differ:\n%s\n%s\n", a.c_str(), b.c_str());
    std::abort();
  }
  return preflight::fuzz::CheckSnapshotLoad(data, size, &preflight::ReadScimJson, "fuzz.json");
}
