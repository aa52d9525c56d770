#include "engine/model/packed_texts.h"

#include <memory>
#include <new>

#include <zstd.h>

#include "absl/strings/str_cat.h"

#include "engine/model/population.h"
#include "engine/model/record_check.h"

namespace preflight {
namespace {

// zstd's fastest level that still finds the texts' repeats: 15-25x on SCIM exports at
// about 1.5-2 GB/s a core. Its parameters for a 128 KB frame but for two: matches of at
// least 7 bytes, not 6 (the texts' repeats are keys, URNs, names and ids, all longer),
// and a 32K-entry hash table, not 8K (it stays in the core's L2). On the SCIM exports at
// 100,000 identities, 3-5% faster, Users' texts the same size, Accounts' 3.5% smaller.
constexpr int kLevel = 1;
constexpr int kMinMatch = 7;
constexpr int kHashLog = 15;
// A frame larger than this is not one this build wrote (a text this large is not read).
constexpr uint64_t kMaxFrameBytes = uint64_t{1} << 30;

struct FreeCCtx {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

void PackedTexts::Seal() {
  if (size() == sealed_texts_) return;
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx = [] {
    std::unique_ptr<ZSTD_CCtx, FreeCCtx> c(ZSTD_createCCtx());
    if (c && (ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, kLevel)) ||
              ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_minMatch, kMinMatch)) ||
              ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_hashLog, kHashLog))))
      c.reset();
    return c;
  }();
  if (!cctx) throw std::bad_alloc();
  // Into a buffer of the thread's, reused (in cache, its pages faulted in once), then
  // appended at its size: growing `packed_` by the bound would zero-fill and fault in
  // ~128 KB for a frame of a few KB.
  thread_local std::string frame;
  std::string large;  // a frame far larger than a frame's usual size is not kept by the thread
  const size_t bound = ZSTD_compressBound(pending_.size());
  std::string& to = bound <= 2 * ZSTD_compressBound(kFrameBytes) ? frame : large;
  if (to.size() < bound) to.resize(bound);
  const size_t n = ZSTD_compress2(cctx.get(), to.data(), bound, pending_.data(), pending_.size());
  if (ZSTD_isError(n)) throw std::bad_alloc();  // into a bound-sized buffer: only memory fails it
  frame_starts_.push_back(sealed_bytes_);
  frame_offsets_.push_back(packed_.size());
  packed_.insert(packed_.end(), to.data(), to.data() + n);
  sealed_bytes_ += pending_.size();
  sealed_texts_ = size();
  pending_.clear();
}

void PackedTexts::Append(PackedTexts&& from) {
  from.Seal();
  if (from.empty()) return;
  Seal();
  if (starts_.empty()) starts_.push_back(0);
  const uint64_t raw = sealed_bytes_, packed = packed_.size();
  for (size_t i = 1; i < from.starts_.size(); ++i) starts_.push_back(raw + from.starts_[i]);
  for (uint64_t s : from.frame_starts_) frame_starts_.push_back(raw + s);
  for (uint64_t o : from.frame_offsets_) frame_offsets_.push_back(packed + o);
  packed_.insert(packed_.end(), from.packed_.begin(), from.packed_.end());
  sealed_bytes_ += from.sealed_bytes_;
  sealed_texts_ = size();
  from = PackedTexts();
}

PackedTexts::Footprint PackedTexts::footprint() const {
  const bool pending = size() > sealed_texts_;
  return {size(), frame_starts_.size() + (pending ? 1 : 0),
          packed_.size() + (pending ? ZSTD_compressBound(pending_.size()) : 0)};
}

void PackedTexts::Reserve(const Footprint& more) {
  packed_.reserve(packed_.size() + more.packed_bytes);
  // One more start (the first) when none is yet; one more frame for the end (Take).
  starts_.reserve(starts_.size() + more.texts + 1);
  frame_starts_.reserve(frame_starts_.size() + more.frames + 1);
  frame_offsets_.reserve(frame_offsets_.size() + more.frames + 1);
}

PackedTexts::Columns PackedTexts::Take() {
  Seal();
  Columns c;
  if (!empty()) {
    frame_starts_.push_back(sealed_bytes_);
    frame_offsets_.push_back(packed_.size());
    c = {std::move(packed_), std::move(starts_), std::move(frame_starts_), std::move(frame_offsets_)};
  }
  *this = PackedTexts();
  return c;
}

bool UnpackFrame(std::string_view frame, uint64_t raw_bytes, std::string& out) {
  out.clear();
  if (raw_bytes > kMaxFrameBytes || ZSTD_getFrameContentSize(frame.data(), frame.size()) != raw_bytes) return false;
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  out.resize(raw_bytes);
  const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != raw_bytes) {
    out.clear();
    return false;
  }
  return true;
}

// Text i's bytes within the text column (stored as they are), or within its frame, which
// is decompressed unless it is the one held. Every offset is checked here: an image's
// columns are checked to be in order at open, not to agree with each other. A text that
// cannot be read (a hostile or corrupt image's) fails the call that reads it
// (CorruptRecord), so that a query never answers with a resource silently left out.
std::string_view TextList::Reader::operator[](size_t i) {
  const TextList& l = list_;
  if (i >= l.size_) return {};
  const uint64_t begin = l.starts_[i], end = l.starts_[i + 1];
  if (!l.packed_) {
    if (begin > end || end > l.text_bytes_)
      ThrowCorruptRecord("resources.starts", i, absl::StrCat("a text [", begin, ", ", end, ") outside the ",
                                                             l.text_bytes_, " bytes of text"));
    return {l.text_ + begin, static_cast<size_t>(end - begin)};
  }
  // The last frame whose texts start at or before this one's.
  const uint64_t* frame = std::upper_bound(l.frame_starts_, l.frame_starts_ + l.frames_, begin);
  if (frame == l.frame_starts_) ThrowCorruptRecord("resources.frames", 0, absl::StrCat("no frame holds text ", i));
  const size_t k = static_cast<size_t>(frame - l.frame_starts_) - 1;
  const uint64_t raw_begin = l.frame_starts_[k], raw_end = l.frame_starts_[k + 1];
  if (begin > end || end > raw_end || raw_begin > raw_end)
    ThrowCorruptRecord("resources.frames", k, absl::StrCat("text ", i, " [", begin, ", ", end, ") outside its frame [",
                                                           raw_begin, ", ", raw_end, ")"));
  if (at_ != k) {
    at_ = SIZE_MAX;
    const uint64_t from = l.frame_offsets_[k], to = l.frame_offsets_[k + 1];
    if (from > to || to > l.text_bytes_ ||
        !UnpackFrame(std::string_view(l.text_ + from, static_cast<size_t>(to - from)), raw_end - raw_begin, frame_))
      ThrowCorruptRecord("resources.frameOffsets", k, "a frame that does not decompress to its texts");
    at_ = k;
  }
  return std::string_view(frame_).substr(begin - raw_begin, end - begin);
}

}  // namespace preflight
