#pragma once
// `snapshot stats` and the load diagnostics, as every face prints them.

#include <string>
#include <vector>

#include "engine/util/error.h"

namespace preflight {

class Snapshot;

// {"counts":{...},"memory":{...},"load":{...},"diagnostics":[...]}
std::string SnapshotStatsJson(const Snapshot& snapshot, int indent = 0);
// [{"severity","code","object"?,"location"?,"message"}, ...]
std::string DiagnosticsJson(const std::vector<Diagnostic>& diagnostics, int indent = 0);

}  // namespace preflight
