// The passes "entitlements", "queryDocuments", "lookups" and "identityFlags".
#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"
#include "engine/load/identity_flags.h"
#include "engine/model/hash_slots.h"
#include "engine/query/snapshot_query.h"

namespace preflight {

void BuildContext::ResolveEntitlements() {
  Column<EntitlementRecord>& records = snap.population_.entitlements;
  for (const EntitlementObject& e : objects.entitlements) {
    EntitlementRecord r;
    r.application = e.application.empty() ? kNoIndex : App(e.application, e.where, e.where.pointer);
    r.attribute = Intern(e.attribute);
    r.value = Intern(e.value);
    r.id = Intern(e.id);
    r.display_name = Intern(e.display_name);
    r.type = Intern(e.type);
    r.requestable = e.requestable;
    r.from_scim = e.from_scim;
    records.Build().push_back(r);
  }
  records.Compact();
}

// Resources read from SCIM exports are queried as exported, parsed on the first query.
// One that cannot be parsed then would be a resource queries silently never see: check
// now, so that it is a load diagnostic (and fails a strict load) like any other load
// problem. A reader's own output needs no check when its nesting budget was within the
// query documents' (it is JSON the reader parsed); other documents are parsed here.
// The texts are kept per resource type (kResourceTypes, the types the SCIM reader
// recognizes), end to end in one column.
// Each column is sized once, before the texts are copied in (grown as they came, a
// gigabyte of texts was copied and faulted in about three times), and each reader's
// block of texts is released as soon as it is copied.
void BuildContext::BuildQueryDocuments() {
  PopulationStore& p = snap.population_;
  auto type_of = [](std::string_view type) {
    return static_cast<size_t>(std::find(kResourceTypes.begin(), kResourceTypes.end(), type) - kResourceTypes.begin());
  };
  std::array<size_t, kResourceTypes.size()> dropped{}, bytes{}, counts{};
  objects.scim_documents.ForEach([&](std::string_view type, std::string_view json) {
    if (size_t t = type_of(type); t < kResourceTypes.size()) {
      bytes[t] += json.size();
      counts[t]++;
    }
  });
  for (size_t t = 0; t < kResourceTypes.size(); ++t) {
    p.resource_text[t].Build().reserve(bytes[t]);
    p.resource_starts[t].Build().reserve(counts[t] ? counts[t] + 1 : 0);
  }
  size_t i = 0;  // the document's position in objects.scim_documents
  for (ScimDocuments::Block& block : objects.scim_documents.blocks()) {
    for (size_t k = 0; k < block.entries.size(); ++k, ++i) {
      std::string_view type = block.entries[k].type, json = block.Text(k);
      size_t t = type_of(type);
      if (t == kResourceTypes.size()) continue;  // no query reads it
      std::vector<uint64_t>& starts = p.resource_starts[t].Build();
      if (starts.empty()) starts.push_back(0);
      if (i >= trusted_documents.size() || !trusted_documents[i]) {
        if (absl::Status status = CheckQueryDocument(json); !status.ok()) {
          size_t position = starts.size() - 1 + dropped[t]++;
          Diag(Severity::kError, ErrorCodeOf(status), absl::StrCat("the resource cannot be queried: ", DetailOf(status)),
               {}, absl::StrCat(ToAbsl(type), "[", position, "]"));
          continue;
        }
      }
      std::vector<char>& text = p.resource_text[t].Build();
      text.insert(text.end(), json.begin(), json.end());
      starts.push_back(text.size());
    }
    std::string().swap(block.text);  // released now (an empty string assigned would keep the buffer)
    block.entries = {};
  }
  objects.scim_documents.clear();
  for (size_t t = 0; t < kResourceTypes.size(); ++t) {
    p.resource_text[t].Compact();
    p.resource_starts[t].Compact();
  }
}

// Text-keyed lookups for the finished snapshot. Every pass that reads the source
// objects has run: release them first, so the lookups and the identity flags do not
// run next to a second copy of the snapshot.
void BuildContext::BuildLookups() {
  Snapshot& s = snap;
  objects = SnapshotObjects();
  // Every pass that interns has run; the text no longer moves, so views of it can be keys.
  s.pool_.Freeze();
  auto by_text = [&](absl::flat_hash_map<Id, Index>& ids, Snapshot::NameMap& out) {
    out.reserve(ids.size());
    for (const auto& [id, index] : ids) out.emplace(s.pool_.Get(id), index);
    absl::flat_hash_map<Id, Index>().swap(ids);
  };
  // Identities by the text of their name, in the population's slot table.
  PopulationStore& p = s.population_;
  p.identity_slots.Build() =
      hash_slots::Build(p.identities.size(), [&](uint32_t i) { return SlotHash(s.pool_.Get(p.identities[i].name)); });
  p.identity_slots.Compact();
  absl::flat_hash_map<Id, Index>().swap(s.identity_by_name_);
  by_text(s.role_by_name_, s.role_lookup_);
  by_text(s.app_by_name_, s.app_lookup_);
  by_text(s.policy_by_name_, s.policy_lookup_);
  by_text(s.policy_by_id_, s.policy_id_lookup_);
}

void BuildContext::ComputeIdentityFlags() { PrecomputeIdentityFlags(snap); }

}  // namespace preflight
