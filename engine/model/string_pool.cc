#include "engine/model/string_pool.h"

namespace preflight {

Id StringPool::Intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  Id id = static_cast<Id>(strings_.size());
  strings_.emplace_back(s);
  bytes_ += s.size() + sizeof(std::string) + 16;
  ids_.emplace(std::string_view(strings_.back()), id);
  return id;
}

Id StringPool::Find(std::string_view s) const {
  auto it = ids_.find(s);
  return it == ids_.end() ? kNoId : it->second;
}

}  // namespace preflight
