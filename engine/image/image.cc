// The image container: preamble, header, section table, sections (engine/image/image.h).

#include "engine/image/image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <ctime>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
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
enum class SectionKind : uint32_t { kArchive = 1, kColumn = 2, kChecksums = 3 };

struct Preamble {
  char magic[8];
  uint32_t version;
  uint32_t byte_order;
  uint64_t layout;
  uint64_t file_bytes;
  uint64_t checksum;      // XXH3-64 of the metadata: bytes [sizeof(Preamble), metadata_end)
  uint64_t metadata_end;  // where the first data section starts
  uint8_t reserved[16];
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
constexpr std::string_view kChecksumsSection = "checksums";

uint64_t AlignUp(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// The data sections are checksummed in chunks of whole records, about 256 KiB each (so
// that the cores share the work and a chunk is still in cache when its rows are
// checked); a section's last chunk runs to its aligned end, so that the padding is
// covered too. The checksums section holds one XXH3-64 per chunk, section by section in
// table order; it lies right after the section table, inside the metadata.
constexpr uint64_t kChunkBytes = uint64_t{256} << 10;

uint64_t ChunkBytes(uint32_t record_bytes) {
  const uint64_t record = std::max<uint32_t>(record_bytes, 1);
  return std::max(record, kChunkBytes / record * record);
}
uint64_t ChunkCount(uint64_t length, uint32_t record_bytes) {
  const uint64_t chunk = ChunkBytes(record_bytes);
  return (length + chunk - 1) / chunk;
}
// Chunk k of a section of `length` bytes: where it starts within the section, and its
// bytes (the last one to the aligned end).
std::pair<uint64_t, uint64_t> ChunkSpan(uint64_t length, uint32_t record_bytes, uint64_t k) {
  const uint64_t chunk = ChunkBytes(record_bytes);
  const uint64_t begin = k * chunk;
  const uint64_t end = k + 1 == ChunkCount(length, record_bytes) ? AlignUp(length) : begin + chunk;
  return {begin, end - begin};
}

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

// Which rows a column check reads: the whole-column facts (row counts, shapes) in the
// global pass, or the rows [begin, end) of one column in a chunk's pass.
struct Window {
  const void* column = nullptr;  // none: the global pass
  size_t begin = 0, end = 0;
  bool global() const { return column == nullptr; }
  template <class T>
  std::pair<size_t, size_t> RowsOf(const Column<T>& c) const {
    if (static_cast<const void*>(&c) != column) return {0, 0};
    return {std::min(begin, c.size()), std::min(end, c.size())};
  }
};

// The columns' check in two passes (ImageAccess::CheckColumns runs with either): this one
// only decides, so a good image (the usual case) pays a pass at memory speed; when it
// finds a problem, ColumnCheck runs on the same window and names it. Each column's rows
// fold into one local flag with no branch and 32-bit compares where they suffice, so
// that the compiler vectorizes the loops.
class FastColumnCheck {
 public:
  FastColumnCheck(const uint64_t (&tables)[kTableCount], Window window) : window_(window), tables_(tables) {
    // Every count is below UINT32_MAX (ReadLayout refuses more), so references compare
    // in 32 bits.
    for (int t = 0; t < kTableCount; ++t) limits_.rows[t] = static_cast<uint32_t>(tables[t]);
  }
  bool ok() const { return !bad_; }

  // What a row's checks report to: a local, so it stays in a register.
  struct Sink {
    uint32_t rows[kTableCount];
    uint32_t bad = 0;
    void Ref(uint32_t v, Table t, bool optional = false) {
      const uint32_t limit = rows[static_cast<int>(t)];
      // Optional: UINT32_MAX (none) wraps to 0.
      bad |= optional ? v + 1 > limit : v >= limit;
    }
    void In(Range r, size_t arena, std::string_view) { bad |= uint64_t{r.begin} + r.count > arena; }
  };

  template <class T, class F>
  void Rows(std::string_view, const Column<T>& c, F check) {
    const auto [begin, end] = window_.RowsOf(c);
    Sink sink = limits_;
    const T* rows = c.data();
    for (size_t i = begin; i < end; ++i) check(sink, rows[i]);
    bad_ |= sink.bad != 0;
  }
  template <class T, class Key>
  void Ascending(std::string_view, const Column<T>& c, Key key, uint64_t bound, std::string_view) {
    const auto [begin, end] = window_.RowsOf(c);
    if (begin == end) return;
    // In order with the previous window's last row; in order, the last is the largest.
    const T* rows = c.data();
    uint32_t out_of_order = begin > 0 && key(rows[begin]) < key(rows[begin - 1]);
    for (size_t i = begin + 1; i < end; ++i) out_of_order |= key(rows[i]) < key(rows[i - 1]);
    bad_ |= (out_of_order != 0) | (key(rows[end - 1]) > bound);
  }
  template <class Offset>
  void Starts(std::string_view column, const Column<Offset>& starts, size_t text_bytes, bool may_be_empty) {
    if (window_.global()) bad_ |= starts.empty() & !may_be_empty;
    else Ascending(column, starts, std::identity{}, text_bytes, "");
  }
  void Count(std::string_view, size_t rows, Table t) {
    if (window_.global()) bad_ |= rows != tables_[static_cast<int>(t)];
  }
  void Slots(std::string_view, const Column<uint32_t>& slots, size_t n) {
    if (window_.global()) {
      bad_ |= (slots.size() & (slots.size() - 1)) != 0;
      return;
    }
    const auto [begin, end] = window_.RowsOf(slots);
    // hash_slots::Valid in 32 bits: n is a header's count, below UINT32_MAX.
    const uint32_t bits = hash_slots::PositionBits(n), rows = static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
    const uint32_t* s = slots.data();
    uint32_t invalid = 0;
    for (size_t i = begin; i < end; ++i) invalid |= (s[i] != 0) & ((s[i] & bits) - 1 >= rows);
    bad_ |= invalid != 0;
  }

 private:
  Window window_;
  const uint64_t (&tables_)[kTableCount];
  Sink limits_;
  bool bad_ = false;
};

// Whether the rows of `window` pass FastColumnCheck.
bool FastRowsOk(const Snapshot& s, const uint64_t (&tables)[kTableCount], Window window) {
  FastColumnCheck fast(tables, window);
  ImageAccess::CheckColumns(s, fast);
  return fast.ok();
}

// The same on x86-64 CPUs with AVX2, compiled for it: the same loops at twice the vector
// width (flatten: the loops are inlined here, so compiled for AVX2 too).
#if defined(__x86_64__)
__attribute__((target("avx2"), flatten)) bool FastRowsOkAvx2(const Snapshot& s,
                                                              const uint64_t (&tables)[kTableCount], Window window) {
  return FastRowsOk(s, tables, window);
}
#endif

bool RowsOk(const Snapshot& s, const uint64_t (&tables)[kTableCount], Window window) {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return FastRowsOkAvx2(s, tables, window);
#endif
  return FastRowsOk(s, tables, window);
}

// Checks what the mapped columns hold before anything reads them: every reference within
// its table, every Range within its arena, string and text offsets in order, hash tables
// of a power of two slots, each empty or a position. The first problem, or "".
class ColumnCheck {
 public:
  ColumnCheck(const uint64_t (&tables)[kTableCount], Window window) : window_(window), tables_(tables) {}
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  template <class T, class F>
  void Rows(std::string_view column, const Column<T>& c, F check) {
    const auto [begin, end] = window_.RowsOf(c);
    for (size_t i = begin; i < end && ok(); ++i) {
      row_ = i;
      column_ = column;
      check(*this, c[i]);
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
  // Every row's key at least the previous row's and at most `bound` (of `what`).
  template <class T, class Key>
  void Ascending(std::string_view column, const Column<T>& c, Key key, uint64_t bound, std::string_view what) {
    column_ = column;
    const auto [begin, end] = window_.RowsOf(c);
    uint64_t prev = begin == 0 || begin == end ? 0 : key(c[begin - 1]);
    for (size_t i = begin; i < end && ok(); ++i) {
      row_ = i;
      const uint64_t k = key(c[i]);
      if (k < prev || k > bound)
        Fail(absl::StrCat("an offset ", k, " out of order or past the ", bound, " ", ToAbsl(what)));
      prev = k;
    }
  }
  // Text offsets: `starts` non-decreasing within `text`, `count` + 1 of them (or none
  // when `count` is 0 and they may be absent). 32 bits for the pool, 64 for resource texts.
  template <class Offset>
  void Starts(std::string_view column, const Column<Offset>& starts, size_t text_bytes, bool may_be_empty) {
    column_ = column;
    row_ = 0;
    if (!window_.global()) return Ascending(column, starts, std::identity{}, text_bytes, "bytes of text");
    if (starts.empty() && !may_be_empty) Fail("no offsets");
  }
  // A column's row count against the header's count of `t`.
  void Count(std::string_view column, size_t rows, Table t) {
    if (!window_.global()) return;
    column_ = column;
    row_ = 0;
    if (ok() && rows != tables_[static_cast<int>(t)])
      Fail(absl::StrCat(rows, " rows, the header says ", tables_[static_cast<int>(t)], " ", TableName(t)));
  }
  // An open-addressing table (engine/model/hash_slots.h) over n positions.
  void Slots(std::string_view column, const Column<uint32_t>& slots, size_t n) {
    column_ = column;
    row_ = 0;
    if (window_.global()) {
      if ((slots.size() & (slots.size() - 1)) != 0) Fail(absl::StrCat(slots.size(), " slots, not a power of two"));
      return;
    }
    const auto [begin, end] = window_.RowsOf(slots);
    const uint32_t bits = hash_slots::PositionBits(n);
    for (size_t i = begin; i < end && ok(); ++i) {
      row_ = i;
      if (!hash_slots::Valid(slots[i], bits, n))
        Fail(absl::StrCat("a slot for position ", int64_t{slots[i] & bits} - 1, " of ", n));
    }
  }

 private:
  void Fail(std::string_view what) {
    if (ok()) error_ = absl::StrCat("column '", ToAbsl(column_), "' row ", row_, ": ", ToAbsl(what));
  }
  Window window_;
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

  // The data sections' chunk checksums (the padding after each section hashed as zeros),
  // then the layout: header, table, checksums (the metadata), then the data sections.
  static const char kZeros[image::kAlign] = {};
  std::vector<uint64_t> sums;
  for (const image::PlannedSection& section : sections) {
    const uint64_t length = section.bytes.size();
    for (uint64_t k = 0; k < image::ChunkCount(length, section.record_bytes); ++k) {
      auto [begin, n] = image::ChunkSpan(length, section.record_bytes, k);
      const std::string_view data = section.bytes.substr(begin, std::min(n, length - begin));
      XXH3_state_t* state = XXH3_createState();
      XXH3_64bits_reset(state);
      XXH3_64bits_update(state, data.data(), data.size());
      XXH3_64bits_update(state, kZeros, n - data.size());
      sums.push_back(XXH3_64bits_digest(state));
      XXH3_freeState(state);
    }
  }
  sections.push_back({image::kChecksumsSection, SectionKind::kChecksums, sizeof(uint64_t),
                      {reinterpret_cast<const char*>(sums.data()), sums.size() * sizeof(uint64_t)}});
  header.section_count = static_cast<uint32_t>(sections.size());

  std::vector<SectionEntry> table(sections.size());
  const uint64_t table_end = image::kTableOffset + sections.size() * sizeof(SectionEntry);
  const uint64_t data_start = image::AlignUp(image::AlignUp(table_end) + sums.size() * sizeof(uint64_t));
  uint64_t offset = data_start;
  for (size_t i = 0; i < sections.size(); ++i) {
    SectionEntry& e = table[i];
    std::memset(&e, 0, sizeof e);
    std::memcpy(e.name, sections[i].name.data(), std::min(sections[i].name.size(), sizeof e.name - 1));
    e.kind = static_cast<uint32_t>(sections[i].kind);
    e.record_bytes = sections[i].record_bytes;
    e.length = sections[i].bytes.size();
    if (sections[i].kind == SectionKind::kChecksums) {
      e.offset = image::AlignUp(table_end);
    } else {
      e.offset = offset;
      offset = image::AlignUp(offset + e.length);
    }
  }
  const uint64_t file_bytes = offset;

  std::string metadata(data_start - sizeof(Preamble), '\0');
  std::memcpy(metadata.data(), &header, sizeof header);
  std::memcpy(metadata.data() + sizeof header, table.data(), table.size() * sizeof(SectionEntry));
  std::memcpy(metadata.data() + image::AlignUp(table_end) - sizeof(Preamble), sums.data(),
              sums.size() * sizeof(uint64_t));

  Preamble preamble{};
  std::memcpy(preamble.magic, kImageMagic.data(), sizeof preamble.magic);
  preamble.version = kImageFormatVersion;
  preamble.byte_order = image::kByteOrderMark;
  preamble.layout = image::LayoutHash();
  preamble.file_bytes = file_bytes;
  preamble.checksum = XXH3_64bits(metadata.data(), metadata.size());
  preamble.metadata_end = data_start;

  const std::string tmp = absl::StrCat(path, ".tmp", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  uint64_t written = 0;
  auto emit = [&](const void* data, size_t n) {
    written += n;
    return image::WriteAll(fd, data, n, tmp);
  };
  auto pad = [&](uint64_t to) {
    return to > written ? emit(kZeros, to - written) : absl::OkStatus();
  };
  absl::Status status = emit(&preamble, sizeof preamble);
  if (status.ok()) status = emit(metadata.data(), metadata.size());
  for (size_t i = 0; i < sections.size() && status.ok(); ++i) {
    if (sections[i].kind == SectionKind::kChecksums) continue;
    status = pad(table[i].offset);
    if (status.ok()) status = emit(sections[i].bytes.data(), sections[i].bytes.size());
  }
  if (status.ok()) status = pad(file_bytes);
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
  if (preamble.version < kImageOldestVersion || preamble.version > kImageFormatVersion)
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
  if (preamble.metadata_end < image::kTableOffset || preamble.metadata_end > bytes.size())
    return image::ImageError(name, absl::StrCat("metadata of ", preamble.metadata_end, " bytes outside the file"));
  return preamble;
}

// The header and the section table, bounds-checked, and where each data section's chunk
// checksums are.
struct Layout {
  uint32_t version = 0;  // the preamble's
  Header header;
  std::vector<SectionEntry> sections;  // the data sections, in table order
  absl::flat_hash_map<std::string, size_t> by_name;
  std::vector<uint64_t> first_chunk;  // per data section, its first checksum's position
  const uint64_t* sums = nullptr;
};

absl::StatusOr<Layout> ReadLayout(std::string_view bytes, std::string_view name, uint64_t metadata_end) {
  constexpr size_t sizeof_preamble = sizeof(Preamble);
  Layout layout;
  Header& header = layout.header;
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
  std::optional<SectionEntry> sums;
  for (uint32_t i = 0; i < header.section_count; ++i) {
    SectionEntry e;
    const uint64_t at = image::kTableOffset + uint64_t{i} * sizeof e;
    std::memcpy(&e, bytes.data() + at, sizeof e);
    const std::string section = image::SectionName(e);
    if (e.offset % image::kAlign != 0 || e.offset < table_end || e.offset > bytes.size() ||
        e.length > bytes.size() - e.offset || image::AlignUp(e.length) > bytes.size() - e.offset)
      return image::ImageError(name, absl::StrCat("section '", section, "' (offset ", e.offset, ", length ",
                                                  e.length, ") is not an aligned range of the file"),
                               static_cast<int64_t>(at));
    if (layout.by_name.contains(section) || (sums && section == image::kChecksumsSection))
      return image::ImageError(name, absl::StrCat("section '", section, "' twice"), static_cast<int64_t>(at));
    if (e.kind == static_cast<uint32_t>(SectionKind::kChecksums)) {
      if (section != image::kChecksumsSection || e.offset != image::AlignUp(table_end) ||
          e.record_bytes != sizeof(uint64_t))
        return image::ImageError(name, absl::StrCat("section '", section, "' is not the checksums after the table"),
                                 static_cast<int64_t>(at));
      sums = e;
      continue;
    }
    layout.by_name.emplace(section, layout.sections.size());
    layout.sections.push_back(e);
  }
  if (!sums) return image::ImageError(name, absl::StrCat("no section '", ToAbsl(image::kChecksumsSection), "'"));
  uint64_t chunks = 0;
  for (const SectionEntry& e : layout.sections) {
    layout.first_chunk.push_back(chunks);
    chunks += image::ChunkCount(e.length, e.record_bytes);
  }
  if (sums->length != chunks * sizeof(uint64_t))
    return image::ImageError(name, absl::StrCat("section '", ToAbsl(image::kChecksumsSection), "' holds ",
                                                sums->length / sizeof(uint64_t), " checksums for ", chunks,
                                                " chunks"),
                             static_cast<int64_t>(sums->offset));
  if (sums->offset + image::AlignUp(sums->length) != metadata_end)
    return image::ImageError(name, absl::StrCat("section '", ToAbsl(image::kChecksumsSection), "' does not end the ",
                                                metadata_end, " bytes of metadata"),
                             static_cast<int64_t>(sums->offset));
  layout.sums = reinterpret_cast<const uint64_t*>(bytes.data() + sums->offset);
  return layout;
}

// One chunk of a data section.
struct Chunk {
  uint32_t section;
  uint64_t k;
};

// Verifies chunks of the data sections: each one's checksum (unless bypassed for fuzzing)
// and, for a column, its rows (FastColumnCheck, then ColumnCheck to name a problem),
// spread over threads. The first failing chunk in order is the error, whichever thread
// found it.
class Verifier {
 public:
  struct Options {
    bool checksums = true;
    bool populate = false;  // fault the mapping's pages in, a chunk at a time (a mapped file)
    bool fast = true;       // FastColumnCheck first (off: ColumnCheck alone)
  };
  Verifier(std::string_view bytes, std::string_view name, const Layout& layout, const Snapshot& snapshot,
           const std::vector<const void*>& columns, Options options)
      : bytes_(bytes), name_(name), layout_(layout), snapshot_(snapshot), columns_(columns), options_(options) {}

  // The chunks of the sections `wanted` accepts, in order.
  template <class Wanted>
  std::vector<Chunk> Chunks(Wanted wanted) const {
    std::vector<Chunk> out;
    for (uint32_t i = 0; i < layout_.sections.size(); ++i) {
      if (!wanted(i)) continue;
      const SectionEntry& e = layout_.sections[i];
      for (uint64_t k = 0; k < image::ChunkCount(e.length, e.record_bytes); ++k) out.push_back({i, k});
    }
    return out;
  }

  // On this thread and up to threads - 1 more; the CPU time they took is added to *cpu_ms.
  absl::Status Run(const std::vector<Chunk>& chunks, unsigned threads, double* cpu_ms) {
    std::atomic<size_t> next{0}, first_bad{SIZE_MAX};
    std::atomic<int64_t> worker_cpu_us{0};
    std::mutex mu;
    absl::Status error;
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();) {
        if (i > first_bad.load(std::memory_order_relaxed)) break;
        absl::Status status = Verify(chunks[i]);
        if (status.ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        if (i < first_bad.load()) {
          first_bad.store(i);
          error = std::move(status);
        }
      }
    };
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads && t < chunks.size(); ++t) {
      try {
        helpers.emplace_back([&] {
          const double start = Started::ThreadCpuMs();
          work();
          worker_cpu_us.fetch_add(static_cast<int64_t>((Started::ThreadCpuMs() - start) * 1e3));
        });
      } catch (const std::system_error&) {
        break;  // no thread to be had: this one does the work
      }
    }
    work();
    for (std::thread& t : helpers) t.join();
    if (cpu_ms) *cpu_ms += worker_cpu_us.load() / 1e3;
    return error;
  }

  absl::Status Verify(const Chunk& c) const {
    const SectionEntry& e = layout_.sections[c.section];
    const auto [begin, n] = image::ChunkSpan(e.length, e.record_bytes, c.k);
    const char* data = bytes_.data() + e.offset + begin;
    if (options_.populate) Populate(data, n);
    if (options_.checksums && image::Checksum({data, n}) != layout_.sums[layout_.first_chunk[c.section] + c.k])
      return image::ImageError(name_,
                               absl::StrCat("checksum mismatch in section '", image::SectionName(e),
                                            "' (bytes ", begin, " to ", begin + n, " of it): the file is corrupt"),
                               static_cast<int64_t>(e.offset + begin));
    const void* column = columns_[c.section];
    if (column == nullptr) return absl::OkStatus();
    const uint64_t record = std::max<uint32_t>(e.record_bytes, 1);
    const image::Window window{column, begin / record, (begin + n) / record};
    if (options_.fast && image::RowsOk(snapshot_, layout_.header.tables, window)) return absl::OkStatus();
    image::ColumnCheck named(layout_.header.tables, window);
    ImageAccess::CheckColumns(snapshot_, named);
    if (named.ok() && !options_.fast) return absl::OkStatus();
    return image::ImageError(name_, named.ok() ? "a column the check cannot name" : named.error());
  }

 private:
  static void Populate(const char* data, size_t n) {
#ifdef MADV_POPULATE_READ
    const uintptr_t page = 4096;
    const uintptr_t from = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
    ::madvise(reinterpret_cast<void*>(from), reinterpret_cast<uintptr_t>(data) + n - from, MADV_POPULATE_READ);
#else
    (void)data;
    (void)n;
#endif
  }

  std::string_view bytes_;
  std::string_view name_;
  const Layout& layout_;
  const Snapshot& snapshot_;
  const std::vector<const void*>& columns_;  // per data section, the Column viewing it (none: the archive)
  Options options_;
};

// Opening verifies on this many threads at most (the machine's cores), and on one when
// the image is small enough that starting threads costs more than it saves.
constexpr size_t kThreadsFrom = size_t{16} << 20;

unsigned VerifyThreads(size_t bytes) {
  if (bytes < kThreadsFrom) return 1;
  return std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
}

// The sections read without a view, which a lazy open verifies before it returns: the
// archive, the entitlements, the SCIM resource texts (engine/image/image.h).
bool ReadWithoutViews(const SectionEntry& e) {
  const std::string section = image::SectionName(e);
  return e.kind == static_cast<uint32_t>(SectionKind::kArchive) || section == "entitlements" ||
         absl::StartsWith(section, "resources.");
}

// The columns, viewed in place, then checked (all of them, or in a lazy open those read
// without a view); the archive, decoded. `columns`: per data section, the Column viewing it.
absl::StatusOr<std::shared_ptr<Snapshot>> Decode(std::string_view bytes, std::string_view name, const Layout& layout,
                                                 const ImageOpenOptions& options, bool populate,
                                                 std::vector<const void*>& columns, double* cpu_ms) {
  auto section_of = [&](std::string_view wanted, SectionKind kind,
                        uint32_t record_bytes) -> absl::StatusOr<size_t> {
    auto it = layout.by_name.find(ToAbsl(wanted));
    if (it == layout.by_name.end() || layout.sections[it->second].kind != static_cast<uint32_t>(kind))
      return image::ImageError(name, absl::StrCat("no ", kind == SectionKind::kColumn ? "column" : "archive",
                                                  " section '", ToAbsl(wanted), "'"));
    const SectionEntry& e = layout.sections[it->second];
    if (e.record_bytes != record_bytes || (record_bytes > 0 && e.length % record_bytes != 0))
      return image::ImageError(name, absl::StrCat("section '", ToAbsl(wanted), "' of ", e.length, " bytes in ",
                                                  e.record_bytes, "-byte records; this build's are ", record_bytes,
                                                  " bytes"),
                               static_cast<int64_t>(e.offset));
    return it->second;
  };
  auto model = section_of(image::kModelSection, SectionKind::kArchive, 0);
  if (!model.ok()) return model.status();

  // The columns, viewed where they are mapped; what each section is viewed by.
  auto snapshot = std::make_shared<Snapshot>();
  columns.assign(layout.sections.size(), nullptr);
  absl::Status viewed;
  snapshot->ForEachColumn([&](std::string_view column_name, auto& column) {
    using T = typename std::decay_t<decltype(column)>::value_type;
    if (!viewed.ok()) return;
    // Version 2 has no frames of SCIM texts (they are kept as they are): left empty.
    if (layout.version == 2 && absl::StrContains(ToAbsl(column_name), ".frame")) return;
    auto at = section_of(column_name, SectionKind::kColumn, sizeof(T));
    if (!at.ok()) {
      viewed = at.status();
      return;
    }
    const SectionEntry& e = layout.sections[*at];
    column.View(reinterpret_cast<const T*>(bytes.data() + e.offset), e.length / sizeof(T));
    columns[*at] = &column;
  });
  if (!viewed.ok()) return viewed;
  // The counts and shapes, then every chunk: its checksum and its rows.
  image::ColumnCheck shapes(layout.header.tables, image::Window{});
  ImageAccess::CheckColumns(*snapshot, shapes);
  if (!shapes.ok()) return image::ImageError(name, shapes.error());
  const bool lazy = options.verify == ImageVerify::kLazy;
  Verifier verifier(bytes, name, layout, *snapshot, columns,
                    {.checksums = options.verify_checksum,
                     .populate = populate && !lazy,
                     .fast = options.fast_column_check});
  auto now = verifier.Chunks([&](uint32_t i) { return !lazy || ReadWithoutViews(layout.sections[i]); });
  absl::Status verified = verifier.Run(now, VerifyThreads(lazy ? 0 : bytes.size()), cpu_ms);
  if (!verified.ok()) return verified;

  const SectionEntry& m = layout.sections[*model];
  const std::string_view archive = bytes.substr(m.offset, m.length);
  image::Reader reader(archive, layout.header.tables);
  // The archive's name lookups read the pool: unverified in a lazy open, so checked on access.
  if (lazy) ImageAccess::SetChecks(*snapshot, true);
  try {
    ImageAccess::Fields(reader, *snapshot);
  } catch (const CorruptRecord& e) {
    return WithFile(e.status(), name);
  }
  if (reader.ok() && !reader.at_end()) reader.Fail("bytes after the last field");
  if (!reader.ok())
    return image::ImageError(name, absl::StrCat("section '", ToAbsl(image::kModelSection), "': ", reader.error()),
                             static_cast<int64_t>(m.offset + reader.error_offset()));
  return snapshot;
}

// The columns a lazy open left, verified as a full open verifies them, a chunk at a time
// while the snapshot lives (a snapshot dropped meanwhile ends the pass). The first
// failure makes the snapshot fail closed; success turns the on-access checks off.
void VerifyInBackground(const std::weak_ptr<const Snapshot>& weak, ImageVerification& verification,
                        std::string_view bytes, const std::string& name, const Layout& layout,
                        const std::vector<const void*>& columns, bool checksums) {
  std::vector<Chunk> rest;
  for (uint32_t i = 0; i < layout.sections.size(); ++i) {
    if (ReadWithoutViews(layout.sections[i])) continue;
    const SectionEntry& e = layout.sections[i];
    for (uint64_t k = 0; k < image::ChunkCount(e.length, e.record_bytes); ++k) rest.push_back({i, k});
  }
  for (const Chunk& chunk : rest) {
    std::shared_ptr<const Snapshot> snapshot = weak.lock();
    if (!snapshot) return;
    absl::Status status = Verifier(bytes, name, layout, *snapshot, columns, {.checksums = checksums}).Verify(chunk);
    if (!status.ok()) return verification.Failed(std::move(status));
  }
  if (std::shared_ptr<const Snapshot> snapshot = weak.lock()) ImageAccess::SetChecks(*snapshot, false);
  verification.Verified();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Open(std::shared_ptr<const void> owner, std::string_view bytes,
                                                     std::string_view name, const ImageOpenOptions& options,
                                                     bool populate, const Started& start) {
  auto preamble = ReadPreamble(bytes, name);
  if (!preamble.ok()) return preamble.status();
  if (options.verify_checksum &&
      image::Checksum(bytes.substr(sizeof(Preamble), preamble->metadata_end - sizeof(Preamble))) != preamble->checksum)
    return image::ImageError(name, "checksum mismatch in the header: the file is corrupt");
  auto layout = ReadLayout(bytes, name, preamble->metadata_end);
  if (!layout.ok()) return layout.status();
  layout->version = preamble->version;
  double cpu_ms = 0;
  std::vector<const void*> columns;
  auto snapshot = Decode(bytes, name, *layout, options, populate, columns, &cpu_ms);
  if (!snapshot.ok()) return snapshot.status();
  const bool lazy = options.verify == ImageVerify::kLazy;
  std::shared_ptr<ImageVerification> verification;
  if (lazy) {
    verification = std::make_shared<ImageVerification>();
    ImageAccess::CheckOnAccess(**snapshot, verification);
  }
  ImageInfo info;
  info.format_version = preamble->version;
  info.file_bytes = bytes.size();
  info.verify = lazy ? "lazy" : "full";
  info.open_ms = std::chrono::duration<double, std::milli>(Clock::now() - start.wall).count();
  info.open_cpu_ms = Started::ThreadCpuMs() - start.cpu_ms + cpu_ms;
  ImageAccess::Attach(**snapshot, std::move(owner), info);
  std::shared_ptr<const Snapshot> opened = *std::move(snapshot);
  if (lazy && options.verify_in_background) {
    auto rest = [weak = std::weak_ptr<const Snapshot>(opened), verification, bytes, name = std::string(name),
                 layout = *std::move(layout), columns = std::move(columns), checksums = options.verify_checksum] {
      VerifyInBackground(weak, *verification, bytes, name, layout, columns, checksums);
    };
    try {
      std::thread(rest).detach();
    } catch (const std::system_error&) {
      rest();  // no thread to be had: verified before the open returns
    }
  }
  return opened;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> OpenImageBytes(std::shared_ptr<const void> owner,
                                                               std::string_view bytes, std::string_view name,
                                                               const ImageOpenOptions& options) {
  return Open(std::move(owner), bytes, name, options, /*populate=*/false, Started());
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
  return Open(std::move(mapping), bytes, path, options, /*populate=*/true, start);
}

}  // namespace preflight
