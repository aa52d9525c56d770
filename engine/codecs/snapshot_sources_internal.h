#pragma once
// Shared between the snapshot readers (snapshot_*.cc); not part of the API.

#include <string_view>

#include "absl/status/status.h"
#include "engine/model/objects.h"
#include "engine/util/limits.h"
#include "simdjson.h"

namespace preflight::snapshot_sources_internal {

// ReadScimJson with the caller's parser, whose buffers are kept from one file to the
// next. `padded`: kSourcePadding bytes after the text may be read, so simdjson parses it
// in place instead of copying it.
absl::Status ReadScimJson(simdjson::dom::parser& parser, std::string_view text, std::string_view file,
                          SnapshotObjects& out, const Limits& limits, bool padded);

// ReadIiqXml with an export's chunks read by `threads` threads (the objects, their
// order and the diagnostics the same).
absl::Status ReadIiqXml(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits,
                        int threads);

}  // namespace preflight::snapshot_sources_internal
