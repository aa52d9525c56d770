// The image container: preamble, header, section table, sections (engine/image/image.h).

#include "engine/image/image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <ctime>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/image/archive.h"
#include "engine/image/checksum.h"
#include "engine/image/fields.h"
#include "engine/model/hash_slots.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace preflight {
namespace image {

uint64_t Checksum(std::string_view bytes) {
  uint64_t h = 0;
  if (ChecksumAvx2(bytes, h)) return h;
  return XXH3_64bits(bytes.data(), bytes.size());
}

const char* TableName(Table t) {
  static constexpr const char* kNames[kTableCount] = {"strings",    "applications", "roles",       "policies",
                                                           "identities", "accounts",     "populations", "entitlements"};
  return kNames[static_cast<int>(t)];
}

namespace {

constexpr uint32_t kByteOrderMark = 0x01020304;
constexpr uint64_t kAlign = 64;
constexpr uint32_t kFlagPartial = 1;
enum class SectionKind : uint32_t { kArchive = 1, kColumn = 2 };

struct Preamble {
  char magic[8];
  uint32_t version;
  uint32_t byte_order;
  uint64_t layout;
  uint64_t file_bytes;
  uint64_t checksum;  // XXH3-64 of bytes [sizeof(Preamble), file_bytes)
  uint8_t reserved[24];
};
static_assert(sizeof(Preamble) == 64);

struct Header {
  uint32_t section_count;
  uint32_t flags;
  char source_hash[16];
  uint64_t tables[kTableCount];
  uint8_t reserved[40];
};
static_assert(sizeof(Header) == 128);

struct SectionEntry {
  char name[40];
  uint32_t kind;
  uint32_t record_bytes;  // a column's sizeof(T)
  uint64_t offset;
  uint64_t length;
};
static_assert(sizeof(SectionEntry) == 64);

constexpr uint64_t kTableOffset = sizeof(Preamble) + sizeof(Header);
constexpr std::string_view kModelSection = "model";

uint64_t AlignUp(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// What the sections' bytes depend on besides the format version: the byte order is
// checked on its own; the sizes of the raw numbers the archive writes, and where each
// field of the column records lies (and how a hash slot is encoded) are hashed here, so
// an image written before a record changed is refused rather than misread. A record
// that grows fails the build below until its new field is listed.
#define PREFLIGHT_FIELD(T, f) #T "." #f "@", offsetof(T, f), "+", sizeof(T::f), " "
static_assert(sizeof(Range) == 8 && sizeof(AttrRecord) == 8 && sizeof(PermissionRecord) == 12 &&
                  sizeof(IdentityRecord) == 48 && sizeof(AccountRecord) == 44 && sizeof(EntitlementRecord) == 28,
              "a column record changed: list its fields in LayoutHash (engine/image/image.cc)");
uint64_t LayoutHash() {
  std::string layout = absl::StrCat("size_t=", sizeof(size_t), " double=", sizeof(double), " int=", sizeof(int),
                                    " int64=", sizeof(int64_t), " Index=", sizeof(Index), " Id=", sizeof(Id),
                                    " slots=tagged ");
  absl::StrAppend(&layout, PREFLIGHT_FIELD(Range, begin), PREFLIGHT_FIELD(Range, count),
                  PREFLIGHT_FIELD(AttrRecord, name), PREFLIGHT_FIELD(AttrRecord, first_and_multi),
                  PREFLIGHT_FIELD(PermissionRecord, target), PREFLIGHT_FIELD(PermissionRecord, rights));
  absl::StrAppend(&layout, PREFLIGHT_FIELD(IdentityRecord, name), PREFLIGHT_FIELD(IdentityRecord, id),
                  PREFLIGHT_FIELD(IdentityRecord, display_name), PREFLIGHT_FIELD(IdentityRecord, flags),
                  PREFLIGHT_FIELD(IdentityRecord, from_scim), PREFLIGHT_FIELD(IdentityRecord, inactive),
                  PREFLIGHT_FIELD(IdentityRecord, assigned_roles), PREFLIGHT_FIELD(IdentityRecord, detected_roles),
                  PREFLIGHT_FIELD(IdentityRecord, accounts), PREFLIGHT_FIELD(IdentityRecord, attributes));
  absl::StrAppend(&layout, PREFLIGHT_FIELD(AccountRecord, id), PREFLIGHT_FIELD(AccountRecord, instance),
                  PREFLIGHT_FIELD(AccountRecord, native_identity), PREFLIGHT_FIELD(AccountRecord, display_name),
                  PREFLIGHT_FIELD(AccountRecord, application), PREFLIGHT_FIELD(AccountRecord, identity),
                  PREFLIGHT_FIELD(AccountRecord, from_scim), PREFLIGHT_FIELD(AccountRecord, disabled),
                  PREFLIGHT_FIELD(AccountRecord, locked), PREFLIGHT_FIELD(AccountRecord, attributes),
                  PREFLIGHT_FIELD(AccountRecord, permissions));
  absl::StrAppend(&layout, PREFLIGHT_FIELD(EntitlementRecord, application),
                  PREFLIGHT_FIELD(EntitlementRecord, attribute), PREFLIGHT_FIELD(EntitlementRecord, value),
                  PREFLIGHT_FIELD(EntitlementRecord, id), PREFLIGHT_FIELD(EntitlementRecord, display_name),
                  PREFLIGHT_FIELD(EntitlementRecord, type), PREFLIGHT_FIELD(EntitlementRecord, requestable),
                  PREFLIGHT_FIELD(EntitlementRecord, from_scim));
  return XXH3_64bits(layout.data(), layout.size());
}
#undef PREFLIGHT_FIELD

std::string SectionName(const SectionEntry& e) {
  return std::string(e.name, strnlen(e.name, sizeof e.name));
}

absl::Status ImageError(std::string_view name, std::string_view detail, int64_t offset = -1) {
  Location where;
  where.file = std::string(name);
  where.offset = offset;
  return MakeError(ErrorCode::kInvalidValue, absl::StrCat("image: ", ToAbsl(detail)), where);
}

absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return MakeError(ErrorCode::kInternal, absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

struct PlannedSection {
  std::string_view name;
  SectionKind kind;
  uint32_t record_bytes;
  std::string_view bytes;
};

// The columns' check in two passes (ImageAccess::CheckColumns runs with either): this one
// only decides, with no branch per row, so a good image (the usual case) pays a pass at
// memory speed; when it finds a problem, ColumnCheck runs and names it.
class FastColumnCheck {
 public:
  explicit FastColumnCheck(const uint64_t (&tables)[kTableCount]) {
    for (int t = 0; t < kTableCount; ++t) limits_[t] = tables[t];
  }
  bool ok() const { return !bad_; }
  template <class T, class F>
  void Rows(std::string_view, const Column<T>& c, F check) {
    for (const T& row : c) check(row);
  }
  void Ref(uint32_t v, Table t, bool optional = false) {
    bad_ |= (v >= limits_[static_cast<int>(t)]) & !(optional & (v == UINT32_MAX));
  }
  void In(Range r, size_t arena, std::string_view) { bad_ |= uint64_t{r.begin} + r.count > arena; }
  void Starts(std::string_view, const Column<uint64_t>& starts, size_t text_bytes, bool may_be_empty) {
    if (starts.empty()) {
      bad_ |= !may_be_empty;
      return;
    }
    uint64_t prev = 0;
    bool out_of_order = false;
    for (uint64_t x : starts) {
      out_of_order |= x < prev;
      prev = x;
    }
    bad_ |= out_of_order | (prev > text_bytes);
  }
  void Count(std::string_view, size_t rows, Table t) { bad_ |= rows != limits_[static_cast<int>(t)]; }
  void Slots(std::string_view, const Column<uint32_t>& slots, size_t n) {
    if (slots.empty()) return;
    const uint32_t bits = hash_slots::PositionBits(n);
    bool invalid = false;
    size_t used = 0;
    for (uint32_t x : slots) {
      invalid |= !hash_slots::Valid(x, bits, n);
      used += x != 0;
    }
    bad_ |= ((slots.size() & (slots.size() - 1)) != 0) | invalid | (used >= slots.size());
  }

 private:
  uint64_t limits_[kTableCount];
  bool bad_ = false;
};

// Checks what the mapped columns hold before anything reads them: every reference within
// its table, every Range within its arena, string and text offsets in order, hash tables
// with a free slot (so a probe ends). The first problem, or "".
class ColumnCheck {
 public:
  explicit ColumnCheck(const uint64_t (&tables)[kTableCount]) : tables_(tables) {}
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  template <class T, class F>
  void Rows(std::string_view column, const Column<T>& c, F check) {
    for (size_t i = 0; i < c.size() && ok(); ++i) {
      row_ = i;
      column_ = column;
      check(c[i]);
    }
  }
  void Ref(uint32_t v, Table t, bool optional = false) {
    if (v < tables_[static_cast<int>(t)] || (optional && v == UINT32_MAX)) return;
    Fail(absl::StrCat("a reference ", v, " outside ", TableName(t), " (", tables_[static_cast<int>(t)], ")"));
  }
  void In(Range r, size_t arena, std::string_view arena_name) {
    if (uint64_t{r.begin} + r.count <= arena) return;
    Fail(absl::StrCat("a range [", r.begin, ", +", r.count, ") outside ", ToAbsl(arena_name), " (", arena, ")"));
  }
  // Text offsets: `starts` non-decreasing within `text`, `count` + 1 of them (or none
  // when `count` is 0 and they may be absent).
  void Starts(std::string_view column, const Column<uint64_t>& starts, size_t text_bytes, bool may_be_empty) {
    column_ = column;
    row_ = 0;
    if (starts.empty()) {
      if (!may_be_empty) Fail("no offsets");
      return;
    }
    uint64_t prev = 0;
    for (size_t i = 0; i < starts.size() && ok(); ++i) {
      row_ = i;
      if (starts[i] < prev || starts[i] > text_bytes)
        Fail(absl::StrCat("an offset ", starts[i], " out of order or past the ", text_bytes, " bytes of text"));
      prev = starts[i];
    }
  }
  // A column's row count against the header's count of `t`.
  void Count(std::string_view column, size_t rows, Table t) {
    column_ = column;
    row_ = 0;
    if (ok() && rows != tables_[static_cast<int>(t)])
      Fail(absl::StrCat(rows, " rows, the header says ", tables_[static_cast<int>(t)], " ", TableName(t)));
  }
  // An open-addressing table (engine/model/hash_slots.h) over n positions.
  void Slots(std::string_view column, const Column<uint32_t>& slots, size_t n) {
    column_ = column;
    row_ = 0;
    if (slots.empty()) return;
    if ((slots.size() & (slots.size() - 1)) != 0) return Fail(absl::StrCat(slots.size(), " slots, not a power of two"));
    const uint32_t bits = hash_slots::PositionBits(n);
    size_t used = 0;
    for (size_t i = 0; i < slots.size() && ok(); ++i) {
      row_ = i;
      if (!hash_slots::Valid(slots[i], bits, n))
        Fail(absl::StrCat("a slot for position ", int64_t{slots[i] & bits} - 1, " of ", n));
      used += slots[i] != 0;
    }
    row_ = 0;
    if (ok() && used >= slots.size()) Fail("no free slot");
  }

 private:
  void Fail(std::string_view what) {
    if (ok()) error_ = absl::StrCat("column '", ToAbsl(column_), "' row ", row_, ": ", ToAbsl(what));
  }
  const uint64_t (&tables_)[kTableCount];
  std::string_view column_;
  size_t row_ = 0;
  std::string error_;
};

// A read-only mapping of a whole file.
class Mapping {
 public:
  Mapping(void* p, size_t n) : p_(p), n_(n) {}
  ~Mapping() {
    if (n_ > 0) ::munmap(p_, n_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(p_), n_}; }

 private:
  void* p_;
  size_t n_;
};

}  // namespace
}  // namespace image

using image::Header;
using image::Preamble;
using image::SectionEntry;
using image::SectionKind;
using image::Table;

absl::StatusOr<uint64_t> WriteImage(const Snapshot& snapshot, const std::string& path) {
  Snapshot& s = const_cast<Snapshot&>(snapshot);  // the writer only reads the fields it lists
  image::Writer writer;
  ImageAccess::Fields(writer, s);
  std::vector<image::PlannedSection> sections = {{image::kModelSection, SectionKind::kArchive, 0, writer.bytes()}};
  snapshot.ForEachColumn([&](std::string_view name, const auto& column) {
    using T = typename std::decay_t<decltype(column)>::value_type;
    sections.push_back({name, SectionKind::kColumn, sizeof(T),
                        {reinterpret_cast<const char*>(column.data()), column.bytes()}});
  });

  Header header{};
  header.section_count = static_cast<uint32_t>(sections.size());
  const Snapshot::Stats stats = snapshot.stats();
  size_t errors = 0;
  for (const Diagnostic& d : snapshot.diagnostics()) errors += d.severity == Severity::kError;
  if (errors > 0 || stats.policies == 0 || stats.identities == 0) header.flags |= image::kFlagPartial;
  std::string_view hash = snapshot.source_hash();
  std::memcpy(header.source_hash, hash.data(), std::min(hash.size(), sizeof header.source_hash));
  const uint64_t tables[image::kTableCount] = {
      snapshot.pool().size(),       snapshot.applications().size(), snapshot.roles().size(),
      snapshot.policies().size(),   snapshot.identities().size(),   snapshot.accounts().size(),
      snapshot.populations().size(), snapshot.entitlements().size()};
  for (int t = 0; t < image::kTableCount; ++t) {
    if (tables[t] >= UINT32_MAX)
      return MakeError(ErrorCode::kTooMany, absl::StrCat("cannot write an image of ", tables[t], " ",
                                                         image::TableName(static_cast<Table>(t))));
    header.tables[t] = tables[t];
  }

  std::vector<SectionEntry> table(sections.size());
  uint64_t offset = image::AlignUp(image::kTableOffset + sections.size() * sizeof(SectionEntry));
  for (size_t i = 0; i < sections.size(); ++i) {
    SectionEntry& e = table[i];
    std::memset(&e, 0, sizeof e);
    std::memcpy(e.name, sections[i].name.data(), std::min(sections[i].name.size(), sizeof e.name - 1));
    e.kind = static_cast<uint32_t>(sections[i].kind);
    e.record_bytes = sections[i].record_bytes;
    e.offset = offset;
    e.length = sections[i].bytes.size();
    offset = image::AlignUp(offset + e.length);
  }
  const uint64_t file_bytes = offset;

  Preamble preamble{};
  std::memcpy(preamble.magic, kImageMagic.data(), sizeof preamble.magic);
  preamble.version = kImageFormatVersion;
  preamble.byte_order = image::kByteOrderMark;
  preamble.layout = image::LayoutHash();
  preamble.file_bytes = file_bytes;

  // Everything after the preamble, in order, hashed as it is written.
  const std::string tmp = absl::StrCat(path, ".tmp", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  uint64_t written = 0;
  static const char kZeros[image::kAlign] = {};
  auto emit = [&](const void* data, size_t n) {
    if (written >= sizeof(Preamble)) XXH3_64bits_update(state, data, n);
    written += n;
    return image::WriteAll(fd, data, n, tmp);
  };
  auto pad = [&](uint64_t to) {
    return to > written ? emit(kZeros, to - written) : absl::OkStatus();
  };
  absl::Status status = emit(&preamble, sizeof preamble);
  if (status.ok()) status = emit(&header, sizeof header);
  if (status.ok()) status = emit(table.data(), table.size() * sizeof(SectionEntry));
  for (size_t i = 0; i < sections.size() && status.ok(); ++i) {
    status = pad(table[i].offset);
    if (status.ok()) status = emit(sections[i].bytes.data(), sections[i].bytes.size());
  }
  if (status.ok()) status = pad(file_bytes);
  preamble.checksum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (status.ok() && ::pwrite(fd, &preamble, sizeof preamble, 0) != static_cast<ssize_t>(sizeof preamble))
    status = MakeError(ErrorCode::kInternal, absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  if (::close(fd) != 0 && status.ok())
    status = MakeError(ErrorCode::kInternal, absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    status = MakeError(ErrorCode::kNotFound, absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return file_bytes;
}

bool IsImageFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  char magic[8] = {};
  bool is = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::read(fd, magic, sizeof magic) == sizeof magic &&
            std::string_view(magic, sizeof magic) == kImageMagic;
  ::close(fd);
  return is;
}

namespace {

using Clock = std::chrono::steady_clock;

// When an open started: wall time, and this thread's CPU time (on a shared machine the
// wall time also counts waiting for a core).
struct Started {
  Clock::time_point wall = Clock::now();
  double cpu_ms = ThreadCpuMs();
  static double ThreadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  }
};

// The preamble, checked field by field.
absl::StatusOr<Preamble> ReadPreamble(std::string_view bytes, std::string_view name) {
  if (bytes.size() < image::kTableOffset)
    return image::ImageError(name, absl::StrCat("truncated: ", bytes.size(), " bytes, shorter than the ",
                                                image::kTableOffset, "-byte header"));
  Preamble preamble;
  std::memcpy(&preamble, bytes.data(), sizeof preamble);
  if (std::string_view(preamble.magic, sizeof preamble.magic) != kImageMagic)
    return image::ImageError(name, "not a Preflight image (wrong magic)");
  if (preamble.version != kImageFormatVersion)
    return image::ImageError(name, absl::StrCat("format version ", preamble.version, ", this build reads version ",
                                                kImageFormatVersion, "; compile the image again"));
  if (preamble.byte_order != image::kByteOrderMark)
    return image::ImageError(name, "written on a machine of the other byte order; compile the image again");
  if (preamble.layout != image::LayoutHash())
    return image::ImageError(name, "written by a build with another record layout; compile the image again");
  if (preamble.file_bytes != bytes.size())
    return image::ImageError(name, absl::StrCat(preamble.file_bytes > bytes.size() ? "truncated" : "too long",
                                                ": the header says ", preamble.file_bytes, " bytes, the file has ",
                                                bytes.size()));
  return preamble;
}

// The header, the section table, the columns (viewed in place, then checked) and the
// archive.
absl::StatusOr<std::shared_ptr<Snapshot>> Decode(std::string_view bytes, std::string_view name) {
  constexpr size_t sizeof_preamble = sizeof(Preamble);
  Header header;
  std::memcpy(&header, bytes.data() + sizeof_preamble, sizeof header);
  const uint64_t table_end = image::kTableOffset + uint64_t{header.section_count} * sizeof(SectionEntry);
  if (table_end > bytes.size())
    return image::ImageError(name, absl::StrCat("a table of ", header.section_count, " sections outside the file"),
                             image::kTableOffset);
  for (int t = 0; t < image::kTableCount; ++t)
    if (header.tables[t] >= UINT32_MAX || header.tables[t] > bytes.size())
      return image::ImageError(name, absl::StrCat("a count of ", header.tables[t], " ",
                                                  image::TableName(static_cast<Table>(t)), " the file cannot hold"),
                               sizeof_preamble);
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0)
    return image::ImageError(name, "the image's bytes are not 8-byte aligned in memory");
  absl::flat_hash_map<std::string, SectionEntry> sections;
  for (uint32_t i = 0; i < header.section_count; ++i) {
    SectionEntry e;
    const uint64_t at = image::kTableOffset + uint64_t{i} * sizeof e;
    std::memcpy(&e, bytes.data() + at, sizeof e);
    const std::string section = image::SectionName(e);
    if (e.offset % image::kAlign != 0 || e.offset < table_end || e.offset > bytes.size() ||
        e.length > bytes.size() - e.offset)
      return image::ImageError(name, absl::StrCat("section '", section, "' (offset ", e.offset, ", length ",
                                                  e.length, ") is not an aligned range of the file"),
                               static_cast<int64_t>(at));
    if (!sections.emplace(section, e).second)
      return image::ImageError(name, absl::StrCat("section '", section, "' twice"), static_cast<int64_t>(at));
  }
  auto section_of = [&](std::string_view wanted, SectionKind kind, uint32_t record_bytes) -> absl::StatusOr<std::string_view> {
    auto it = sections.find(ToAbsl(wanted));
    if (it == sections.end() || it->second.kind != static_cast<uint32_t>(kind))
      return image::ImageError(name, absl::StrCat("no ", kind == SectionKind::kColumn ? "column" : "archive",
                                                  " section '", ToAbsl(wanted), "'"));
    const SectionEntry& e = it->second;
    if (e.record_bytes != record_bytes || (record_bytes > 0 && e.length % record_bytes != 0))
      return image::ImageError(name, absl::StrCat("section '", ToAbsl(wanted), "' of ", e.length, " bytes in ",
                                                  e.record_bytes, "-byte records; this build's are ", record_bytes,
                                                  " bytes"),
                               static_cast<int64_t>(e.offset));
    return bytes.substr(e.offset, e.length);
  };
  auto model = section_of(image::kModelSection, SectionKind::kArchive, 0);
  if (!model.ok()) return model.status();

  // The columns, viewed where they are mapped, then checked before anything reads them.
  auto snapshot = std::make_shared<Snapshot>();
  absl::Status viewed;
  snapshot->ForEachColumn([&](std::string_view column_name, auto& column) {
    using T = typename std::decay_t<decltype(column)>::value_type;
    if (!viewed.ok()) return;
    auto at = section_of(column_name, SectionKind::kColumn, sizeof(T));
    if (!at.ok()) {
      viewed = at.status();
      return;
    }
    column.View(reinterpret_cast<const T*>(at->data()), at->size() / sizeof(T));
  });
  if (!viewed.ok()) return viewed;
  image::FastColumnCheck fast(header.tables);
  ImageAccess::CheckColumns(*snapshot, fast);
  if (!fast.ok()) {
    image::ColumnCheck columns(header.tables);
    ImageAccess::CheckColumns(*snapshot, columns);
    return image::ImageError(name, columns.ok() ? "a column the check cannot name" : columns.error());
  }

  image::Reader reader(*model, header.tables);
  ImageAccess::Fields(reader, *snapshot);
  if (reader.ok() && !reader.at_end()) reader.Fail("bytes after the last field");
  const int64_t model_offset = model->data() - bytes.data();
  if (!reader.ok())
    return image::ImageError(name, absl::StrCat("section '", ToAbsl(image::kModelSection), "': ", reader.error()),
                             model_offset + static_cast<int64_t>(reader.error_offset()));
  return snapshot;
}

// Opening an image hashes all of it: beside the decode, on a thread of its own, when the
// image is large enough for that to pay (both only read the mapping). A mismatch is the
// error whatever the decode found.
constexpr size_t kHashAsideFrom = size_t{16} << 20;

absl::StatusOr<std::shared_ptr<const Snapshot>> Open(std::shared_ptr<const void> owner, std::string_view bytes,
                                                     std::string_view name, const ImageOpenOptions& options,
                                                     const Started& start) {
  auto preamble = ReadPreamble(bytes, name);
  if (!preamble.ok()) return preamble.status();
  uint64_t checksum = preamble->checksum;
  std::thread hasher;
  if (options.verify_checksum) {
    auto hash = [&checksum, bytes] { checksum = image::Checksum(bytes.substr(sizeof(Preamble))); };
    if (bytes.size() >= kHashAsideFrom) {
      try {
        hasher = std::thread(hash);
      } catch (const std::system_error&) {
        hash();
      }
    } else {
      hash();
    }
  }
  auto snapshot = Decode(bytes, name);
  if (hasher.joinable()) hasher.join();
  if (checksum != preamble->checksum) return image::ImageError(name, "checksum mismatch: the file is corrupt");
  if (!snapshot.ok()) return snapshot.status();
  ImageInfo info;
  info.format_version = preamble->version;
  info.file_bytes = bytes.size();
  info.open_ms = std::chrono::duration<double, std::milli>(Clock::now() - start.wall).count();
  info.open_cpu_ms = Started::ThreadCpuMs() - start.cpu_ms;
  ImageAccess::Attach(**snapshot, std::move(owner), info);
  return std::shared_ptr<const Snapshot>(*std::move(snapshot));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> OpenImageBytes(std::shared_ptr<const void> owner,
                                                               std::string_view bytes, std::string_view name,
                                                               const ImageOpenOptions& options) {
  return Open(std::move(owner), bytes, name, options, Started());
}

absl::StatusOr<std::shared_ptr<const Snapshot>> OpenImage(const std::string& path, const ImageOpenOptions& options) {
  const Started start;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot open image: ", std::strerror(errno)), Location{path});
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return image::ImageError(path, "not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* p = size == 0 ? nullptr : ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    return MakeError(ErrorCode::kInternal, absl::StrCat("cannot map image: ", std::strerror(errno)), Location{path});
  auto mapping = std::make_shared<image::Mapping>(p, size);
  std::string_view bytes = mapping->bytes();
  return Open(std::move(mapping), bytes, path, options, start);
}

}  // namespace preflight
