#pragma once
// A compiled snapshot image: the built Snapshot as one position-independent file that
// opens without parsing (`preflight snapshot compile`; Engine::Load opens one given as
// the only path).
//
// Layout (all numbers in the writing machine's byte order, which the preamble records):
//   bytes 0..63    preamble: magic, format version, byte order, layout hash (the build's
//                  record sizes), file length, checksum (XXH3-64 of the metadata: header,
//                  section table and chunk checksums, bytes 64 up to the first data section)
//   bytes 64..191  header: section count, flags (partial), the sources' content hash,
//                  the tables' row counts (strings, applications, roles, ...)
//   bytes 192..    the section table: name, kind, offset, length per section
//   then           the checksums section: one XXH3-64 per chunk (about 256 KiB of whole
//                  records) of every data section, so that verifying splits over cores
//   then           the data sections, each starting at a multiple of 64 bytes
// Section kinds: an archive (engine/image/archive.h: fields decoded at open), a column
// (a flat array viewed in place in the mapped file), the checksums.
//
// Opening maps the file read-only, checks the preamble, the length and the metadata's
// checksum, then verifies every chunk of every section on every core, one pass per chunk:
// its checksum, and for a column the bounds of its rows (every reference within its
// table, every Range within its arena); then decodes the archive. A truncated, corrupt
// or hostile file is an error naming the file and what is wrong.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/snapshot.h"

namespace preflight {

inline constexpr std::string_view kImageMagic{"PFIMAGE\x1a", 8};
inline constexpr uint32_t kImageFormatVersion = 3;  // 2: chunk checksums; 3: SCIM texts compressed
// The oldest version this build reads: a version 2 image has no frames of SCIM texts,
// which it keeps as they are (engine/model/packed_texts.h).
inline constexpr uint32_t kImageOldestVersion = 2;

// What opening verifies before it returns.
//   kFull: everything (the default): the metadata's checksum, every chunk's checksum and
//     every column record's bounds, on every core; then nothing is checked again.
//   kLazy: the metadata's checksum, the section table, and the sections read without a
//     view (the policy-side archive, the entitlements, the SCIM resource texts' offsets),
//     each chunk's checksum and bounds; the rest of the columns are verified the same way
//     on a background thread, while every record a view reads is bounds-checked on access
//     (engine/model/record_check.h: a bad one fails the call that read it). When the
//     background pass finds a mismatch the snapshot fails closed: every later call of an
//     Engine over it is that error (Snapshot::ImageFailure). Until it ends, a corrupt
//     byte that stays within bounds (a wrong but valid reference) can be read: the
//     answers of that window are as good as the file.
enum class ImageVerify { kFull, kLazy };

struct ImageOpenOptions {
  ImageVerify verify = ImageVerify::kFull;
  // Off only for tests and the fuzz target: a lazy open then leaves the columns to the
  // on-access checks alone.
  bool verify_in_background = true;
  // Off only to fuzz the decoder (fuzz/image_fuzz.cc): a file whose checksums do not
  // match is otherwise refused before its sections are decoded.
  bool verify_checksum = true;
  // Off only for tests and the fuzz target: every chunk's rows are checked by the check
  // that names a problem alone, not first by the fast one that only decides (the two
  // must agree on every image).
  bool fast_column_check = true;
};

// Writes `snapshot` as an image at `path` (through a temporary file renamed into place,
// so a reader never sees half an image). The file's size back.
absl::StatusOr<uint64_t> WriteImage(const Snapshot& snapshot, const std::string& path);

// True when `path` is a regular file that begins with the image magic.
bool IsImageFile(const std::string& path);

// Maps and opens the image at `path`.
absl::StatusOr<std::shared_ptr<const Snapshot>> OpenImage(const std::string& path,
                                                          const ImageOpenOptions& options = {});
// Opens an image held in memory; `owner` keeps `bytes` alive as long as the snapshot
// (columns are viewed in place). `bytes` must start at an 8-byte aligned address.
// `name` stands for the file in errors.
absl::StatusOr<std::shared_ptr<const Snapshot>> OpenImageBytes(std::shared_ptr<const void> owner,
                                                               std::string_view bytes, std::string_view name,
                                                               const ImageOpenOptions& options = {});

}  // namespace preflight
