#pragma once
// Open-addressing hash tables stored as one column of slots, so that a table built by
// the load can be written to an image and searched where it is mapped. The capacity is a
// power of two, collisions probe linearly, and the hash is the same in every process
// (StableHash, not absl::Hash, whose seed differs per process).
//
// A slot is 0 when empty. Otherwise, in a table over n positions, its low
// std::bit_width(n) bits hold the position + 1 and the bits above them hold the same
// bits of the entry's 32-bit hash (a tag): a probe reads the entry behind a slot (a
// string through the pool, another cache line or two) only when the tags agree, about
// once in 2^(32 - bit_width(n)) for a slot of another entry (once in 256 at 10 million
// strings). The tags cost no space: the slot is 32 bits either way.

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

// The 32 bits of a text's hash that place it in a table and tag its slot.
inline uint32_t SlotHash(std::string_view s) { return static_cast<uint32_t>(StableHash(s) >> 32); }

namespace hash_slots {

inline constexpr uint32_t kNotFound = UINT32_MAX;

// Slots for n entries: at most two thirds full, so a probe that misses stops soon
// (about five slots on average when the table is fullest).
inline size_t CapacityFor(size_t n) { return n == 0 ? 0 : std::bit_ceil(n + n / 2 + 1); }

// The slot bits that hold position + 1 in a table over n positions (n < 2^32 - 1); the
// bits above them hold the tag.
inline uint32_t PositionBits(size_t n) { return static_cast<uint32_t>((uint64_t{1} << std::bit_width(n)) - 1); }

// Whether a slot (read from an image) is empty or holds a position below n: what makes
// Find safe on any slots, with `bits` = PositionBits(n).
inline bool Valid(uint32_t slot, uint32_t bits, size_t n) { return slot == 0 || (slot & bits) - 1 < n; }

// Puts `position` (of n) in the first free slot of its probe sequence (slots.size() a
// power of two).
inline void Insert(std::span<uint32_t> slots, size_t n, uint32_t hash, uint32_t position) {
  const uint32_t bits = PositionBits(n);
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots[i] == 0) {
      slots[i] = (hash & ~bits) | (position + 1);
      return;
    }
  }
}

// The position (of n) whose entry `is(position)` accepts, probing from `hash`;
// kNotFound. `is` runs only for slots whose tag is the hash's. At most every slot once:
// a table with no free slot (a hostile image) ends too.
template <class Is>
uint32_t Find(std::span<const uint32_t> slots, size_t n, uint32_t hash, Is is) {
  const uint32_t bits = PositionBits(n);
  const uint32_t tag = hash & ~bits;
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask, probes = 0; probes < slots.size(); i = (i + 1) & mask, ++probes) {
    uint32_t s = slots[i];
    if (s == 0) return kNotFound;
    if ((s & ~bits) == tag && is((s & bits) - 1)) return (s & bits) - 1;
  }
  return kNotFound;
}

// The position in the first slot whose tag is the hash's (the entry Find reads first),
// or kNotFound: for a caller that prefetches that entry before it looks.
inline uint32_t FirstCandidate(std::span<const uint32_t> slots, size_t n, uint32_t hash) {
  return Find(slots, n, hash, [](uint32_t) { return true; });
}

// A table over positions [0, n), hash_of(position) giving each one's hash.
template <class HashOf>
std::vector<uint32_t> Build(size_t n, HashOf hash_of) {
  std::vector<uint32_t> slots(CapacityFor(n), 0);
  for (size_t i = 0; i < n; ++i) Insert(slots, n, hash_of(static_cast<uint32_t>(i)), static_cast<uint32_t>(i));
  return slots;
}

}  // namespace hash_slots
}  // namespace preflight
