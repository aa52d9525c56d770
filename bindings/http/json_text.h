#pragma once
// Small JSON text helpers for the service's own documents (errors, Bulk responses, the
// access log). The engine's JSON comes from the facade; these never re-encode it.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preflight::http {

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

// A SCIM Error resource with the given HTTP status; `scim_type` empty leaves it out.
std::string ScimError(int status, std::string_view detail, std::string_view scim_type = "");

// The members of a JSON object's top level as raw slices of `json`: keys without their
// quotes (they are plain ASCII in every document this is used on) and values exactly as
// written. Returns false when `json` is not an object the scanner can split.
bool SplitTopLevel(std::string_view json, std::vector<std::pair<std::string_view, std::string_view>>& members);

// Percent-decoding of a URL component; `plus_is_space` for query strings.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace preflight::http
