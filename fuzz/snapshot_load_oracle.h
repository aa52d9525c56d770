#pragma once
// The oracle shared by the snapshot loader fuzz targets (snapshot_xml_load,
// snapshot_scim_load): one file's text -> a reader -> SnapshotBuilder::Build -> a check
// with an empty plan on the first identity.
// Oracle: never crashes; a rejected file carries a user-input error code (never
// kInternal); a non-strict build always succeeds; a strict build fails exactly when the
// non-strict one reported an error diagnostic; checking a known identity with an empty
// plan never gives kInternal.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/codecs/snapshot_sources.h"
#include "engine/load/snapshot_builder.h"
#include "engine/policy/check.h"
#include "engine/wire/check_response.h"

namespace preflight::fuzz {

[[noreturn]] inline void Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "ORACLE FAILURE: %s: %s\n", what, std::string(s.message()).c_str());
  std::abort();
}

using Reader = absl::Status (*)(std::string_view, std::string_view, SnapshotObjects&, const Limits&);

inline int CheckSnapshotLoad(const uint8_t* data, size_t size, Reader read, const char* file) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SnapshotObjects objects;
  absl::Status status = read(text, file, objects, DefaultLimits());
  if (!status.ok()) {
    if (ErrorCodeOf(status) == ErrorCode::kInternal) Fail("reader internal error", status);
    return 0;
  }
  SnapshotBuilder lenient;
  lenient.objects() = objects;
  auto snapshot = lenient.Build();
  if (!snapshot.ok()) Fail("non-strict build failed", snapshot.status());
  bool has_error = false;
  for (const Diagnostic& d : (*snapshot)->diagnostics()) has_error = has_error || d.severity == Severity::kError;

  LoadOptions strict_options;
  strict_options.strict = true;
  SnapshotBuilder strict(strict_options);
  strict.objects() = objects;
  auto strict_snapshot = strict.Build();
  if (strict_snapshot.ok() == has_error) Fail("strict build disagrees with the error diagnostics", strict_snapshot.status());

  if (!(*snapshot)->identities().empty()) {
    CheckRequest req;
    req.identity = std::string((*snapshot)->str((*snapshot)->identities()[0].name));
    ProvisioningPlan plan;
    auto result = Check(**snapshot, req, plan);
    if (!result.ok() && ErrorCodeOf(result.status()) == ErrorCode::kInternal) Fail("Check internal error", result.status());
    if (result.ok()) (void)CheckResponseJson(req, *result);
  }
  return 0;
}

}  // namespace preflight::fuzz
