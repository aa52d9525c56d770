#pragma once
// SCIM queries over a loaded snapshot: `preflight query` and Engine::Query. Resources
// read from SCIM exports are queried as exported; objects read from IdentityIQ XML
// are rendered once, on the first query, in the shapes IdentityIQ's SCIM API uses
// (research/iiq-semantics.md section 5), so one filter works on both.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/snapshot.h"
#include "engine/query/query.h"

namespace preflight {

// The load pass "queryDocuments": parses the resources read from SCIM exports ((resource
// type, JSON text), in load order; the texts are released) into query documents, for
// Snapshot::TakeExportedDocuments. A resource that does not parse is an error in
// `diagnostics` and is left out of queries.
std::shared_ptr<void> ParseExportedDocuments(std::vector<std::pair<std::string, std::string>>& resources,
                                             std::vector<Diagnostic>& diagnostics);

// resource_type: Users, Accounts, Entitlements, Roles or Applications (any case).
absl::StatusOr<std::string> QuerySnapshot(const Snapshot& snapshot, std::string_view resource_type,
                                          const QueryOptions& options);

}  // namespace preflight
