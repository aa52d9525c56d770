#pragma once
// Readers for the two export formats a snapshot is made of. Each reads one file's
// text and appends the objects it holds to SnapshotObjects. A malformed object is a
// diagnostic (file, line, object name) and is skipped; a file that cannot be read at
// all is an error status. Kind is detected from content, not from the file name.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/model/objects.h"
#include "engine/util/limits.h"

namespace preflight {

enum class SourceKind { kIiqXml, kScimJson, kUnknown };
SourceKind DetectSourceKind(std::string_view text);

// One source, by its detected kind: ReadIiqXml, ReadScimJson, or an invalidValue error
// for text that is neither.
absl::Status ReadSource(std::string_view text, std::string_view file, SnapshotObjects& out,
                        const Limits& limits = DefaultLimits());

// Bytes after a source's text that a reader may read (never use) when the caller says
// the text is padded (SourceReader::Read): the JSON parser then reads it in place.
inline constexpr size_t kSourcePadding = 64;

// Reads one source after another, keeping its parsers' buffers from one to the next, so
// that a thread reading many large files does not allocate (and fault in) a parser for
// each. One per thread.
class SourceReader {
 public:
  SourceReader();
  ~SourceReader();
  // ReadSource; `padded`: kSourcePadding bytes after the text may be read; `threads`:
  // how many threads may read parts of one IdentityIQ export at once; `pack`: the
  // identities and accounts read are packed (PackIdentities), an IdentityIQ export's
  // every few megabytes as they are read, so they are never all objects at once.
  absl::Status Read(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits,
                    bool padded = false, int threads = 1, bool pack = false);
  // Read() of a SCIM export in the line layout (ScimExportInLines, engine/codecs/scim_stream.h)
  // from its file at `path`, a block at a time: the file's text is never held whole.
  absl::Status ReadScimFile(const std::string& path, SnapshotObjects& out, const Limits& limits, bool pack = false);

 private:
  struct Parsers;
  std::unique_ptr<Parsers> parsers_;
};

// Appends `from` to `to`, every list in order (moved, not copied): what reading two
// sources into one SnapshotObjects would have given.
void AppendObjects(SnapshotObjects& to, SnapshotObjects&& from);

// IdentityIQ XML: a <sailpoint> file or a single object (Policy, Bundle, Identity,
// Link, Application, ManagedAttribute). DTDs are never fetched or expanded. An export
// of the usual shape is read object by object, one small DOM at a time; anything else
// is read as one document, which gives the same objects and diagnostics.
absl::Status ReadIiqXml(std::string_view text, std::string_view file, SnapshotObjects& out,
                        const Limits& limits = DefaultLimits());
// Always one document: what ReadIiqXml must give, for the tests that compare them.
absl::Status ReadIiqXmlWhole(std::string_view text, std::string_view file, SnapshotObjects& out,
                             const Limits& limits = DefaultLimits());

// SCIM JSON as IdentityIQ's SCIM API returns it: ListResponse pages or single
// resources of Users, Accounts, Entitlements, Roles, Applications.
absl::Status ReadScimJson(std::string_view text, std::string_view file, SnapshotObjects& out,
                          const Limits& limits = DefaultLimits());
// Always the DOM parser: what ReadScimJson must give, for the tests that compare them.
absl::Status ReadScimJsonDom(std::string_view text, std::string_view file, SnapshotObjects& out,
                             const Limits& limits = DefaultLimits());

}  // namespace preflight
