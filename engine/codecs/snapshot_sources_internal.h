#pragma once
// Shared between the snapshot readers (snapshot_*.cc); not part of the API.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/model/objects.h"
#include "engine/util/limits.h"
#include "simdjson.h"

namespace preflight::snapshot_sources_internal {

// The SCIM reader's parsers and buffer, kept from one file to the next: On-Demand, and
// the DOM for the files On-Demand refuses (which the DOM then decides).
struct ScimParsers {
  simdjson::ondemand::parser on_demand;
  simdjson::dom::parser dom;
  std::string copy;  // an unpadded text, padded
};

// ReadScimJson with the caller's parsers. `padded`: kSourcePadding bytes after the text
// may be read, so simdjson parses it in place instead of copying it; `pack`: identities
// and accounts packed every few megabytes of the export (PackIdentities).
absl::Status ReadScimJson(ScimParsers& parsers, std::string_view text, std::string_view file,
                          SnapshotObjects& out, const Limits& limits, bool padded, bool pack = false);

// ReadIiqXml with an export's chunks read by `threads` threads (the objects, their
// order and the diagnostics the same); `pack`: identities and accounts packed every few
// megabytes of the export (PackIdentities).
absl::Status ReadIiqXml(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits,
                        int threads, bool pack = false);

}  // namespace preflight::snapshot_sources_internal
