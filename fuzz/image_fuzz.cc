// libFuzzer target: arbitrary bytes opened as a compiled snapshot image (engine/image),
// with the checksum verification bypassed so that mutations reach the decoder. FUZZ_MAX_LEN=65536
// Oracle: opening never crashes or reads out of bounds (ASan, UBSan); an image that opens
// answers stats, identity lookups, a query and a check without crashing, and every
// failure is a clear error, never an internal one.
// Seeds: fuzz/seeds/image_fuzz (the demo snapshot compiled: `preflight snapshot compile
// examples/demo-snapshot -o fuzz/seeds/image_fuzz/demo.pfimg`).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image/image.h"
#include "engine/model/snapshot.h"
#include "engine/preflight.h"

using namespace preflight;

namespace {

[[noreturn]] void Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "ORACLE FAILURE: %s: %s\n", what, std::string(status.message()).c_str());
  std::abort();
}

constexpr std::string_view kPlan =
    "{\"accounts\":[{\"op\":\"Modify\",\"application\":\"Active_Directory\",\"attributes\":"
    "[{\"op\":\"Add\",\"name\":\"groupmbr\",\"value\":\"UnixAdministration\"}]}]}";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An image is mapped at a page boundary; give the bytes the same alignment.
  auto words = std::make_shared<std::vector<uint64_t>>((size + 7) / 8);
  if (size > 0) std::memcpy(words->data(), data, size);
  std::string_view bytes(reinterpret_cast<const char*>(words->data()), size);
  ImageOpenOptions options;
  options.verify_checksum = false;
  auto snapshot = OpenImageBytes(words, bytes, "fuzz.pfimg", options);
  if (!snapshot.ok()) {
    if (ErrorCodeOf(snapshot.status()) == ErrorCode::kInternal) Fail("opening failed internally", snapshot.status());
    return 0;
  }
  Engine engine(*snapshot, {}, /*allow_partial=*/true);
  const Snapshot& s = engine.snapshot();
  (void)engine.StatsJson();
  for (const IdentityView identity : s.identities()) {
    std::string_view name = s.str(identity.name);
    (void)s.FindIdentity(name);
  }
  for (const Role& role : s.roles()) (void)s.FindRole(s.str(role.name));
  QueryParams query;
  query.resource_type = "Users";
  if (auto answer = engine.QueryJson(query); !answer.ok() && ErrorCodeOf(answer.status()) == ErrorCode::kInternal)
    Fail("query failed internally", answer.status());
  if (!s.identities().empty()) {
    CheckFields fields;
    fields.identity = std::string(s.str(s.identities()[0].name));
    fields.plan = std::string(kPlan);
    if (auto answer = engine.CheckFieldsJson(fields); !answer.ok() && ErrorCodeOf(answer.status()) == ErrorCode::kInternal)
      Fail("check failed internally", answer.status());
  }
  return 0;
}
