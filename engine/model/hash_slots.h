#pragma once
// Open-addressing hash tables stored as one column of slots, so that a table built by
// the load can be written to an image and searched where it is mapped: a slot holds
// a position + 1 (0: empty) into whatever the table indexes, the capacity is a power
// of two, collisions probe linearly, and the hash is the same in every process
// (StableHash, not absl::Hash, whose seed differs per process).

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace preflight {

// A 64-bit hash of text, fixed across processes and builds of the same architecture.
inline uint64_t StableHash(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
  }
  // murmur3's finalizer: every input bit reaches the low bits the slot index uses.
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB93FE53E3B33ull;
  h ^= h >> 33;
  return h;
}

namespace hash_slots {

inline constexpr uint32_t kNotFound = UINT32_MAX;

// Slots for n entries: at most two thirds full, so a probe that misses stops soon
// (about five slots on average when the table is fullest).
inline size_t CapacityFor(size_t n) { return n == 0 ? 0 : std::bit_ceil(n + n / 2 + 1); }

// Puts `position` in the first free slot of its probe sequence (slots.size() a power of two).
inline void Insert(std::span<uint32_t> slots, uint64_t hash, uint32_t position) {
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots[i] == 0) {
      slots[i] = position + 1;
      return;
    }
  }
}

// The position whose entry `is(position)` accepts, probing from `hash`; kNotFound. At
// most every slot once: a table with no free slot (a hostile image) ends too.
template <class Is>
uint32_t Find(std::span<const uint32_t> slots, uint64_t hash, Is is) {
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask, probes = 0; probes < slots.size(); i = (i + 1) & mask, ++probes) {
    uint32_t s = slots[i];
    if (s == 0) return kNotFound;
    if (is(s - 1)) return s - 1;
  }
  return kNotFound;
}

// A table over positions [0, n), hash_of(position) giving each one's hash.
template <class HashOf>
std::vector<uint32_t> Build(size_t n, HashOf hash_of) {
  std::vector<uint32_t> slots(CapacityFor(n), 0);
  for (size_t i = 0; i < n; ++i) Insert(slots, hash_of(static_cast<uint32_t>(i)), static_cast<uint32_t>(i));
  return slots;
}

}  // namespace hash_slots
}  // namespace preflight
