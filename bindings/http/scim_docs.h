#pragma once
// The SCIM discovery documents (RFC 7643 sections 5-7) describing what Preflight serves.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace preflight::http {

struct DiscoveryFacts {
  std::string_view base;  // the base path the request came in on
  size_t bulk_max_operations = 0;
  size_t max_payload_bytes = 0;
  long long max_results = 1000;
  bool basic = false;   // HTTP Basic configured
  bool bearer = false;  // Bearer tokens configured
};

std::string ServiceProviderConfigJson(const DiscoveryFacts& facts);
std::string ResourceTypesJson(const DiscoveryFacts& facts);
std::optional<std::string> ResourceTypeJson(const DiscoveryFacts& facts, std::string_view name);
std::string SchemasJson();
std::optional<std::string> SchemaJson(std::string_view id);

// The canonical resource-type endpoint name ("Users", ...) for a path segment in any
// case, or "" when the segment names none of the queryable types.
std::string_view QueryableType(std::string_view segment);

}  // namespace preflight::http
