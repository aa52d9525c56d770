// The on-access checks of a mapped image's records (engine/model/record_check.h).

#include "engine/model/record_check.h"

#include "absl/strings/str_cat.h"
#include "engine/model/population.h"
#include "engine/model/string_pool.h"
#include "engine/util/error.h"

namespace preflight {

void ThrowCorruptRecord(std::string_view column, size_t row, std::string_view what) {
  throw CorruptRecord(MakeError(ErrorCode::kInvalidValue,
                                absl::StrCat("image: column '", ToAbsl(column), "' row ", row, ": ", ToAbsl(what))));
}

namespace {

void CheckIn(std::string_view column, size_t row, Range r, size_t arena, std::string_view arena_name) {
  if (uint64_t{r.begin} + r.count > arena)
    ThrowCorruptRecord(column, row, absl::StrCat("a range [", r.begin, ", +", r.count, ") outside ",
                                                 ToAbsl(arena_name), " (", arena, ")"));
}

// Every element of `list` (the positions at r in it) below `rows`.
void CheckElements(std::string_view column, const Column<Index>& list, Range r, size_t rows,
                   std::string_view table) {
  for (size_t k = r.begin; k < size_t{r.begin} + r.count; ++k)
    if (list[k] >= rows)
      ThrowCorruptRecord(column, k, absl::StrCat("a position ", list[k], " past the ", rows, " ", ToAbsl(table)));
}

}  // namespace

void PopulationStore::CheckPosition(std::string_view column, size_t row, size_t rows) {
  if (row >= rows) ThrowCorruptRecord(column, row, absl::StrCat("a position past the ", rows, " rows"));
}

// An attribute list's records, and the values each one's record and the next one's
// (the end marker for the last) delimit.
void PopulationStore::CheckAttributes(std::string_view column, Index row, Range r) const {
  CheckIn(column, row, r, attributes.empty() ? 0 : attributes.size() - 1, "attributes");
  for (size_t k = r.begin; k < size_t{r.begin} + r.count; ++k) {
    const uint32_t first = attributes[k].first(), end = attributes[k + 1].first();
    if (first > end || end > values.size())
      ThrowCorruptRecord("attributes", k, absl::StrCat("values [", first, ", ", end, ") outside values (",
                                                       values.size(), ")"));
  }
}

void PopulationStore::CheckIdentity(Index i) const {
  CheckPosition("identities", i, identities.size());
  const IdentityRecord& r = identities[i];
  CheckIn("identities", i, r.assigned_roles, roles.size(), "identity.roles");
  CheckIn("identities", i, r.detected_roles, roles.size(), "identity.roles");
  CheckIn("identities", i, r.accounts, account_lists.size(), "identity.accounts");
  CheckElements("identity.roles", roles, r.assigned_roles, role_rows, "roles");
  CheckElements("identity.roles", roles, r.detected_roles, role_rows, "roles");
  CheckAttributes("identities", i, r.attributes);
}

void PopulationStore::CheckAccount(Index i) const {
  CheckPosition("accounts", i, accounts.size());
  const AccountRecord& r = accounts[i];
  if (r.application >= application_rows)
    ThrowCorruptRecord("accounts", i, absl::StrCat("an application ", r.application, " past the ", application_rows,
                                                   " applications"));
  if (r.identity != kNoIndex && r.identity >= identities.size())
    ThrowCorruptRecord("accounts", i, absl::StrCat("an identity ", r.identity, " past the ", identities.size(),
                                                   " identities"));
  CheckIn("accounts", i, r.permissions, permissions.size(), "permissions");
  for (size_t k = r.permissions.begin; k < size_t{r.permissions.begin} + r.permissions.count; ++k)
    CheckIn("permissions", k, permissions[k].rights, rights.size(), "rights");
  CheckAttributes("accounts", i, r.attributes);
}

void StringPool::CheckGet(Id id) const {
  if (size_t{id} + 1 >= starts_.size())
    ThrowCorruptRecord("pool.starts", id, absl::StrCat("a string past the ", size(), " strings"));
  if (starts_[id] > starts_[id + 1] || starts_[id + 1] > text_.size())
    ThrowCorruptRecord("pool.starts", id, absl::StrCat("an offset out of order or past the ", text_.size(),
                                                       " bytes of text"));
}

}  // namespace preflight
