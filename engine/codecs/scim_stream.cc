// Files read a block at a time (engine/codecs/scim_stream.h): the loader's hash of a SCIM
// export in the line layout, and the lines its parse worker reads.

#include "engine/codecs/scim_stream.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/util/error.h"

namespace preflight {
namespace {

absl::Status CannotOpen(const std::string& path) {
  return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot open file: ", std::strerror(errno)), Location{path});
}
absl::Status CannotRead(const std::string& path) {
  return MakeError(ErrorCode::kNotFound, "cannot read file", Location{path});
}

// read(2) into [to, to + n) until it is full or the file ends: the bytes read, or -1.
ssize_t ReadFull(int fd, char* to, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::read(fd, to + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

FileStamp StampOf(const struct stat& st) {
  FileStamp s;
  s.device = static_cast<uint64_t>(st.st_dev);
  s.inode = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<uint64_t>(st.st_size);
  s.modified_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.changed_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

absl::Status Changed(const std::string& path, std::string_view when) {
  return MakeError(ErrorCode::kInvalidValue,
                   absl::StrCat("the file changed ", ToAbsl(when), "; load the snapshot again"), Location{path});
}

}  // namespace

absl::Status StampFile(const std::string& path, FileStamp& stamp) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CannotOpen(path);
  struct stat st;
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) return CannotRead(path);
  stamp = StampOf(st);
  return absl::OkStatus();
}

absl::Status ReadBlocks(const std::string& path, std::string& buffer, absl::FunctionRef<void(uint64_t)> start,
                        absl::FunctionRef<void(std::string_view)> block, FileStamp* stamp) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CannotOpen(path);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return CannotRead(path);
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  start(size);
  buffer.resize(kFileBlockBytes);
  uint64_t total = 0;
  absl::Status status;
  while (true) {
    const ssize_t n = ReadFull(fd, buffer.data(), buffer.size());
    if (n < 0) {
      status = CannotRead(path);
      break;
    }
    if (n == 0) break;
    block(std::string_view(buffer.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < buffer.size()) break;
  }
  struct stat after;
  const bool same = ::fstat(fd, &after) == 0 && StampOf(after) == StampOf(st);
  ::close(fd);
  if (status.ok() && total != size)
    status = MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat("the file changed while it was read (", size, " bytes, then ", total, ")"),
                       Location{path});
  if (status.ok() && !same) status = Changed(path, "while it was read");
  if (stamp != nullptr) *stamp = StampOf(st);
  return status;
}

FileLines::~FileLines() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status FileLines::Open(const std::string& path, const FileStamp* expected) {
  path_ = path;
  expected_ = expected;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return CannotOpen(path);
  if (absl::Status same = CheckStamp(); !same.ok()) return same;
  buffer_.resize(kFileBlockBytes + kSourcePadding);
  return absl::OkStatus();
}

absl::Status FileLines::CheckStamp() const {
  if (expected_ == nullptr) return absl::OkStatus();
  struct stat st;
  if (::fstat(fd_, &st) != 0) return CannotRead(path_);
  if (StampOf(st) != *expected_) return Changed(path_, "between its hash and its reading");
  return absl::OkStatus();
}

absl::Status FileLines::ReadWhole(std::string& text) {
  // Straight into `text` at the file's size (not through the line buffer and then a copy:
  // one file's worth of memory, as ReadFileInto). One byte more is asked for, so that a
  // file that grew is seen.
  struct stat st;
  if (::lseek(fd_, 0, SEEK_SET) != 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return CannotRead(path_);
  const auto size = static_cast<size_t>(st.st_size);
  text.reserve(size + kSourcePadding);
  text.resize(size + 1);
  const ssize_t n = ReadFull(fd_, text.data(), text.size());
  if (n < 0) return CannotRead(path_);
  text.resize(static_cast<size_t>(n));
  begin_ = end_ = 0;
  eof_ = true;
  if (text.size() != size) return Changed(path_, "while it was read");
  return CheckStamp();
}

bool FileLines::Fill() {
  const size_t kept = end_ - begin_;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, kept);
    base_ += begin_;
    begin_ = 0;
    end_ = kept;
  }
  size_t capacity = buffer_.size() - kSourcePadding;
  if (end_ == capacity) {  // a line longer than the buffer
    capacity *= 2;
    buffer_.resize(capacity + kSourcePadding);
  }
  const ssize_t n = ReadFull(fd_, buffer_.data() + end_, capacity - end_);
  if (n < 0) {
    status_ = CannotRead(path_);
    return false;
  }
  if (n == 0) {
    eof_ = true;
    // The whole file has been read: it must still be the one hashed.
    if (absl::Status same = CheckStamp(); !same.ok()) {
      status_ = same;
      return false;
    }
  }
  end_ += static_cast<size_t>(n);
  return true;
}

bool FileLines::Next(std::string_view& line) {
  while (true) {
    const char* begin = buffer_.data() + begin_;
    if (const void* nl = std::memchr(begin, '\n', end_ - begin_)) {
      const char* end = static_cast<const char*>(nl);
      line = std::string_view(begin, static_cast<size_t>(end - begin));
      begin_ = static_cast<size_t>(end + 1 - buffer_.data());
      return true;
    }
    if (eof_) {  // the last line, without a '\n'
      if (begin_ == end_) return false;
      line = std::string_view(begin, end_ - begin_);
      begin_ = end_;
      return true;
    }
    if (fd_ < 0 || !Fill()) return false;
  }
}

bool FileLines::AppendRest(const char* p, std::string& to) {
  to.append(p, static_cast<size_t>(buffer_.data() + end_ - p));
  while (!eof_) {
    begin_ = end_;
    if (!Fill()) return false;
    to.append(buffer_.data(), end_);
  }
  begin_ = end_;
  return true;
}

}  // namespace preflight
