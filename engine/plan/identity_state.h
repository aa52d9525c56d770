#pragma once
// The state of one identity that policies look at: its accounts with their attribute
// values, its assigned and detected roles. The pre state comes from the snapshot; the
// post state is the pre state with a plan applied and roles re-detected.

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/model/snapshot.h"

namespace preflight {

// Ids for strings a plan brings that the snapshot never interned. They extend the
// snapshot's id space (id >= pool size), live for one check, and never equal a
// snapshot id, so they can never match a profile or constraint value by accident.
class ValueIds {
 public:
  explicit ValueIds(const StringPool& pool) : pool_(pool) {}
  Id Get(std::string_view s);
  std::string_view Text(Id id) const {
    return id < pool_.size() ? pool_.Get(id) : std::string_view(local_[id - pool_.size()]);
  }
  void Clear() {
    local_.clear();
    ids_.clear();
  }

 private:
  const StringPool& pool_;
  std::vector<std::string> local_;
  absl::flat_hash_map<std::string, Id> ids_;
};

struct AccountState {
  Index application = kNoIndex;
  Id instance = kNoId;
  Id native_identity = kNoId;
  Id display_name = kNoId;
  Index source = kNoIndex;  // the snapshot account, kNoIndex when the plan created it
  uint32_t key = 0;         // identifies the account across the pre and post states
  bool disabled = false;
  bool locked = false;
  std::vector<AttrValues> attributes;  // sorted by name id
  std::vector<Permission> permissions;

  const AttrValues* Find(Id attr) const;
  AttrValues* FindOrAdd(Id attr);
  void Erase(Id attr);
};

struct IdentityState {
  Index identity = kNoIndex;
  std::vector<AccountState> accounts;
  std::vector<Index> assigned_roles;
  std::vector<Index> detected_roles;
};

}  // namespace preflight
