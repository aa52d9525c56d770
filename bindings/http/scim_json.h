#pragma once
// The two request bodies the service itself reads (the engine reads the check body):
// a SCIM SearchRequest (RFC 7644 section 3.4.3) and a BulkRequest (section 3.7). simdjson
// DOM, so a body is validated whole before anything in it is used.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace preflight::http {

struct SearchRequest {
  std::string filter;
  std::vector<std::string> attributes;
  std::vector<std::string> excluded_attributes;
  std::string sort_by;
  std::string sort_order;
  std::optional<int64_t> start_index;
  std::optional<int64_t> count;
};
// InvalidArgument (400 invalidSyntax / invalidValue) for a body that is not a SearchRequest.
absl::StatusOr<SearchRequest> ParseSearchRequest(std::string_view body);

struct BulkOperation {
  std::string method;
  std::string path;
  std::optional<std::string> bulk_id;
  std::optional<std::string> data;  // the operation's `data`, as compact JSON
};
struct BulkRequest {
  std::optional<int64_t> fail_on_errors;
  std::vector<BulkOperation> operations;
};
// InvalidArgument for a body that is not a BulkRequest; ResourceExhausted (413) over
// max_operations.
absl::StatusOr<BulkRequest> ParseBulkRequest(std::string_view body, size_t max_operations);

// The embedded IdentityIQ /Schemas documents (a JSON array), from scim_schemas.json.
extern const std::string_view kScimSchemasJson;

// One of the embedded IdentityIQ schema documents by its URN, compact JSON; nullopt if absent.
std::optional<std::string> SchemaById(std::string_view id);
size_t SchemaCount();

}  // namespace preflight::http
