#pragma once
// Texts kept compressed: the SCIM resources a snapshot keeps for queries. They are most
// of a SCIM snapshot's model (1.2 GB of JSON at 100,000 identities, 94%) and compress
// 15-25x, so they are kept in zstd frames of whole texts, each about kFrameBytes of text:
// one text is read by decompressing its frame, all of them (a query's first pass over a
// type) at zstd's speed, a frame at a time. The layout, which the model's columns keep
// (engine/model/population.h):
//   packed         the frames end to end;
//   starts         where each text starts in the texts end to end (uncompressed), and
//                  where the last one ends: texts + 1 offsets (none when there are none);
//   frame_starts   where each frame's first text starts (uncompressed), and the end;
//   frame_offsets  where each frame starts in `packed`, and the end: frames + 1 each.
// No frames (and texts) means the texts are stored as they are, end to end in `packed`:
// images of format version 2 (engine/image) keep them so.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace preflight {

// Texts being added, compressed a frame at a time.
class PackedTexts {
 public:
  // Texts are added to a frame until it holds this many bytes (a text is never split).
  static constexpr size_t kFrameBytes = size_t{128} << 10;

  // Appends a text: write(std::string& to) appends it to `to`.
  template <typename Write>
    requires std::invocable<Write&, std::string&>
  void Add(Write&& write) {
    if (starts_.empty()) starts_.push_back(0);
    write(pending_);
    starts_.push_back(sealed_bytes_ + pending_.size());
    if (pending_.size() >= kFrameBytes) Seal();
  }
  void Add(std::string_view text) {
    Add([&](std::string& to) { to.append(text); });
  }
  // Compresses the texts added since the last frame into a frame.
  void Seal();
  // Seal(), and the buffer of the texts being added released (no more are added).
  void Finish() {
    Seal();
    std::string().swap(pending_);
  }
  // `from`'s texts after these, its frames copied as they are (not compressed again).
  void Append(PackedTexts&& from);
  // What texts take in the columns: the texts, their frames (one more for the texts
  // not yet in one) and the frames' bytes (at most the bound of those not yet compressed).
  struct Footprint {
    size_t texts = 0, frames = 0, packed_bytes = 0;
    Footprint& operator+=(const Footprint& o) {
      texts += o.texts;
      frames += o.frames;
      packed_bytes += o.packed_bytes;
      return *this;
    }
  };
  Footprint footprint() const;
  // Room for `more` after these texts, so that appending texts of that footprint
  // (Append) does not grow the columns by copying them (a column growing from N to 2N
  // bytes holds 3N for a moment, each byte faulted in twice).
  void Reserve(const Footprint& more);

  size_t size() const { return starts_.empty() ? 0 : starts_.size() - 1; }
  bool empty() const { return size() == 0; }
  // The texts' bytes, uncompressed.
  uint64_t raw_bytes() const { return starts_.empty() ? 0 : starts_.back(); }

  // The columns (Seal() first): moved out, this left empty.
  struct Columns {
    std::vector<char> packed;
    std::vector<uint64_t> starts, frame_starts, frame_offsets;
  };
  Columns Take();

  // Every text in order: f(std::string_view text).
  template <typename F>
  void ForEach(F&& f) const;

 private:
  std::vector<char> packed_;
  std::vector<uint64_t> starts_, frame_starts_, frame_offsets_;  // frames without their end
  uint64_t sealed_bytes_ = 0;  // the texts' bytes in frames
  size_t sealed_texts_ = 0;    // the texts in frames
  std::string pending_;        // the texts after the last frame
};

// Decompresses a frame of `raw_bytes` bytes (frame_starts' difference) into `out`; false
// when it is not one (a corrupt image), or is larger than a frame may be.
bool UnpackFrame(std::string_view frame, uint64_t raw_bytes, std::string& out);

template <typename F>
void PackedTexts::ForEach(F&& f) const {
  std::string frame;
  size_t text = 0;
  auto texts_to = [&](std::string_view raw, uint64_t raw_begin) {  // the texts that end within raw
    for (; text < size() && starts_[text + 1] <= raw_begin + raw.size(); ++text)
      f(raw.substr(starts_[text] - raw_begin, starts_[text + 1] - starts_[text]));
  };
  for (size_t k = 0; k < frame_starts_.size(); ++k) {
    const uint64_t begin = frame_offsets_[k];
    const uint64_t end = k + 1 < frame_offsets_.size() ? frame_offsets_[k + 1] : packed_.size();
    const uint64_t raw_end = k + 1 < frame_starts_.size() ? frame_starts_[k + 1] : sealed_bytes_;
    UnpackFrame(std::string_view(packed_.data() + begin, end - begin), raw_end - frame_starts_[k], frame);
    texts_to(frame, frame_starts_[k]);
  }
  texts_to(pending_, sealed_bytes_);
}

}  // namespace preflight
