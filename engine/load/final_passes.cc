// The passes "entitlements", "queryDocuments", "lookups" and "identityFlags".
#include "engine/load/build_context.h"
#include "engine/load/identity_flags.h"
#include "engine/query/snapshot_query.h"

namespace preflight {

void BuildContext::ResolveEntitlements() {
  Snapshot& s = snap;
  s.entitlement_count_ = objects.entitlements.size();
  for (const EntitlementObject& e : objects.entitlements) {
    EntitlementRecord r;
    r.application = e.application.empty() ? kNoIndex : App(e.application, e.where, e.where.pointer);
    r.attribute = Intern(e.attribute);
    r.value = Intern(e.value);
    r.id = e.id;
    r.display_name = e.display_name;
    r.type = e.type;
    r.requestable = e.requestable;
    r.from_scim = e.from_scim;
    s.entitlements_.push_back(std::move(r));
  }
}

// Resources read from SCIM exports are queried as exported: parse them now, so that
// one that cannot be queried is a load diagnostic (and fails a strict load) rather
// than a resource a query silently never sees. Objects read from XML are rendered by
// the query stage on first use; they cannot fail.
void BuildContext::BuildQueryDocuments() {
  snap.exported_documents_ = ParseExportedDocuments(objects.scim_documents, snap.diagnostics_);
  objects.scim_documents.clear();
}

// Text-keyed lookups for the finished snapshot. Every pass that reads the source
// objects has run: release them first, so the lookups and the identity flags do not
// run next to a second copy of the snapshot.
void BuildContext::BuildLookups() {
  Snapshot& s = snap;
  objects = SnapshotObjects();
  auto by_text = [&](absl::flat_hash_map<Id, Index>& ids, Snapshot::NameMap& out) {
    out.reserve(ids.size());
    for (const auto& [id, index] : ids) out.emplace(s.pool_.Get(id), index);
    absl::flat_hash_map<Id, Index>().swap(ids);
  };
  by_text(s.identity_by_name_, s.identity_lookup_);
  by_text(s.role_by_name_, s.role_lookup_);
  by_text(s.app_by_name_, s.app_lookup_);
  by_text(s.policy_by_name_, s.policy_lookup_);
  by_text(s.policy_by_id_, s.policy_id_lookup_);
}

void BuildContext::ComputeIdentityFlags() { PrecomputeIdentityFlags(snap); }

}  // namespace preflight
