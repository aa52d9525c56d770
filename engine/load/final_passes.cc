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
// problem. A reader's own block needs no check (ScimDocuments::Block::trusted): its
// frames are copied as they are; other documents are parsed here and compressed again.
// The texts are kept per resource type (kResourceTypes), compressed
// (engine/model/packed_texts.h), and each block is released as soon as it is copied.
void BuildContext::BuildQueryDocuments() {
  PopulationStore& p = snap.population_;
  std::array<PackedTexts, kResourceTypes.size()> texts;
  std::array<size_t, kResourceTypes.size()> dropped{};
  objects.scim_documents.Reserve(texts);
  for (ScimDocuments::Block& block : objects.scim_documents.blocks()) {
    for (size_t t = 0; t < kResourceTypes.size(); ++t) {
      if (block.trusted) {
        texts[t].Append(std::move(block.texts[t]));
        continue;
      }
      block.texts[t].ForEach([&](std::string_view json) {
        if (absl::Status status = CheckQueryDocument(json); !status.ok()) {
          size_t position = texts[t].size() + dropped[t]++;
          Diag(Severity::kError, ErrorCodeOf(status), absl::StrCat("the resource cannot be queried: ", DetailOf(status)),
               {}, absl::StrCat(ToAbsl(kResourceTypes[t]), "[", position, "]"));
          return;
        }
        texts[t].Add(json);
      });
      block.texts[t] = PackedTexts();
    }
  }
  objects.scim_documents.clear();
  for (size_t t = 0; t < kResourceTypes.size(); ++t) {
    PackedTexts::Columns c = texts[t].Take();
    p.resource_text[t].Build() = std::move(c.packed);
    p.resource_starts[t].Build() = std::move(c.starts);
    p.resource_frame_starts[t].Build() = std::move(c.frame_starts);
    p.resource_frame_offsets[t].Build() = std::move(c.frame_offsets);
    p.resource_text[t].Compact();
    p.resource_starts[t].Compact();
    p.resource_frame_starts[t].Compact();
    p.resource_frame_offsets[t].Compact();
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
