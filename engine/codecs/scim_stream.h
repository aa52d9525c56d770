#pragma once
// SCIM exports laid out one resource a line (as `preflight snapshot pull` writes them) read
// from their files a block at a time, never whole: the loader hashes such a file a block
// at a time (ReadBlocks) and a parse worker reads it a line at a time (ReadScimJsonFile),
// so no file's whole text is held in memory, and each copy out of the page cache lands in
// a small buffer that stays in the cache (no page faults, no cold text for the parser).
// Any file not in that layout is read whole, as before (engine/load reads it).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "engine/model/objects.h"
#include "engine/util/limits.h"

namespace preflight {

// The bytes of a block (a multiple of 8, so that a hash of 8-byte words reads blocks whole).
inline constexpr size_t kFileBlockBytes = size_t{256} << 10;

// Whether `path` is a SCIM export whose first line opens a ListResponse's resources (the
// line layout's head, which ReadScimJsonFile then reads a line at a time). False for
// anything else, and for a file that cannot be read (read whole, which reports it).
bool ScimExportInLines(const std::string& path);

// Which file, as it was: its device and inode, size, and modification and change times (to
// the nanosecond). A file replaced (renamed over) or written to between two readings has a
// different stamp, so the parse worker can tell that it reads what the loader hashed.
struct FileStamp {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t modified_ns = 0, changed_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// The stamp of the regular file at `path` (opened, as ReadBlocks opens it, with the same
// errors), without reading it.
absl::Status StampFile(const std::string& path, FileStamp& stamp);

// Reads `path` a block at a time into `buffer`: start(size) with the file's size first,
// then block(bytes) for each block in order, each kFileBlockBytes long but the last. A
// file that changes while it is read is an error (what was hashed is not what the size
// said). `stamp`, if given, receives the file's stamp.
absl::Status ReadBlocks(const std::string& path, std::string& buffer, absl::FunctionRef<void(uint64_t)> start,
                        absl::FunctionRef<void(std::string_view)> block, FileStamp* stamp = nullptr);

// ReadScimJson of the file at `path` (its name in diagnostics), padded lines read a block
// at a time (ScimExportInLines): the same objects, diagnostics and errors. A file not in the
// line layout after all is read whole, as ReadScimJson reads any other. With `expected`
// (the stamp ReadBlocks gave when the loader hashed it), a file that is no longer that one,
// when opened or when read to its end, is an error: its hash would not be its content's.
absl::Status ReadScimJsonFile(snapshot_sources_internal::ScimParsers& parsers, const std::string& path,
                              SnapshotObjects& out, const Limits& limits, bool pack,
                              const FileStamp* expected = nullptr);

// A file's lines, read a block at a time into one buffer reused from block to block (a
// line longer than the buffer grows it).
class FileLines {
 public:
  FileLines() = default;
  FileLines(const FileLines&) = delete;
  FileLines& operator=(const FileLines&) = delete;
  ~FileLines();
  // Opens the file; kNotFound as ReadFileInto's when it cannot be. With `expected`, a file
  // whose stamp is not that one, now or when its end is read, is kInvalidValue.
  absl::Status Open(const std::string& path, const FileStamp* expected = nullptr);
  // The whole file from its start (after Next and AppendRest gave some or none of it),
  // padded as ReadFileInto pads, into `text`; the same stamp check at its end. A file
  // whose size changes while it is read is kInvalidValue.
  absl::Status ReadWhole(std::string& text);
  // The next line, without its '\n', with 64 readable bytes after it (kSourcePadding;
  // valid until the next call); false past the last line, or when a read fails (status()).
  bool Next(std::string_view& line);
  // Where `p` (within the last line given) is in the file.
  uint64_t Offset(const char* p) const { return base_ + static_cast<uint64_t>(p - buffer_.data()); }
  // The file from `p` (within the last line given) to its end, appended to `to`; false when
  // a read fails (status()).
  bool AppendRest(const char* p, std::string& to);
  // A read's failure, or OK.
  const absl::Status& status() const { return status_; }

 private:
  // Reads more after the bytes not yet given out (moved to the buffer's front); false
  // when a read fails.
  bool Fill();

  // kInvalidValue unless the open file still has the expected stamp (if one was given).
  absl::Status CheckStamp() const;

  int fd_ = -1;
  std::string path_;
  const FileStamp* expected_ = nullptr;
  std::string buffer_;        // the bytes read, then kSourcePadding bytes
  size_t begin_ = 0, end_ = 0;  // the bytes read and not yet given out
  uint64_t base_ = 0;         // where the buffer's first byte is in the file
  bool eof_ = false;
  absl::Status status_;
};

}  // namespace preflight
