#pragma once
// On-access checks of a mapped image's records (engine/image/image.h, verify "lazy"): an
// image opened without verifying its columns first has its views check every record
// they read (every Range within its arena, every position within its table) until the
// columns are verified in the background. A record that fails throws CorruptRecord,
// which the Engine (engine/preflight.cc) turns into the failed call's error: the call
// that read it fails, nothing reads past a column. A snapshot that was loaded, or an
// image verified whole, pays one predictable branch per record read.

#include <atomic>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace preflight {

class CorruptRecord : public std::exception {
 public:
  explicit CorruptRecord(absl::Status status) : status_(std::move(status)), what_(status_.message()) {}
  const char* what() const noexcept override { return what_.c_str(); }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
  std::string what_;
};

// Throws CorruptRecord: "image: column '<column>' row <row>: <what>" (invalidValue).
[[noreturn]] void ThrowCorruptRecord(std::string_view column, size_t row, std::string_view what);

// Whether views check what they read. Set before the snapshot is shared, cleared by the
// thread that verified the columns (relaxed: a reader that still sees it set only checks
// once more).
class RecordChecks {
 public:
  RecordChecks() = default;
  RecordChecks(const RecordChecks& o) : on_(o.on()) {}
  RecordChecks& operator=(const RecordChecks& o) {
    Set(o.on());
    return *this;
  }
  bool on() const { return on_.load(std::memory_order_relaxed); }
  void Set(bool on) const { on_.store(on, std::memory_order_relaxed); }

 private:
  mutable std::atomic<bool> on_{false};
};

}  // namespace preflight
