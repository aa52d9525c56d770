#include "engine/plan/identity_state.h"

#include <algorithm>

namespace preflight {

Id ValueIds::Get(std::string_view s) {
  Id id = pool_.Find(s);
  if (id != kNoId) return id;
  auto it = ids_.find(ToAbsl(s));
  if (it != ids_.end()) return it->second;
  id = static_cast<Id>(pool_.size() + local_.size());
  local_.emplace_back(s);
  ids_.emplace(std::string(s), id);
  return id;
}

const std::vector<AttrValues> AccountState::kNoAttributes;
const std::vector<Permission> AccountState::kNoPermissions;

std::vector<AttrValues>& AccountState::mutable_attributes() {
  if (!own_attributes_) {
    attributes_ = *base_attributes_;
    own_attributes_ = true;
  }
  return attributes_;
}

std::vector<Permission>& AccountState::mutable_permissions() {
  if (!own_permissions_) {
    permissions_ = *base_permissions_;
    own_permissions_ = true;
  }
  return permissions_;
}

namespace {
template <typename Vec>
auto LowerBound(Vec& attrs, Id attr) {
  return std::lower_bound(attrs.begin(), attrs.end(), attr, [](const AttrValues& a, Id id) { return a.name < id; });
}
}  // namespace

const AttrValues* AccountState::Find(Id attr) const {
  const auto& attrs = attributes();
  auto it = LowerBound(attrs, attr);
  return it != attrs.end() && it->name == attr ? &*it : nullptr;
}

AttrValues* AccountState::FindOrAdd(Id attr) {
  auto& attrs = mutable_attributes();
  auto it = LowerBound(attrs, attr);
  if (it != attrs.end() && it->name == attr) return &*it;
  AttrValues v;
  v.name = attr;
  return &*attrs.insert(it, std::move(v));
}

void AccountState::Erase(Id attr) {
  if (!Find(attr)) return;
  auto& attrs = mutable_attributes();
  auto it = LowerBound(attrs, attr);
  attrs.erase(it);
}

}  // namespace preflight
