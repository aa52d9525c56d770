#pragma once
// A compact, immutable JSON document for SCIM resources, built once and queried many times.
//
// Layout: one buffer holding a flat array of nodes; the children of an array or object occupy a contiguous
// block of nodes, so an element is `first + i` with no pointers. Object keys live in a side
// vector of members (parallel to the value block) with their original spelling and an
// ASCII-lower-cased copy, so case-insensitive lookup (SCIM attribute names) is a memcmp.
// Strings keep their original bytes and a lower-cased copy for caseExact=false comparisons
// (the copy is shared with the original when the string has no upper-case ASCII).
// Numbers keep the double, and the int64 when the JSON number is an integer.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/util/limits.h"

namespace preflight {

class JsonWriter;

enum class DocType : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct DocNode {
  DocType type = DocType::kNull;
  bool bool_value = false;  // kBool
  bool is_int = false;      // kNumber: int_value is exact
  uint32_t size = 0;        // kString: bytes; kArray: elements; kObject: members
  uint32_t first = 0;       // kString: arena offset; kArray/kObject: index of the first child node
  uint32_t aux = 0;         // kString: arena offset of the lower-cased copy; kObject: first member
  int64_t int_value = 0;
  double number = 0;
};

class Doc {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t root() const { return 0; }
  bool empty() const { return node_count_ == 0; }
  const DocNode& node(uint32_t i) const { return nodes()[i]; }
  size_t node_count() const { return node_count_; }
  // What the document holds on the heap (its one allocation).
  size_t heap_bytes() const { return buf_.size() > 15 ? buf_.size() + 1 : 0; }

  std::string_view str(const DocNode& n) const { return {arena() + n.first, n.size}; }
  std::string_view lower_str(const DocNode& n) const { return {arena() + n.aux, n.size}; }

  // Members of an object node: i in [0, n.size).
  std::string_view key(const DocNode& obj, uint32_t i) const {
    const Member& m = members()[obj.aux + i];
    return {arena() + m.key, m.size};
  }
  std::string_view lower_key(const DocNode& obj, uint32_t i) const {
    const Member& m = members()[obj.aux + i];
    return {arena() + m.lower, m.size};
  }
  uint32_t child(const DocNode& n, uint32_t i) const { return n.first + i; }

  // The value of the member whose lower-cased key equals `lower_key` (which must already be
  // lower-case), or kNone. Linear: SCIM objects are small.
  uint32_t Find(uint32_t object, std::string_view lower_key) const {
    const DocNode& o = nodes()[object];
    if (o.type != DocType::kObject) return kNone;
    const uint32_t size = static_cast<uint32_t>(lower_key.size());
    const uint32_t prefix = Prefix(lower_key);
    const Member* m = members() + o.aux;
    for (uint32_t i = 0; i < o.size; ++i) {
      // The size and the first four bytes reject almost every other key without touching the arena.
      if (m[i].size == size && m[i].prefix == prefix &&
          (size <= 4 || std::char_traits<char>::compare(arena() + m[i].lower + 4, lower_key.data() + 4,
                                                        size - 4) == 0))
        return o.first + i;
    }
    return kNone;
  }

  // The first four bytes of a key, zero-padded, as one integer.
  static uint32_t Prefix(std::string_view s) {
    uint32_t p = 0;
    for (size_t i = 0; i < 4 && i < s.size(); ++i) p |= static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << (8 * i);
    return p;
  }

  size_t MemoryBytes() const { return sizeof(Doc) + buf_.capacity(); }

 private:
  friend class DocAssembler;
  struct Member {
    uint32_t key = 0;
    uint32_t lower = 0;
    uint32_t size = 0;
    uint32_t prefix = 0;  // Prefix() of the lower-cased key
  };
  // One allocation per document (what evaluation touches stays close together):
  // [DocNode x node_count_][Member x member_count_][arena bytes: strings and keys].
  std::string buf_;
  uint32_t node_count_ = 0;
  uint32_t member_count_ = 0;

  const DocNode* nodes() const { return reinterpret_cast<const DocNode*>(buf_.data()); }
  const Member* members() const {
    return reinterpret_cast<const Member*>(buf_.data() + size_t{node_count_} * sizeof(DocNode));
  }
  const char* arena() const {
    return buf_.data() + size_t{node_count_} * sizeof(DocNode) + size_t{member_count_} * sizeof(Member);
  }
};

// Parses one JSON value (normally an object) into a Doc. Malformed JSON is kInvalidSyntax;
// nesting deeper than limits.max_nesting_depth or input over max_input_bytes is kTooMany.
absl::StatusOr<Doc> DocFromJson(std::string_view json, const Limits& limits = DefaultLimits());

// Serialization (compact JSON; numbers in shortest round-trip form, integers as integers).
std::string DocToJson(const Doc& doc);
void WriteDocNode(const Doc& doc, uint32_t node, JsonWriter& out);

// ASCII lower-casing used for attribute names and caseExact=false values.
std::string AsciiLower(std::string_view s);
void AppendShortestDouble(std::string& out, double v);

}  // namespace preflight
