// The snapshot after a change: the base sources read again, then the change files'
// objects replacing those of the same name (or added), then built like any snapshot.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/load/snapshot_builder.h"
#include "engine/scan/scan.h"

namespace preflight {
namespace {

// Replaces the objects of `base` named like one of `changed`, else appends.
template <typename T>
void Replace(std::vector<T>& base, std::vector<T>& changed) {
  for (T& object : changed) {
    auto same = [&](const T& b) { return b.name == object.name; };
    auto it = std::find_if(base.begin(), base.end(), same);
    if (it == base.end()) {
      base.push_back(std::move(object));
      continue;
    }
    *it = std::move(object);
    // Any further object of that name in the base would shadow or clash: drop it.
    base.erase(std::remove_if(it + 1, base.end(), same), base.end());
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> LoadChangedSnapshot(const std::vector<std::string>& base,
                                                                    const std::vector<std::string>& changes,
                                                                    const std::vector<std::string>& activate,
                                                                    const Limits& limits) {
  LoadOptions options;
  options.limits = limits;
  SnapshotBuilder builder(options), change(options);
  for (const std::string& path : base)
    if (auto st = builder.AddPath(path); !st.ok()) return st;
  for (const std::string& path : changes)
    if (auto st = change.AddPath(path); !st.ok()) return st;
  SnapshotObjects& objects = builder.objects();
  SnapshotObjects& changed = change.objects();
  for (const Diagnostic& d : changed.diagnostics)
    if (d.severity == Severity::kError)
      return MakeError(ErrorCode::kInvalidValue,
                       d.where.file.empty() ? absl::StrCat("change: ", d.object, ": ", d.message)
                                            : absl::StrCat("change: ", d.message),
                       d.where);
  UnpackIdentities(objects);  // the load packs them; replaced by name here
  UnpackIdentities(changed);
  Replace(objects.roles, changed.roles);
  Replace(objects.policies, changed.policies);
  Replace(objects.populations, changed.populations);
  Replace(objects.identities, changed.identities);
  Replace(objects.applications, changed.applications);
  for (const std::string& name : activate) {
    auto it = std::find_if(objects.policies.begin(), objects.policies.end(),
                           [&](const PolicyObject& p) { return p.name == name || p.id == name; });
    if (it == objects.policies.end())
      return MakeError(ErrorCode::kInvalidValue, absl::StrCat("--activate: no policy '", name, "' in the snapshot"));
    it->state = "Active";
  }
  auto snapshot = builder.Build();
  if (!snapshot.ok()) return snapshot.status();
  for (const Diagnostic& d : (*snapshot)->diagnostics())
    if (d.severity == Severity::kError)
      return MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat("the changed snapshot does not load: ", d.object, ": ", d.message), d.where);
  return snapshot;
}

}  // namespace preflight
