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
inline constexpr uint32_t kImageFormatVersion = 2;  // 2: chunk checksums

struct ImageOpenOptions {
  // Off only to fuzz the decoder (fuzz/image_fuzz.cc): a file whose checksums do not
  // match is otherwise refused before its sections are decoded.
  bool verify_checksum = true;
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
