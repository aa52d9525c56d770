// The kind of a source, and SnapshotObjects put together from several sources.

#include "engine/codecs/snapshot_sources.h"

#include <iterator>

#include "engine/codecs/scim_stream.h"
#include "engine/codecs/snapshot_sources_internal.h"

namespace preflight {

SourceKind DetectSourceKind(std::string_view text) {
  // XML's and JSON's blanks are the same four. (Not strchr(" \t\r\n", c): it finds a NUL,
  // its terminator, and a NUL is no blank.)
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // a UTF-8 byte order mark, whole
  while (i < text.size() && blank(text[i])) ++i;
  if (i == text.size()) return SourceKind::kUnknown;
  if (text[i] == '<') return SourceKind::kIiqXml;
  if (text[i] == '{' || text[i] == '[') return SourceKind::kScimJson;
  return SourceKind::kUnknown;
}

struct SourceReader::Parsers {
  snapshot_sources_internal::ScimParsers json;
};

SourceReader::SourceReader() : parsers_(std::make_unique<Parsers>()) {}
SourceReader::~SourceReader() = default;

absl::Status SourceReader::Read(std::string_view text, std::string_view file, SnapshotObjects& out,
                                const Limits& limits, bool padded, int threads, bool pack) {
  absl::Status status;
  switch (DetectSourceKind(text)) {
    case SourceKind::kIiqXml:
      status = snapshot_sources_internal::ReadIiqXml(text, file, out, limits, threads, pack);
      break;
    case SourceKind::kScimJson:
      status = snapshot_sources_internal::ReadScimJson(parsers_->json, text, file, out, limits, padded, pack);
      break;
    case SourceKind::kUnknown:
      return MakeError(ErrorCode::kInvalidValue, "neither IdentityIQ XML nor SCIM JSON", Location{std::string(file)});
  }
  if (pack) PackIdentities(out);
  return status;
}

absl::Status SourceReader::ReadScimFile(const std::string& path, SnapshotObjects& out, const Limits& limits,
                                        bool pack, const FileStamp* expected) {
  absl::Status status = ReadScimJsonFile(parsers_->json, path, out, limits, pack, expected);
  if (pack) PackIdentities(out);
  return status;
}

absl::Status ReadSource(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits) {
  return SourceReader().Read(text, file, out, limits);
}

namespace {
template <typename T>
void Append(std::vector<T>& to, std::vector<T>&& from) {
  if (to.empty()) {
    to = std::move(from);
  } else {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  }
  from = {};
}
}  // namespace

// A new list in SnapshotObjects must be appended here too (a load in parallel would
// otherwise lose it): this breaks the build to say so.
static_assert(sizeof(void*) != 8 || sizeof(SnapshotObjects) == 12 * sizeof(std::vector<int>) + 8,
              "SnapshotObjects changed: append the new member in AppendObjects");

void AppendObjects(SnapshotObjects& to, SnapshotObjects&& from) {
  Append(to.applications, std::move(from.applications));
  Append(to.roles, std::move(from.roles));
  Append(to.policies, std::move(from.policies));
  Append(to.identities, std::move(from.identities));
  Append(to.accounts, std::move(from.accounts));
  Append(to.identity_chunks, std::move(from.identity_chunks));
  Append(to.entitlements, std::move(from.entitlements));
  Append(to.populations, std::move(from.populations));
  to.has_identity_config = to.has_identity_config || from.has_identity_config;
  Append(to.identity_attributes, std::move(from.identity_attributes));
  Append(to.role_types, std::move(from.role_types));
  Append(to.diagnostics, std::move(from.diagnostics));
  to.scim_documents.Append(std::move(from.scim_documents));
}

}  // namespace preflight
