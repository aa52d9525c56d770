// libFuzzer target: a SCIM JSON snapshot file (ListResponse pages or single resources) -> ReadScimJson
// Seeds: tests/corpus/iiq/scim (small files). FUZZ_MAX_LEN=16384
// The oracle: fuzz/snapshot_load_oracle.h, and ReadScimJson (On-Demand) gives what the
// DOM reader gives (ReadScimJsonDom): the same status and message, and the same objects,
// diagnostics and number of query documents; and so does the same text read from a file
// a block at a time (ReadScimJsonFile, which the loader uses for exports in lines).

#include <algorithm>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "engine/codecs/scim_stream.h"
#include "fuzz/snapshot_load_oracle.h"

namespace {

using namespace preflight;

// The status's code, message and payloads; the payloads sorted, since absl::Status keeps
// them in no particular order (ToString() of two equal statuses can differ).
std::string StatusText(const absl::Status& status) {
  std::vector<std::string> payloads;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    payloads.push_back(absl::StrCat(url, "=", std::string(payload)));
  });
  std::sort(payloads.begin(), payloads.end());
  std::string out = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  for (const std::string& p : payloads) absl::StrAppend(&out, " [", p, "]");
  return out;
}

std::string Summary(const absl::Status& status, const SnapshotObjects& o) {
  std::string out = StatusText(status);
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
  // The text as a file (in memory), read a block at a time too. Every reading names the
  // file's path, so that their summaries compare as they are (replacing the path in one
  // of them afterwards would also replace it where the input itself holds it).
  static const int fd = memfd_create("fuzz.json", 0);
  static const std::string path = fd >= 0 ? absl::StrCat("/proc/self/fd/", fd) : "fuzz.json";
  SnapshotObjects on_demand, dom;
  std::string a = Summary(ReadScimJson(text, path, on_demand), on_demand);
  std::string b = Summary(ReadScimJsonDom(text, path, dom), dom);
  if (a != b) {
    std::fprintf(stderr, "ORACLE FAILURE: On-Demand and DOM readers differ:\n%s\n%s\n", a.c_str(), b.c_str());
    std::abort();
  }
  if (fd >= 0 && ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == static_cast<ssize_t>(size)) {
    SnapshotObjects from_file;
    snapshot_sources_internal::ScimParsers parsers;
    absl::Status status = ReadScimJsonFile(parsers, path, from_file, DefaultLimits(), false);
    std::string c = Summary(status, from_file);
    if (a != c) {
      std::fprintf(stderr, "ORACLE FAILURE: the text and its file read differently:\n%s\n%s\n", a.c_str(), c.c_str());
      std::abort();
    }
  }
  return preflight::fuzz::CheckSnapshotLoad(data, size, &preflight::ReadScimJson, "fuzz.json");
}
