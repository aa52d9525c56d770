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

const AttrValues* AccountState::Find(Id attr) const {
  auto it = std::lower_bound(attributes.begin(), attributes.end(), attr,
                             [](const AttrValues& a, Id id) { return a.name < id; });
  return it != attributes.end() && it->name == attr ? &*it : nullptr;
}

AttrValues* AccountState::FindOrAdd(Id attr) {
  auto it = std::lower_bound(attributes.begin(), attributes.end(), attr,
                             [](const AttrValues& a, Id id) { return a.name < id; });
  if (it != attributes.end() && it->name == attr) return &*it;
  AttrValues v;
  v.name = attr;
  return &*attributes.insert(it, std::move(v));
}

void AccountState::Erase(Id attr) {
  auto it = std::lower_bound(attributes.begin(), attributes.end(), attr,
                             [](const AttrValues& a, Id id) { return a.name < id; });
  if (it != attributes.end() && it->name == attr) attributes.erase(it);
}

}  // namespace preflight
