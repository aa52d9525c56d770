#pragma once
// The source hash (engine/load/source_hash.h) of the sources added in order, where a file
// read by its parse worker a block at a time (a SCIM export in the line layout) is hashed
// later, by reading it again (from the page cache, as a rule), on a thread started when
// the build starts (Start): the hash runs beside the build's one-thread passes instead of
// taking a core's share from the parse workers. A text (a file read whole) is hashed at
// once when nothing is pending; after a pending file it is copied and hashed in order (a
// large one: the pending files are hashed first, by the caller). Finish() gives the hash,
// the calling thread hashing whatever is left. A file hashed later must still be the one
// its stamp says (engine/codecs/scim_stream.h), which its parse worker also checks: a
// file changed or replaced in between is an error, as when it changes while it is read.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/codecs/scim_stream.h"
#include "engine/load/source_hash.h"

namespace preflight {

class DeferredHash {
 public:
  DeferredHash() = default;
  DeferredHash(const DeferredHash&) = delete;
  DeferredHash& operator=(const DeferredHash&) = delete;
  ~DeferredHash();

  // The file at `path`, as `stamp` says it is (its size and identity), hashed later.
  void AddFile(std::string path, const FileStamp& stamp);
  // A text, hashed after the sources added before it.
  void AddText(std::string_view text);
  // A thread hashes the sources pending (until none is), beside the caller's work.
  void Start();
  // Every source added hashed (by this thread, for those not yet): the hash, or the error
  // of the first file that could not be read again as it was.
  absl::StatusOr<SourceHash> Finish();

 private:
  // A text larger than this, after a pending file, waits for it instead of being copied.
  static constexpr size_t kCopiedTextBytes = size_t{16} << 20;
  struct Source {
    std::string path;  // a file's; none for a text
    FileStamp stamp;
    std::string text;
  };
  // Hashes the next source unless one is being hashed (or none is pending): true if it did.
  bool HashNext(std::unique_lock<std::mutex>& lock);
  // Until no source is pending, this thread hashing those it can.
  void Drain(std::unique_lock<std::mutex>& lock);
  void Hash(const Source& source);  // under the token (busy_)

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Source> pending_;
  bool busy_ = false;  // a thread is hashing (the token: hash_, status_ and buffer_ are its)
  bool closing_ = false;
  SourceHash hash_;
  absl::Status status_;
  std::string buffer_;
  std::thread thread_;
};

}  // namespace preflight
