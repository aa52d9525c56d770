#pragma once
// Diagnostics as JSON: {"severity","code","object"?,"location"?,"message"}; the same shape in
// the check response extension, `plan compile` and `snapshot stats`.

#include <string_view>
#include <vector>

#include "engine/util/error.h"
#include "engine/util/json_writer.h"

namespace preflight {

// Writes `key: [ ...diagnostics ]` into the object being written.
void WriteDiagnostics(JsonSink& w, std::string_view key, const std::vector<Diagnostic>& diagnostics);

}  // namespace preflight
