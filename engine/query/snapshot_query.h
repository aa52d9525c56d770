#pragma once
// SCIM queries over a loaded snapshot: `preflight query` and Engine::Query. Resources
// read from SCIM exports are queried as exported; objects read from IdentityIQ XML
// are rendered in the shapes IdentityIQ's SCIM API uses (docs/semantics.md section 6), so
// one filter works on both. A type's documents are made on its first query and kept while
// they fit QueryOptions::cache_bytes (Limits::max_query_cache_bytes); past it, each query
// makes the documents it reads again, one at a time. Filters made of `id eq` terms (and
// `userName eq` for Users) read only the resources an index names.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/snapshot.h"
#include "engine/query/query.h"

namespace preflight {

// Whether a resource exported as SCIM JSON can be a query document: kOk, or why not.
// The load pass "queryDocuments" asks, so that a resource queries would never see is a
// load diagnostic.
absl::Status CheckQueryDocument(std::string_view json);
// The nesting budget of a query document. JSON that a reader parsed with a budget of at
// most this many levels always passes CheckQueryDocument.
inline constexpr int kQueryDocumentDepth = 256;

// resource_type: Users, Accounts, Entitlements, Roles or Applications (any case).
absl::StatusOr<QueryPage> QuerySnapshot(const Snapshot& snapshot, std::string_view resource_type,
                                          const QueryOptions& options);

// One resource by its id (exact match of the resource's "id"), projected like a query's
// resources. kNoSuchResource when the snapshot has none with that id.
absl::StatusOr<std::string> SnapshotResource(const Snapshot& snapshot, std::string_view resource_type,
                                             std::string_view id, const std::vector<std::string>& attributes,
                                             const std::vector<std::string>& excluded_attributes,
                                             size_t cache_bytes = DefaultLimits().max_query_cache_bytes);

}  // namespace preflight
