#include "engine/state/identity_state.h"

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

std::vector<Permission>& AccountState::mutable_permissions() {
  if (!own_permissions_) {
    permissions_ = base_permissions_.ToVector();
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

std::optional<AttrView> AccountState::Find(Id attr) const {
  auto o = LowerBound(overlay_, attr);
  if (o != overlay_.end() && o->name == attr) return o->values.empty() ? std::nullopt : std::optional<AttrView>(*o);
  return base_attributes_.Find(attr);
}

AttrValues* AccountState::FindOrAdd(Id attr) {
  auto o = LowerBound(overlay_, attr);
  if (o != overlay_.end() && o->name == attr) return &*o;
  AttrValues v;
  if (std::optional<AttrView> base = base_attributes_.Find(attr)) v = AttrValues::Of(*base);
  v.name = attr;
  return &*overlay_.insert(o, std::move(v));
}

void AccountState::Erase(Id attr) {
  if (!Find(attr)) return;
  AttrValues* v = FindOrAdd(attr);
  v->values.clear();
  v->multi = false;
}

}  // namespace preflight
