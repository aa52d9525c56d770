#pragma once
// The compact binary archive of a compiled image (engine/image/image.h): the parts of the
// Snapshot that are not flat columns, written field by field and decoded at open.
//
// One field list per struct serves both directions (engine/image/fields.h):
//
//   template <class Ar> void Fields(Ar& ar, Role& r) { ar(r.name, r.id, Refs(r.inheritance, Table::kRoles)); }
//
// Writer appends each field's bytes; Reader reads them back into the same fields, checking
// as it goes: every count within the bytes left, every reference within its table, every
// enum within its values, every bool 0 or 1, nesting depth capped. The first problem stops
// the reader (later reads give zeros) and is reported with its byte offset. Numbers are
// written in the machine's byte order: the image header records it, and an image from a
// machine of the other order is refused before any field is read.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace preflight::image {

// The tables a reference may point into; their sizes are in the image header, read
// before any field (engine/image/image.cc).
enum class Table : uint8_t {
  kStrings, kApplications, kRoles, kPolicies, kIdentities, kAccounts, kPopulations, kEntitlements,
};
inline constexpr int kTableCount = 8;
const char* TableName(Table t);

// The deepest Filter / MatchTerm nesting an image may hold: the XML readers' own cap.
inline constexpr int kMaxArchiveDepth = 128;

// A 32-bit reference into `table`: Ref must point at an element, Opt may also be the
// "none" value (kNoId / kNoIndex, UINT32_MAX).
struct RefField {
  uint32_t& v;
  Table table;
  bool optional;
};
inline RefField Ref(uint32_t& v, Table t) { return {v, t, false}; }
inline RefField Opt(uint32_t& v, Table t) { return {v, t, true}; }
// A list of references, each of which must point at an element.
struct RefsField {
  std::vector<uint32_t>& v;
  Table table;
};
inline RefsField Refs(std::vector<uint32_t>& v, Table t) { return {v, t}; }
// A table itself (Rows), or an index with one element per row of a table (PerRow): its
// length must be the header's count of `table`.
template <class T>
struct RowsField {
  std::vector<T>& v;
  Table table;
  bool index;
};
template <class T>
RowsField<T> Rows(std::vector<T>& v, Table t) {
  return {v, t, false};
}
template <class T>
RowsField<T> PerRow(std::vector<T>& v, Table t) {
  return {v, t, true};
}
// A map whose keys are references (an Id -> value map).
template <class V, class... Rest>
struct RefKeysField {
  absl::flat_hash_map<uint32_t, V, Rest...>& m;
  Table table;
};
template <class V, class... Rest>
RefKeysField<V, Rest...> RefKeys(absl::flat_hash_map<uint32_t, V, Rest...>& m, Table t) {
  return {m, t};
}

// The largest value of each enum an image may hold (its last enumerator).
template <class E>
inline constexpr E kEnumLast = E{};

// Recursion depth, for Filter and MatchTerm (both directions count; only the reader fails).
template <class Ar>
class Nesting {
 public:
  explicit Nesting(Ar& ar) : ar_(ar) { ar_.Enter(); }
  ~Nesting() { ar_.Leave(); }
  Nesting(const Nesting&) = delete;
  Nesting& operator=(const Nesting&) = delete;

 private:
  Ar& ar_;
};

template <class T>
inline constexpr bool kRawScalar = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

class Writer {
 public:
  static constexpr bool kReading = false;
  template <class... T>
  void operator()(T&&... fields) {
    (Put(fields), ...);
  }
  void Enter() {}
  void Leave() {}
  std::string& bytes() { return out_; }

 private:
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Count(size_t n) {
    uint32_t c = static_cast<uint32_t>(n);  // the caller checks sizes (ImageTooLarge)
    Raw(&c, 4);
  }
  template <class T>
  void Put(T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      uint8_t b = v ? 1 : 0;
      Raw(&b, 1);
    } else if constexpr (kRawScalar<T>) {
      Raw(&v, sizeof v);
    } else if constexpr (std::is_enum_v<T>) {
      uint8_t b = static_cast<uint8_t>(v);
      Raw(&b, 1);
    } else {
      Fields(*this, v);  // a struct: its field list (engine/image/fields.h)
    }
  }
  void Put(std::string& s) {
    Count(s.size());
    Raw(s.data(), s.size());
  }
  template <class T>
  void Put(std::vector<T>& v) {
    Count(v.size());
    if constexpr (kRawScalar<T>) {
      Raw(v.data(), v.size() * sizeof(T));
    } else {
      for (T& e : v) Put(e);
    }
  }
  template <class T>
  void Put(std::optional<T>& o) {
    bool has = o.has_value();
    Put(has);
    if (has) Put(*o);
  }
  template <class K, class V, class... Rest>
  void Put(absl::flat_hash_map<K, V, Rest...>& m) {
    Count(m.size());
    for (auto& [k, v] : m) {
      K key = k;
      Put(key);
      Put(v);
    }
  }
  void Put(RefField f) { Put(f.v); }
  void Put(RefsField f) { Put(f.v); }
  template <class T>
  void Put(RowsField<T> f) {
    Put(f.v);
  }
  template <class V, class... Rest>
  void Put(RefKeysField<V, Rest...> f) {
    Put(f.m);
  }

  std::string out_;
};

class Reader {
 public:
  static constexpr bool kReading = true;
  // `tables`: the sizes of the tables references point into (the image header's counts).
  Reader(std::string_view bytes, const uint64_t (&tables)[kTableCount]) : p_(bytes.data()), begin_(bytes.data()),
                                                                          end_(bytes.data() + bytes.size()) {
    std::memcpy(tables_, tables, sizeof tables_);
  }
  template <class... T>
  void operator()(T&&... fields) {
    (Get(fields), ...);
  }
  void Enter() {
    if (++depth_ > kMaxArchiveDepth) Fail(absl::StrCat("nesting deeper than ", kMaxArchiveDepth));
  }
  void Leave() { --depth_; }
  bool ok() const { return error_.empty(); }
  bool at_end() const { return p_ == end_; }
  // The first problem, and the byte of the archive where reading stopped.
  const std::string& error() const { return error_; }
  size_t error_offset() const { return error_offset_; }
  void Fail(std::string_view what) {
    if (!ok()) return;
    error_ = std::string(what);
    error_offset_ = static_cast<size_t>(p_ - begin_);
    p_ = end_;
  }
  uint64_t table_size(Table t) const { return tables_[static_cast<int>(t)]; }
  bool Check(uint32_t v, Table t, bool optional) {
    if (v < table_size(t) || (optional && v == UINT32_MAX)) return true;
    Fail(absl::StrCat("a reference ", v, " outside ", TableName(t), " (", table_size(t), ")"));
    return false;
  }
  void CheckRefs(const std::vector<uint32_t>& v, Table t) {
    for (uint32_t x : v)
      if (!Check(x, t, false)) return;
  }
  // Constraint references (policy, constraint): the policies' sizes, once they are read.
  template <class Policy>
  void SetConstraintCounts(const std::vector<Policy>& policies) {
    constraint_counts_.clear();
    for (const Policy& p : policies) constraint_counts_.push_back(p.constraints.size());
  }
  void CheckConstraint(uint32_t policy, uint32_t constraint) {
    if (policy >= constraint_counts_.size() || constraint >= constraint_counts_[policy])
      Fail(absl::StrCat("a reference to constraint ", constraint, " of policy ", policy, ", which does not exist"));
  }

 private:
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  bool Raw(void* out, size_t n) {
    if (n > left()) {
      Fail(absl::StrCat("truncated: ", n, " bytes needed, ", left(), " left"));
      std::memset(out, 0, n);
      return false;
    }
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  // An element count; each element takes at least `min_bytes` bytes, so a count the
  // bytes left cannot hold is refused before anything is allocated.
  size_t Count(size_t min_bytes) {
    uint32_t c = 0;
    if (!Raw(&c, 4)) return 0;
    if (static_cast<uint64_t>(c) * min_bytes > left()) {
      Fail(absl::StrCat("a count of ", c, " exceeds the ", left(), " bytes left"));
      return 0;
    }
    return c;
  }
  template <class T>
  void Get(T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      uint8_t b = 0;
      Raw(&b, 1);
      if (b > 1) Fail(absl::StrCat("a bool of value ", b));
      v = b == 1;
    } else if constexpr (kRawScalar<T>) {
      Raw(&v, sizeof v);
    } else if constexpr (std::is_enum_v<T>) {
      uint8_t b = 0;
      Raw(&b, 1);
      if (b > static_cast<uint8_t>(kEnumLast<T>)) Fail(absl::StrCat("an enum of value ", b));
      v = ok() ? static_cast<T>(b) : T{};
    } else {
      Fields(*this, v);
    }
  }
  void Get(std::string& s) {
    size_t n = Count(1);
    s.assign(p_, n);
    p_ += n;
  }
  template <class T>
  void Get(std::vector<T>& v) {
    v.clear();
    if constexpr (kRawScalar<T>) {
      size_t n = Count(sizeof(T));
      v.resize(n);
      if (n) std::memcpy(v.data(), p_, n * sizeof(T));
      p_ += n * sizeof(T);
    } else {
      size_t n = Count(1);
      for (size_t i = 0; i < n && ok(); ++i) Get(v.emplace_back());
    }
  }
  template <class T>
  void Get(std::optional<T>& o) {
    bool has = false;
    Get(has);
    o.reset();
    if (has) Get(o.emplace());
  }
  template <class K, class V, class... Rest>
  void Get(absl::flat_hash_map<K, V, Rest...>& m) {
    GetMap(m, [](const K&) { return true; });
  }
  // A map's entries in the archive's order, each key passed to check_key as it is read
  // (false: stop, check_key has failed the archive).
  template <class K, class V, class... Rest, class CheckKey>
  void GetMap(absl::flat_hash_map<K, V, Rest...>& m, CheckKey check_key) {
    m.clear();
    size_t n = Count(1);
    m.reserve(n);
    for (size_t i = 0; i < n && ok(); ++i) {
      K key{};
      Get(key);
      if (!ok() || !check_key(key)) return;
      V value{};
      Get(value);
      if (ok() && !m.emplace(std::move(key), std::move(value)).second) Fail("a repeated map key");
    }
  }
  void Get(RefField f) {
    Get(f.v);
    Check(f.v, f.table, f.optional);
  }
  void Get(RefsField f) {
    Get(f.v);
    CheckRefs(f.v, f.table);
  }
  template <class T>
  void Get(RowsField<T> f) {
    Get(f.v);
    if (!ok() || f.v.size() == table_size(f.table)) return;
    if (f.index)
      Fail(absl::StrCat("an index of ", f.v.size(), " rows for ", table_size(f.table), " ", TableName(f.table)));
    else
      Fail(absl::StrCat(TableName(f.table), " holds ", f.v.size(), " rows, the header says ", table_size(f.table)));
  }
  // Each key checked as it is read: the error names the first bad key in the archive, the
  // same on every open (a map's iteration order differs from one table to another).
  template <class V, class... Rest>
  void Get(RefKeysField<V, Rest...> f) {
    GetMap(f.m, [&](uint32_t k) { return Check(k, f.table, false); });
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  uint64_t tables_[kTableCount] = {};
  std::vector<size_t> constraint_counts_;
  int depth_ = 0;
  std::string error_;
  size_t error_offset_ = 0;
};

}  // namespace preflight::image
