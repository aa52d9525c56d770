// libFuzzer target: arbitrary bytes opened as a compiled snapshot image (engine/image),
// with the checksum verification bypassed so that mutations reach the decoder, twice: a
// full open (every column record bounds-checked first), and a lazy one with no background
// pass, where only the views' on-access checks (engine/model/record_check.h) stand
// between the records and the reads. FUZZ_MAX_LEN=65536
// Oracle: opening never crashes or reads out of bounds (ASan, UBSan); an image that opens
// answers stats, identity lookups, a query and a check without crashing, every failure
// is a clear error, never an internal one, and a full open gives the same answer with the
// fast column check as with the naming one alone.
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

// Opens the bytes with `options` and runs every kind of call on what opens.
void Exercise(const std::shared_ptr<std::vector<uint64_t>>& words, std::string_view bytes,
              const ImageOpenOptions& options) {
  auto snapshot = OpenImageBytes(words, bytes, "fuzz.pfimg", options);
  if (!snapshot.ok()) {
    if (ErrorCodeOf(snapshot.status()) == ErrorCode::kInternal) Fail("opening failed internally", snapshot.status());
    return;
  }
  Engine engine(*snapshot, {}, /*allow_partial=*/true);
  const Snapshot& s = engine.snapshot();
  (void)engine.StatsJson();
  // The calls through the engine fail closed on a bad record; direct reads of the model
  // (as in-tree callers make) may throw CorruptRecord, which is the same failure.
  try {
    for (const IdentityView identity : s.identities()) {
      std::string_view name = s.str(identity.name);
      (void)s.FindIdentity(name);
    }
    for (const Role& role : s.roles()) (void)s.FindRole(s.str(role.name));
  } catch (const CorruptRecord&) {
  }
  QueryParams query;
  query.resource_type = "Users";
  if (auto answer = engine.QueryJson(query); !answer.ok() && ErrorCodeOf(answer.status()) == ErrorCode::kInternal)
    Fail("query failed internally", answer.status());
  query.resource_type = "Accounts";
  if (auto answer = engine.QueryJson(query); !answer.ok() && ErrorCodeOf(answer.status()) == ErrorCode::kInternal)
    Fail("query failed internally", answer.status());
  for (size_t i = 0; i < s.population().identities.size() && i < 4; ++i) {
    CheckFields fields;
    try {
      fields.identity = std::string(s.str(s.population().identities[i].name));
    } catch (const CorruptRecord&) {
      continue;
    }
    fields.plan = std::string(kPlan);
    if (auto answer = engine.CheckFieldsJson(fields); !answer.ok() && ErrorCodeOf(answer.status()) == ErrorCode::kInternal)
      Fail("check failed internally", answer.status());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An image is mapped at a page boundary; give the bytes the same alignment.
  auto words = std::make_shared<std::vector<uint64_t>>((size + 7) / 8);
  if (size > 0) std::memcpy(words->data(), data, size);
  std::string_view bytes(reinterpret_cast<const char*>(words->data()), size);
  ImageOpenOptions full;
  full.verify_checksum = false;
  Exercise(words, bytes, full);
  // The fast column check, which only decides, agrees with the one that names a problem.
  ImageOpenOptions named_only = full;
  named_only.fast_column_check = false;
  const absl::Status fast = OpenImageBytes(words, bytes, "fuzz.pfimg", full).status();
  if (fast != OpenImageBytes(words, bytes, "fuzz.pfimg", named_only).status())
    Fail("the fast and the naming column checks disagree", fast);
  ImageOpenOptions lazy = full;
  lazy.verify = ImageVerify::kLazy;
  lazy.verify_in_background = false;
  Exercise(words, bytes, lazy);
  return 0;
}
