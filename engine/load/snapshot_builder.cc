#include "engine/load/snapshot_builder.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/load/build_context.h"
#include "engine/query/snapshot_query.h"
#include "engine/util/file.h"

namespace preflight {
namespace {

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The first error diagnostic from `from` on, as a status (strict loads).
absl::Status FirstError(const std::vector<Diagnostic>& diagnostics, size_t from) {
  for (size_t i = from; i < diagnostics.size(); ++i) {
    const Diagnostic& d = diagnostics[i];
    if (d.severity == Severity::kError)
      return MakeError(d.code, absl::StrCat(d.object.empty() ? "" : d.object + ": ", d.message), d.where);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SnapshotBuilder::AddText(std::string_view text, std::string_view name) {
  auto t = Clock::now();
  hash_.Add(text);
  timings_.files++;
  timings_.bytes += text.size();
  trusted_documents_.resize(objects_.scim_documents.size(), false);  // any added through objects()
  absl::Status status;
  switch (DetectSourceKind(text)) {
    case SourceKind::kIiqXml: status = ReadIiqXml(text, name, objects_, options_.limits); break;
    case SourceKind::kScimJson: status = ReadScimJson(text, name, objects_, options_.limits); break;
    case SourceKind::kUnknown:
      status = MakeError(ErrorCode::kInvalidValue, "neither IdentityIQ XML nor SCIM JSON", Location{std::string(name)});
  }
  trusted_documents_.resize(objects_.scim_documents.size(),
                            options_.limits.max_nesting_depth <= kQueryDocumentDepth);
  timings_.parse_ms += MsSince(t);
  if (!status.ok()) {
    if (options_.strict) return status;
    Location where = LocationOf(status);
    objects_.diagnostics.push_back({Severity::kError, ErrorCodeOf(status), DetailOf(status), where, std::string(name)});
  }
  return absl::OkStatus();
}

absl::Status SnapshotBuilder::AddFile(const std::string& path) {
  auto t = Clock::now();
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  timings_.read_ms += MsSince(t);
  return AddText(*text, path);
}

absl::Status SnapshotBuilder::AddPath(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string ext = it->path().extension().string();
      if (ext == ".xml" || ext == ".json") files.push_back(it->path().string());
    }
    if (ec) return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot list directory: ", ec.message()), Location{path});
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (auto s = AddFile(f); !s.ok()) return s;
    return absl::OkStatus();
  }
  return AddFile(path);
}

// The passes in order (LoadPasses()), each timed. A strict build stops at the first
// error diagnostic, after the pass that reported it.
absl::StatusOr<std::shared_ptr<const Snapshot>> SnapshotBuilder::Build() {
  auto t = Clock::now();
  auto snap = std::make_shared<Snapshot>();
  Snapshot& s = *snap;
  for (auto& d : objects_.diagnostics) s.diagnostics_.push_back(d);
  s.source_hash_ = hash_.Hex();
  BuildContext ctx(s, objects_, std::move(trusted_documents_));
  timings_.passes.clear();
  size_t checked = 0;
  for (const LoadPass& pass : LoadPasses()) {
    auto start = Clock::now();
    (ctx.*pass.run)();
    timings_.passes.push_back({std::string(pass.name), MsSince(start)});
    if (options_.strict) {
      if (auto status = FirstError(s.diagnostics_, checked); !status.ok()) return status;
      checked = s.diagnostics_.size();
    }
  }
  timings_.build_ms = MsSince(t);
  s.timings_ = timings_;
#ifdef __GLIBC__
  // The loaders' temporary objects leave the heap fragmented; give the holes back so
  // checks do not pay for coalescing them.
  malloc_trim(0);
#endif
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> LoadSnapshot(const std::vector<std::string>& paths,
                                                             const LoadOptions& options) {
  SnapshotBuilder builder(options);
  for (const auto& p : paths)
    if (auto s = builder.AddPath(p); !s.ok()) return s;
  return builder.Build();
}

}  // namespace preflight
