#include "engine/model/string_pool.h"

#include <algorithm>

#include "engine/model/hash_slots.h"

namespace preflight {

StringPool::StringPool(uint64_t max_text_bytes) : max_text_bytes_(std::min(max_text_bytes, kMaxTextBytes)) {
  starts_.Build().push_back(0);
  starts_.Seal();
}

Id StringPool::Find(std::string_view s) const { return Find(s, SlotHash(s)); }

Id StringPool::Find(std::string_view s, uint32_t hash) const {
  if (!interning_.empty()) {
    size_t mask = interning_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      uint64_t slot = interning_[i];
      if (slot == 0) return kNoId;
      Id id = static_cast<Id>(slot) - 1;
      if (slot >> 32 == hash && Get(id) == s) return id;
    }
  }
  uint32_t id = hash_slots::Find(slots_.span(), size(), hash, [&](uint32_t i) { return Get(i) == s; });
  return id == hash_slots::kNotFound ? kNoId : id;
}

void StringPool::PrefetchFind(uint32_t hash, int step) const {
  if (slots_.empty() || !interning_.empty()) return;
  if (step == 0) return __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  const uint32_t id = hash_slots::FirstCandidate(slots_.span(), size(), hash);
  if (id != hash_slots::kNotFound) PrefetchGet(id, step == 2);
}

Id StringPool::Intern(std::string_view s) { return Intern(s, SlotHash(s)); }

Id StringPool::Intern(std::string_view s, uint32_t hash) {
  Id found = Find(s, hash);
  if (found != kNoId) return found;
  if (text_.size() + s.size() > max_text_bytes_) {
    full_ = true;
    if (size() > 0) return 0;
    s = {};  // an empty pool takes "" as its string 0
    hash = SlotHash(s);
  }
  Id id = static_cast<Id>(size());
  std::vector<char>& text = text_.Build();
  text.insert(text.end(), s.begin(), s.end());
  text_.Seal();
  starts_.Build().push_back(static_cast<uint32_t>(text.size()));  // at most max_text_bytes_
  starts_.Seal();
  auto place = [](std::vector<uint64_t>& table, uint64_t slot) {
    size_t mask = table.size() - 1;
    for (size_t i = (slot >> 32) & mask;; i = (i + 1) & mask)
      if (table[i] == 0) {
        table[i] = slot;
        return;
      }
  };
  if (hash_slots::CapacityFor(size()) > interning_.size()) {
    // Grown past the table's load: one of the next size, every entry placed again by its
    // hash bits (no text read).
    std::vector<uint64_t> grown(hash_slots::CapacityFor(size()), 0);
    for (uint64_t slot : interning_)
      if (slot != 0) place(grown, slot);
    interning_.swap(grown);
  }
  place(interning_, uint64_t{hash} << 32 | (uint64_t{id} + 1));
  return id;
}

void StringPool::Reserve(uint64_t bytes, size_t strings) {
  std::vector<char>& text = text_.Build();
  text.reserve(static_cast<size_t>(std::min<uint64_t>(text.size() + bytes, max_text_bytes_)));
  text_.Seal();
  std::vector<uint32_t>& starts = starts_.Build();
  starts.reserve(starts.size() + std::min<uint64_t>(strings, max_text_bytes_ + 1));
  starts_.Seal();
}

void StringPool::Freeze() {
  if (!interning_.empty()) {
    std::vector<uint32_t>& slots = slots_.Build();
    slots.assign(interning_.size(), 0);
    for (uint64_t slot : interning_)
      if (slot != 0) hash_slots::Insert(slots, size(), slot >> 32, static_cast<uint32_t>(slot) - 1);
    std::vector<uint64_t>().swap(interning_);
  }
  text_.Compact();
  starts_.Compact();
  slots_.Compact();
}

}  // namespace preflight
