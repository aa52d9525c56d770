#pragma once
// SCIM queries over a set of resources (RFC 7644 sec 3.4.2): filter, sortBy/sortOrder,
// startIndex/count, attributes/excludedAttributes, answered as a ListResponse JSON text.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "engine/query/bound_filter.h"
#include "engine/query/doc.h"
#include "engine/util/limits.h"

namespace preflight {

struct QueryOptions {
  std::string filter;                            // empty: every resource
  std::vector<std::string> attributes;           // attribute notation; empty: default set
  std::vector<std::string> excluded_attributes;  // ignored when `attributes` is not empty
  std::string sort_by;                           // empty: input order
  bool descending = false;                       // sortOrder=descending
  int64_t start_index = 1;                       // 1-based; values below 1 mean 1
  std::optional<int64_t> count;                  // absent: all; negative means 0
  FilterParseOptions parse;                      // filter budgets
  // A snapshot's documents of one resource type are kept while they take at most this
  // (engine/query/snapshot_query.h); set once, by the first query of the type.
  size_t cache_bytes = DefaultLimits().max_query_cache_bytes;
};

// Splits "a, b,c" (the wire form of attributes / excludedAttributes) into trimmed names.
std::vector<std::string> SplitAttributeList(std::string_view list);

// The page a query selects: how many resources matched, where the page starts, and the
// page's resources, each projected, as JSON text in order. engine/wire/list_response.h
// writes it as a SCIM ListResponse.
struct QueryPage {
  int64_t total_results = 0;
  int64_t start_index = 1;
  std::vector<std::string> resources;
};

// Filters, sorts, pages and projects. Errors: kInvalidFilter (filter syntax, binding, boolean ordering met while evaluating),
// kInvalidPath (a malformed attributes / excludedAttributes / sortBy path), kTooMany.
absl::StatusOr<QueryPage> RunQuery(std::span<const Doc> docs, const ResourceSchema& schema,
                                   const QueryOptions& options);
absl::StatusOr<QueryPage> RunQuery(std::span<const Doc* const> docs, const ResourceSchema& schema,
                                   const QueryOptions& options);
// Over n resources read by position; a returned document need only stay valid until the
// next call (documents made on demand).
absl::StatusOr<QueryPage> RunQuery(size_t n, absl::FunctionRef<const Doc&(size_t)> doc, const ResourceSchema& schema,
                                   const QueryOptions& options);

// One resource projected per RFC 7644 sec 3.4.2.5 (id and schemas always returned,
// returned=never attributes never), as JSON.
absl::StatusOr<std::string> ProjectDoc(const Doc& doc, const ResourceSchema& schema,
                                       const std::vector<std::string>& attributes,
                                       const std::vector<std::string>& excluded_attributes);

}  // namespace preflight
