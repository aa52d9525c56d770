#pragma once
// The state of one identity that policies look at: its accounts with their attribute
// values, its assigned and detected roles. The pre state comes from the snapshot; the
// post state is the pre state with a plan applied and roles re-detected.

#include <optional>
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

  // Attributes are the snapshot account's, shared, plus an overlay of the ones the
  // plan wrote (sorted by name; an entry without values is an erased attribute), so
  // copying a state and applying a plan copy only what changes. Permissions are
  // shared until the first write copies them.
  std::optional<AttrView> Find(Id attr) const;  // none when absent or erased
  AttrValues* FindOrAdd(Id attr);               // the overlay entry, seeded from the base
  void Erase(Id attr);
  // Calls f(AttrView) for every present attribute, in name order.
  template <typename F>
  void ForEachAttribute(F f) const {
    const AttrList& base = base_attributes_;
    size_t i = 0, j = 0;
    while (i < base.size() || j < overlay_.size()) {
      if (j == overlay_.size() || (i < base.size() && base[i].name < overlay_[j].name)) {
        f(base[i++]);
      } else {
        if (i < base.size() && base[i].name == overlay_[j].name) ++i;
        if (!overlay_[j].values.empty()) f(AttrView(overlay_[j]));
        ++j;
      }
    }
  }
  const AttrList& base_attributes() const { return base_attributes_; }
  const std::vector<AttrValues>& overlay() const { return overlay_; }

  PermissionList permissions() const { return own_permissions_ ? PermissionList(permissions_) : base_permissions_; }
  std::vector<Permission>& mutable_permissions();
  bool modified() const { return !overlay_.empty() || own_permissions_; }
  void ShareFrom(const AccountView& account) {
    base_attributes_ = account.attributes;
    base_permissions_ = account.permissions;
    overlay_.clear();
    own_permissions_ = false;
  }

 private:
  AttrList base_attributes_;
  PermissionList base_permissions_;
  std::vector<AttrValues> overlay_;
  std::vector<Permission> permissions_;
  bool own_permissions_ = false;
};

// One thing that differs between the pre and post accounts: a value of an attribute
// (attr and value set), any change of an attribute (value kNoId), or an account
// created, deleted or with changed permissions (attr and value kNoId).
struct Change {
  Index application;
  Id attr;
  Id value;
  friend bool operator==(const Change&, const Change&) = default;
  friend bool operator<(const Change& a, const Change& b) {
    if (a.application != b.application) return a.application < b.application;
    return a.attr != b.attr ? a.attr < b.attr : a.value < b.value;
  }
};

struct IdentityState {
  Index identity = kNoIndex;
  std::vector<AccountState> accounts;
  std::vector<Index> assigned_roles;
  std::vector<Index> detected_roles;
  // Identity attributes (sorted by name): the snapshot's, until the plan sets one on the
  // IIQ application (IIQEvaluator.processIdentityAttribute) and the state gets its own.
  bool own_attributes = false;
  std::vector<AttrValues> attributes;
  AttrList Attributes(const Snapshot& s) const {
    return own_attributes ? AttrList(attributes) : s.identities()[identity].attributes;
  }
};

}  // namespace preflight
