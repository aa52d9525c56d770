// The passes "entitlements", "queryDocuments", "lookups" and "identityFlags".
#include "absl/strings/str_cat.h"
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

// Resources read from SCIM exports are queried as exported, parsed on the first query.
// One that cannot be parsed then would be a resource queries silently never see: check
// now, so that it is a load diagnostic (and fails a strict load) like any other load
// problem. A reader's own output needs no check when its nesting budget was within the
// query documents' (it is JSON the reader parsed); other documents are parsed here.
void BuildContext::BuildQueryDocuments() {
  Snapshot& s = snap;
  absl::flat_hash_map<std::string, size_t> dropped;
  for (size_t i = 0; i < objects.scim_documents.size(); ++i) {
    auto& [type, json] = objects.scim_documents[i];
    if (i >= trusted_documents.size() || !trusted_documents[i]) {
      if (absl::Status status = CheckQueryDocument(json); !status.ok()) {
        auto kept = s.resources_.find(type);
        size_t position = (kept == s.resources_.end() ? 0 : kept->second.size()) + dropped[type]++;
        Diag(Severity::kError, ErrorCodeOf(status), absl::StrCat("the resource cannot be queried: ", DetailOf(status)),
             {}, absl::StrCat(type, "[", position, "]"));
        continue;
      }
    }
    s.resources_[type].push_back(std::move(json));
  }
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
