#pragma once
// SCIM resources kept as documents for queries, as the SCIM reader hands them to the
// build: (resource type, JSON text), in the order read. A reader's texts are kept in a
// block per file, per type compressed as they are added (engine/model/packed_texts.h):
// an export holds hundreds of thousands of resources (1.2 GB of text at 100,000
// identities), and the build then copies each block's frames into the model's columns
// as they are, without compressing (or holding) the texts again.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/packed_texts.h"

namespace preflight {

// The SCIM resource types a snapshot keeps texts of (what the SCIM reader recognizes).
inline constexpr std::array<std::string_view, 5> kResourceTypes = {"Users", "Accounts", "Entitlements", "Roles",
                                                                   "Applications"};

// kResourceTypes' position of `type`, or kResourceTypes.size().
inline size_t ResourceTypeIndex(std::string_view type) {
  size_t t = 0;
  while (t < kResourceTypes.size() && kResourceTypes[t] != type) ++t;
  return t;
}

class ScimDocuments {
 public:
  struct Block {
    std::array<PackedTexts, kResourceTypes.size()> texts;  // per kResourceTypes entry
    // Its texts are JSON a reader parsed within the query documents' nesting budget
    // (set by the build, Trust()): the build does not parse them again.
    bool trusted = false;
  };

  void emplace_back(std::string_view type, std::string_view text) {
    Add(type, [&](std::string& to) { to.append(text); });
  }
  // A document whose text `write(std::string& to)` appends to `to`. Of a type no query
  // reads (not in kResourceTypes), nothing is kept.
  template <typename Write>
  void Add(std::string_view type, Write&& write) {
    const size_t t = ResourceTypeIndex(type);
    if (t == kResourceTypes.size()) return;
    if (blocks_.empty() || blocks_.back().trusted) blocks_.emplace_back();
    blocks_.back().texts[t].Add(write);
  }
  size_t size() const {
    size_t n = 0;
    for (const Block& b : blocks_)
      for (const PackedTexts& texts : b.texts) n += texts.size();
    return n;
  }
  bool empty() const { return size() == 0; }
  void clear() { blocks_.clear(); }
  // Every text added is compressed, and the buffers of those being added released.
  void Finish() {
    for (Block& b : blocks_)
      for (PackedTexts& texts : b.texts) texts.Finish();
  }
  // Room in `texts` (one per kResourceTypes entry) for every block's texts of its type
  // (PackedTexts::Reserve).
  void Reserve(std::array<PackedTexts, kResourceTypes.size()>& texts) const {
    for (size_t t = 0; t < kResourceTypes.size(); ++t) {
      PackedTexts::Footprint all;
      for (const Block& b : blocks_) all += b.texts[t].footprint();
      texts[t].Reserve(all);
    }
  }
  // Every block trusted (see Block::trusted); a document added later starts a new block.
  void Trust() {
    for (Block& b : blocks_) b.trusted = true;
  }
  std::vector<Block>& blocks() { return blocks_; }
  const std::vector<Block>& blocks() const { return blocks_; }

  // Every document, block by block and by type within a block: f(type, text).
  template <typename F>
  void ForEach(F&& f) const {
    for (const Block& b : blocks_)
      for (size_t t = 0; t < kResourceTypes.size(); ++t)
        b.texts[t].ForEach([&](std::string_view text) { f(kResourceTypes[t], text); });
  }
  // `from`'s documents after these (its blocks moved, not copied).
  void Append(ScimDocuments&& from) {
    for (Block& b : from.blocks_) {
      size_t n = 0;
      for (const PackedTexts& texts : b.texts) n += texts.size();
      if (n) blocks_.push_back(std::move(b));
    }
    from.blocks_.clear();
  }

 private:
  std::vector<Block> blocks_;
};

}  // namespace preflight
