#pragma once
// Library entry points behind `preflight filter parse FILTER` and `preflight filter eval FILTER FILE`.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/query/bound_filter.h"
#include "engine/query/doc.h"
#include "engine/util/limits.h"

namespace preflight {

// The filter's AST in the S-expression notation of tests/corpus/scim-filter/SOURCES.md.
// Errors: kInvalidFilter (with offset and caret message), kTooMany for the budgets.
absl::StatusOr<std::string> FilterToSexpr(std::string_view filter, const Limits& limits = DefaultLimits());
// The same for a PATCH path ("(path emails (eq type \"work\") value)"); errors are kInvalidPath.
absl::StatusOr<std::string> PathToSexpr(std::string_view path, const Limits& limits = DefaultLimits());

// The schema used for one free-standing JSON resource: RFC 7643 defaults
// (ResourceSchema::WithScimDefaults) with the core URN taken from the resource's "schemas"
// (the first urn:ietf:params:scim:schemas:core: entry), or none.
ResourceSchema SchemaForResource(const Doc& doc);

// true/false for one JSON resource. Errors: kInvalidFilter, kInvalidSyntax (bad JSON), kTooMany.
absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json,
                                      const Limits& limits = DefaultLimits());
absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json, const ResourceSchema& schema,
                                      const Limits& limits = DefaultLimits());

}  // namespace preflight
