#pragma once
// Interns every name and value of a snapshot once, to a dense 32-bit id. After load,
// matching compares ids, never text.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

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
  Id Intern(std::string_view s);
  // kNoId when the string was never interned.
  Id Find(std::string_view s) const;
  std::string_view Get(Id id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::deque<std::string> strings_;  // stable addresses: the map keys point into them
  absl::flat_hash_map<std::string_view, Id, StringHash, std::equal_to<>> ids_;
  size_t bytes_ = 0;
};

}  // namespace preflight
