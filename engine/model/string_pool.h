#pragma once
// Interns every name and value of a snapshot once, to a dense 32-bit id. After load,
// matching compares ids, never text.
//
// The pool is three columns (engine/model/column.h): the text of every string end to
// end, where each one starts (32-bit offsets: a pool holds at most 4 GiB of text, and a
// build that would pass it is refused), and a hash table of slots (engine/model/hash_slots.h)
// for Find. The load interns into the text columns as it goes, with a table of its own
// that keeps 32 bits of each string's hash beside its id, so a probe compares text
// only when the hash bits agree (a load interns tens of millions of values, each probe
// would otherwise read two far-apart places); Freeze() makes the slots column from it,
// whose slots keep the hash's bits above the id for the same reason, and releases the
// columns' spare capacity. A pool whose columns view a mapped image
// finds and reads strings the same way, with nothing rebuilt.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "engine/model/column.h"
#include "engine/model/record_check.h"

namespace preflight {

using Id = uint32_t;
inline constexpr Id kNoId = UINT32_MAX;

// Hash for string-keyed maps with heterogeneous (string_view) lookup.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}({s.data(), s.size()}); }
};

class StringPool {
 public:
  // The most text a pool holds: its offsets are 32 bits.
  static constexpr uint64_t kMaxTextBytes = UINT32_MAX;

  // `max_text_bytes` below kMaxTextBytes only for tests.
  explicit StringPool(uint64_t max_text_bytes = kMaxTextBytes);
  // A string that does not fit (full() from then on) gets id 0 instead: a valid id, so
  // that the build goes on safely to where it refuses the pool (SnapshotBuilder::Build).
  Id Intern(std::string_view s);
  // The same with the string's SlotHash (engine/model/hash_slots.h) computed already.
  Id Intern(std::string_view s, uint32_t hash);
  // Room for `bytes` more text and `strings` more strings (at most: room never written
  // is never resident), so that the text does not grow by copying itself (a text growing
  // from N to 2N bytes holds 3N for a moment: at 1,000,000 identities, the load's peak).
  void Reserve(uint64_t bytes, size_t strings);
  // A string did not fit: its text would have passed max_text_bytes.
  bool full() const { return full_; }
  // kNoId when the string was never interned.
  Id Find(std::string_view s) const;
  Id Find(std::string_view s, uint32_t hash) const;
  // A hint: a Find or Intern of a string with this hash comes soon, so its slot of the
  // interning table is fetched meanwhile (a load's probes are cache misses, one after the
  // other; hinted a few strings ahead, they overlap).
  void Prefetch(uint32_t hash) const {
    if (!interning_.empty()) __builtin_prefetch(&interning_[hash & (interning_.size() - 1)]);
  }
  // The same hint for a frozen pool's Find, in the three steps a lookup takes one after
  // the other, so that a caller with several strings to look up overlaps their misses:
  // step 0 fetches the string's slot; step 1, once the slot is in cache, where the text
  // of the slot's entry starts; step 2, once that is, the text. Each reads only what the
  // step before fetched (and nothing from an unverified image's columns).
  void PrefetchFind(uint32_t hash, int step) const;
  // The same for Get(id): where its text starts, or (once that is in cache) the text.
  void PrefetchGet(Id id, bool text) const {
    if (checks_.on() || id >= size()) return;
    __builtin_prefetch(text ? text_.data() + starts_[id] : static_cast<const void*>(&starts_[id]));
  }
  std::string_view Get(Id id) const {
    if (checks_.on()) CheckGet(id);
    return {text_.data() + starts_[id], static_cast<size_t>(starts_[id + 1] - starts_[id])};
  }
  // On while a mapped image's columns are unverified (engine/model/record_check.h).
  const RecordChecks& checks() const { return checks_; }
  size_t size() const { return starts_.size() - 1; }
  // The bytes of the columns.
  size_t bytes() const { return text_.bytes() + starts_.bytes() + slots_.bytes(); }
  // Done interning: the columns drop their spare capacity.
  void Freeze();

  // Every column, in a fixed order, as f(std::string_view name, Column<T>& column): what
  // an image writes, and views when it is opened.
  template <class F>
  void ForEachColumn(F f) {
    f(std::string_view("pool.text"), text_);
    f(std::string_view("pool.starts"), starts_);
    f(std::string_view("pool.slots"), slots_);
  }
  template <class F>
  void ForEachColumn(F f) const {
    f(std::string_view("pool.text"), text_);
    f(std::string_view("pool.starts"), starts_);
    f(std::string_view("pool.slots"), slots_);
  }

 private:
  Column<char> text_;
  Column<uint32_t> starts_;  // size() + 1 entries: string i is text_[starts_[i], starts_[i + 1])
  Column<uint32_t> slots_;   // id + 1 under the hash's tag bits, or 0 for an empty slot
  // While interning: hash bits << 32 | (id + 1), or 0 for an empty slot.
  std::vector<uint64_t> interning_;
  uint64_t max_text_bytes_;
  bool full_ = false;
  RecordChecks checks_;
  void CheckGet(Id id) const;
};

}  // namespace preflight
