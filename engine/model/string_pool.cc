#include "engine/model/string_pool.h"

#include "engine/model/hash_slots.h"

namespace preflight {

StringPool::StringPool() {
  starts_.Build().push_back(0);
  starts_.Seal();
}

Id StringPool::Find(std::string_view s) const {
  uint32_t id = hash_slots::Find(slots_.span(), StableHash(s), [&](uint32_t i) { return Get(i) == s; });
  return id == hash_slots::kNotFound ? kNoId : id;
}

Id StringPool::Intern(std::string_view s) {
  uint64_t hash = StableHash(s);
  uint32_t found = hash_slots::Find(slots_.span(), hash, [&](uint32_t i) { return Get(i) == s; });
  if (found != hash_slots::kNotFound) return found;
  Id id = static_cast<Id>(size());
  std::vector<char>& text = text_.Build();
  text.insert(text.end(), s.begin(), s.end());
  text_.Seal();
  starts_.Build().push_back(text.size());
  starts_.Seal();
  if (hash_slots::CapacityFor(size()) > slots_.size()) {
    // Grown past half full: a table twice the size, every string placed again.
    slots_.Build() = hash_slots::Build(size(), [&](uint32_t i) { return StableHash(Get(i)); });
  } else {
    hash_slots::Insert(slots_.Build(), hash, id);
  }
  slots_.Seal();
  return id;
}

void StringPool::Freeze() {
  text_.Compact();
  starts_.Compact();
  slots_.Compact();
}

}  // namespace preflight
