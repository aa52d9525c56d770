#pragma once
// The lenient Java `Map.toString` form of a ProvisioningPlan, as IdentityIQ 7.x read it
// through flexjson 2.1's JSONTokener (docs/semantics.md, "Plan forms"):
//
//   {accounts=[{op=Modify, instance=null, application=Active_Directory,
//               attributes=[{op=Add, name=groupmbr, value=UnixAdministration}], nativeIdentity=null}]}
//
// Rules (JSONTokener's): a key is separated from its value by `=`, `=>` or `:`; members and
// items are separated by `,` or `;` (a trailing separator is allowed); an unquoted word runs
// until a control character or one of  , : ] } / \ " [ { ; = #  and is trimmed; a bare
// null/true/false (any case) is a literal and a bare -?[0-9]+ that fits 64 bits an integer;
// everything else bare is a string ("1.5" too). "..." and '...' strings take the JSON
// escapes plus \'. Comments `//...`, `/*...*/` and `#...` are skipped as the tokenizer does.
//
// Text in, AST out; the Spirit X3 grammar lives in plan_map.cc only. Errors are
// ErrorCode::kInvalidSyntax with line, column, byte offset and a caret message naming the
// expected token in words (a value that runs into , = { } [ is told to use the JSON form);
// a key repeated in one map is ErrorCode::kInvalidValue with its JSON pointer; nesting deeper
// than max_depth ({ and [ each count one level) is ErrorCode::kTooMany. The parser recurses
// once per level and never deeper than min(max_depth, kMaxNestingDepthCap). A leading UTF-8
// BOM is skipped.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "grammar/source_span.h"

namespace preflight {

// The parsed text as one flat tree in document order: a container is followed by its
// items, each item's whole subtree before the next item, so reading it needs no pointers
// (an item's `end` is where its next sibling starts). Strings are views of the parsed text,
// or of the tree's own buffer for a quoted string that had escapes. A tree parsed into
// again keeps its memory: a thread that reuses one parses without allocating.
class MapFormTree {
 public:
  enum class Kind : uint8_t { kNull, kString, kBoolean, kInteger, kList, kMap };
  struct Node {
    Kind kind = Kind::kNull;
    bool bare = false;  // written without quotes (true for bare null/true/false/numbers too)
    bool boolean = false;
    bool text_decoded = false;  // `text` is in the tree's buffer, not the source
    bool key_decoded = false;
    // kString: the decoded text. Bare scalars (null, true, 0012): the word as written, so that
    // a field that wants a string (nativeIdentity=0012) can take it unchanged.
    uint32_t text_begin = 0, text_size = 0;
    uint32_t key_begin = 0, key_size = 0;  // an item of a map: its key
    uint32_t end = 0;    // the index after this node's subtree
    uint32_t count = 0;  // a container: its items
    int64_t integer = 0;
    SourceSpan span;  // the whole value in the source text
  };

  // The root is node 0 after a successful parse.
  const Node& node(uint32_t i) const { return nodes_[i]; }
  size_t size() const { return nodes_.size(); }
  std::string_view text(const Node& n) const { return View(n.text_decoded, n.text_begin, n.text_size); }
  std::string_view key(const Node& n) const { return View(n.key_decoded, n.key_begin, n.key_size); }
  // Calls f(index, node) for each item of container `i`, in order.
  template <typename F>
  void ForEachItem(uint32_t i, F&& f) const {
    for (uint32_t j = i + 1, k = 0; j < nodes_[i].end; j = nodes_[j].end, ++k) f(k, j);
  }
  // The memory kept between parses (nodes and decoded text), for callers that bound it.
  size_t retained_bytes() const { return nodes_.capacity() * sizeof(Node) + decoded_.capacity(); }

 private:
  friend struct MapFormBuilder;
  std::string_view View(bool decoded, uint32_t begin, uint32_t size) const {
    return (decoded ? std::string_view(decoded_) : source_).substr(begin, size);
  }
  // The parser's state, kept with the tree so that its memory is reused too.
  struct Frame {
    uint32_t node = 0;  // the open container
    bool key_decoded = false;
    uint32_t key_begin = 0, key_size = 0;  // a map: the key of the item being read
    std::unordered_set<std::string_view> keys;  // a map's keys, hashed once there are many
  };
  std::string_view source_;
  std::vector<Node> nodes_;
  std::string decoded_;
  std::vector<Frame> frames_;
  size_t depth_ = 0;
};

// Parses `text` into `tree` (its previous content is dropped; on failure the tree is
// unspecified). The tree keeps views of `text`: it must outlive the tree's use. A text of
// 4 GiB or more is ErrorCode::kTooMany (offsets are 32-bit).
absl::Status ParseMapForm(std::string_view text, int max_depth, MapFormTree& tree);

}  // namespace preflight
