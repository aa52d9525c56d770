#pragma once
// SCIM resources kept as documents for queries, as the SCIM reader hands them to the
// build: (resource type, JSON text), in the order read. A reader's texts are kept end to
// end in one buffer (a block) rather than in a std::string each: an export holds hundreds
// of thousands of resources (1.2 GB of text at 100,000 identities), and a block per file
// is one allocation, which the build releases as soon as it has copied it (small strings
// freed one by one stay in the process's heap: the load's peak held the texts twice).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preflight {

class ScimDocuments {
 public:
  struct Block {
    struct Entry {
      std::string type;  // Users, Accounts, ...
      size_t end = 0;    // where its text ends in `text`
    };
    std::string text;
    std::vector<Entry> entries;

    std::string_view Text(size_t i) const {
      size_t begin = i ? entries[i - 1].end : 0;
      return std::string_view(text).substr(begin, entries[i].end - begin);
    }
  };

  void emplace_back(std::string_view type, std::string_view text) {
    Add(type, [&](std::string& to) { to.append(text); });
  }
  // A document whose text `write(std::string& to)` appends to `to`.
  template <typename Write>
  void Add(std::string_view type, Write&& write) {
    if (blocks_.empty()) blocks_.emplace_back();
    Block& block = blocks_.back();
    write(block.text);
    block.entries.push_back({std::string(type), block.text.size()});
  }
  // Room for `bytes` of text in the last block, before a reader adds its documents.
  void reserve(size_t bytes) {
    if (blocks_.empty()) blocks_.emplace_back();
    blocks_.back().text.reserve(bytes);
  }
  size_t size() const {
    size_t n = 0;
    for (const Block& b : blocks_) n += b.entries.size();
    return n;
  }
  bool empty() const { return size() == 0; }
  void clear() { blocks_.clear(); }
  std::vector<Block>& blocks() { return blocks_; }
  const std::vector<Block>& blocks() const { return blocks_; }

  // Every document in order: f(type, text).
  template <typename F>
  void ForEach(F&& f) const {
    for (const Block& b : blocks_)
      for (size_t i = 0; i < b.entries.size(); ++i) f(std::string_view(b.entries[i].type), b.Text(i));
  }
  // `from`'s documents after these (its blocks moved, not copied).
  void Append(ScimDocuments&& from) {
    for (Block& b : from.blocks_)
      if (!b.entries.empty()) blocks_.push_back(std::move(b));
    from.blocks_.clear();
  }

 private:
  std::vector<Block> blocks_;
};

}  // namespace preflight
