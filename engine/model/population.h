#pragma once
// The snapshot's population side: identities, their accounts, attributes and
// permissions, the entitlement records, the identity name lookup and the SCIM resource
// texts, stored as flat columns of plain records (engine/model/column.h). Records refer
// to each other by position and to slices of arena columns by Range, never by pointer,
// so the columns can be written to an image and mapped back as they are.
//
// Readers do not see records: Snapshot::identities() and accounts() give views
// (IdentityView, AccountView) made on access, with spans into the arenas.

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/column.h"
#include "engine/model/record_check.h"
#include "engine/model/scim_documents.h"
#include "engine/model/string_pool.h"

namespace preflight {

using Index = uint32_t;  // position in one of the snapshot's arrays
inline constexpr Index kNoIndex = UINT32_MAX;

inline bool SameIds(std::span<const Id> a, std::span<const Id> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// One attribute of an account or identity, as readers see it.
struct AttrView {
  Id name = kNoId;
  bool multi = false;           // a list (EQ never matches a list, CONTAINS_ALL does)
  std::span<const Id> values;  // in source order
  friend bool operator==(const AttrView& a, const AttrView& b) {
    return a.name == b.name && a.multi == b.multi && SameIds(a.values, b.values);
  }
};

// An attribute a check owns (a plan's write, a state's own identity attributes).
struct AttrValues {
  Id name = kNoId;
  bool multi = false;
  std::vector<Id> values;  // in source order
  operator AttrView() const { return {name, multi, values}; }
  static AttrValues Of(const AttrView& v) { return {v.name, v.multi, {v.values.begin(), v.values.end()}}; }
  friend bool operator==(const AttrValues&, const AttrValues&) = default;
};

struct PermissionView {
  Id target = kNoId;
  std::span<const Id> rights;
  friend bool operator==(const PermissionView& a, const PermissionView& b) {
    return a.target == b.target && SameIds(a.rights, b.rights);
  }
};

struct Permission {
  Id target = kNoId;
  std::vector<Id> rights;
  operator PermissionView() const { return {target, rights}; }
  static Permission Of(const PermissionView& v) { return {v.target, {v.rights.begin(), v.rights.end()}}; }
  friend bool operator==(const Permission&, const Permission&) = default;
};

// --- Stored records.

// One attribute. Its values are PopulationStore::values[first, the next record's first):
// records and values are stored in the same order, and the attributes column ends with
// a record that only marks where the last values end (eight bytes an attribute).
struct AttrRecord {
  static constexpr uint32_t kMulti = 0x80000000u, kFirst = 0x7FFFFFFFu;
  Id name = kNoId;
  uint32_t first_and_multi = 0;  // the first value's position; kMulti: a list
  uint32_t first() const { return first_and_multi & kFirst; }
  bool multi() const { return (first_and_multi & kMulti) != 0; }
};

struct PermissionRecord {
  Id target = kNoId;
  Range rights;  // in PopulationStore::rights
};

struct IdentityRecord {
  Id name = kNoId, id = kNoId, display_name = kNoId;
  uint8_t flags = 0;  // IdentityView::kExpansionNoop | kDetectionConsistent
  uint8_t from_scim = 0, inactive = 0, unused = 0;
  Range assigned_roles, detected_roles;  // in PopulationStore::roles, in source order
  Range accounts;                        // in PopulationStore::account_lists
  Range attributes;                      // in PopulationStore::attributes, sorted by name
};

struct AccountRecord {
  Id id = kNoId, instance = kNoId, native_identity = kNoId, display_name = kNoId;
  Index application = kNoIndex, identity = kNoIndex;
  uint8_t from_scim = 0, disabled = 0, locked = 0, unused = 0;
  Range attributes;   // in PopulationStore::attributes, sorted by name
  Range permissions;  // in PopulationStore::permissions
};

// A ManagedAttribute (SCIM Entitlement).
struct EntitlementRecord {
  Index application = kNoIndex;
  Id attribute = kNoId, value = kNoId;
  Id id = kNoId, display_name = kNoId, type = kNoId;  // interned ("" when absent)
  uint8_t requestable = 1, from_scim = 0, unused[2] = {};
};

// --- Ranges read by position, elements made on access.

// Random access over a list that has size() and operator[] returning by value.
template <class List>
class PositionIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = decltype(std::declval<const List&>()[0]);
  using difference_type = std::ptrdiff_t;
  using reference = value_type;
  using pointer = void;
  PositionIterator() = default;
  PositionIterator(List list, size_t i) : list_(list), i_(i) {}
  value_type operator*() const { return list_[i_]; }
  struct Arrow {
    value_type value;
    const value_type* operator->() const { return &value; }
  };
  Arrow operator->() const { return {list_[i_]}; }
  value_type operator[](difference_type n) const { return list_[i_ + n]; }
  PositionIterator& operator++() { ++i_; return *this; }
  PositionIterator operator++(int) { auto t = *this; ++i_; return t; }
  PositionIterator& operator--() { --i_; return *this; }
  PositionIterator operator--(int) { auto t = *this; --i_; return t; }
  PositionIterator& operator+=(difference_type n) { i_ += n; return *this; }
  PositionIterator& operator-=(difference_type n) { i_ -= n; return *this; }
  friend PositionIterator operator+(PositionIterator a, difference_type n) { return a += n; }
  friend PositionIterator operator+(difference_type n, PositionIterator a) { return a += n; }
  friend PositionIterator operator-(PositionIterator a, difference_type n) { return a -= n; }
  friend difference_type operator-(const PositionIterator& a, const PositionIterator& b) {
    return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
  }
  friend bool operator==(const PositionIterator& a, const PositionIterator& b) { return a.i_ == b.i_; }
  friend auto operator<=>(const PositionIterator& a, const PositionIterator& b) { return a.i_ <=> b.i_; }

 private:
  List list_{};
  size_t i_ = 0;
};

// A list of attributes or permissions: a slice of stored records whose values are in
// an arena, or a vector a check owns. Copied by value (three words).
template <class Record, class Owned, class View>
class RecordList {
 public:
  RecordList() = default;
  RecordList(std::span<const Record> records, const Id* arena)
      : records_(records.data()), arena_(arena), size_(records.size()) {}
  RecordList(const std::vector<Owned>& owned) : owned_(owned.data()), size_(owned.size()) {}  // NOLINT: implicit

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  View operator[](size_t i) const { return owned_ ? View(owned_[i]) : Make(records_ + i, arena_); }
  PositionIterator<RecordList> begin() const { return {*this, 0}; }
  PositionIterator<RecordList> end() const { return {*this, size_}; }
  // Where the elements are.
  const void* data() const { return owned_ ? static_cast<const void*>(owned_) : records_; }
  // The same elements in the same place (not only equal ones).
  bool SameAs(const RecordList& o) const { return data() == o.data() && size_ == o.size_; }
  std::vector<Owned> ToVector() const {
    std::vector<Owned> out;
    out.reserve(size_);
    for (size_t i = 0; i < size_; ++i) out.push_back(Owned::Of((*this)[i]));
    return out;
  }
  friend bool operator==(const RecordList& a, const RecordList& b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i)
      if (!(a[i] == b[i])) return false;
    return true;
  }

 private:
  static AttrView Make(const AttrRecord* r, const Id* arena) {
    return {r->name, r->multi(), {arena + r->first(), arena + r[1].first()}};
  }
  static PermissionView Make(const PermissionRecord* r, const Id* arena) {
    return {r->target, {arena + r->rights.begin, r->rights.count}};
  }
  const Record* records_ = nullptr;
  const Id* arena_ = nullptr;
  const Owned* owned_ = nullptr;
  size_t size_ = 0;
};

// Attributes sorted by name.
class AttrList : public RecordList<AttrRecord, AttrValues, AttrView> {
 public:
  using RecordList::RecordList;
  // The attribute named `name`, when present.
  std::optional<AttrView> Find(Id name) const {
    size_t lo = 0, hi = size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if ((*this)[mid].name < name) lo = mid + 1;
      else hi = mid;
    }
    if (lo == size()) return std::nullopt;
    AttrView v = (*this)[lo];
    return v.name == name ? std::optional<AttrView>(v) : std::nullopt;
  }
};
using PermissionList = RecordList<PermissionRecord, Permission, PermissionView>;

struct IdentityView {
  // Set at load (PrecomputeIdentityFlags): the pre state needs no expansion, and the
  // stored detected roles are what detection finds.
  static constexpr uint8_t kExpansionNoop = 1, kDetectionConsistent = 2;
  Id name = kNoId;
  Id id = kNoId, display_name = kNoId;  // interned ("" when absent)
  uint8_t flags = 0;
  bool from_scim = false;
  bool inactive = false;
  std::span<const Index> assigned_roles;  // in source order
  std::span<const Index> detected_roles;  // in source order
  std::span<const Index> accounts;
  AttrList attributes;  // identity attributes (selectors, CompoundFilters), sorted by name
};

struct AccountView {
  Id id = kNoId;  // interned ("" when absent)
  bool from_scim = false;
  Index application = kNoIndex;
  Id instance = kNoId;
  Id native_identity = kNoId;
  Id display_name = kNoId;
  Index identity = kNoIndex;
  AttrList attributes;  // sorted by name id
  PermissionList permissions;
  bool disabled = false;
  bool locked = false;
};

// SCIM resources of one type as exported (JSON text), in load order, kept compressed
// (engine/model/packed_texts.h: the columns' layout). Read through a Reader, which holds
// the frame it last decompressed: reading in order decompresses each frame once.
class TextList {
 public:
  TextList() = default;
  // Texts stored as they are (no frames), or packed in frames.
  TextList(const Column<char>& text, const Column<uint64_t>& starts, const Column<uint64_t>& frame_starts = {},
           const Column<uint64_t>& frame_offsets = {})
      : text_(text.data()), text_bytes_(text.size()), starts_(starts.data()),
        size_(starts.empty() ? 0 : starts.size() - 1), frame_starts_(frame_starts.data()),
        frame_offsets_(frame_offsets.data()),
        frames_(frame_starts.empty() || frame_starts.size() != frame_offsets.size() ? 0 : frame_starts.size() - 1),
        packed_(!frame_starts.empty() || !frame_offsets.empty()) {}
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  class Reader;

 private:
  const char* text_ = nullptr;
  size_t text_bytes_ = 0;
  const uint64_t* starts_ = nullptr;
  size_t size_ = 0;
  const uint64_t* frame_starts_ = nullptr;
  const uint64_t* frame_offsets_ = nullptr;
  size_t frames_ = 0;
  bool packed_ = false;
};

class TextList::Reader {
 public:
  explicit Reader(TextList list) : list_(list) {}
  // Text i, valid until the next call (empty past the end). A text that cannot be read (a
  // corrupt or hostile image's) throws CorruptRecord (engine/model/record_check.h).
  std::string_view operator[](size_t i);

 private:
  TextList list_;
  std::string frame_;
  size_t at_ = SIZE_MAX;  // the frame in frame_
};


// The columns. Built by the load passes (engine/load), which seal each column when done.
struct PopulationStore {
  Column<IdentityRecord> identities;
  Column<AccountRecord> accounts;
  Column<Index> roles;          // identities' assigned and detected roles
  Column<Index> account_lists;  // identities' accounts
  Column<AttrRecord> attributes;  // identities' and accounts' (and the end marker)
  Column<Id> values;              // the attributes' values
  Column<PermissionRecord> permissions;
  Column<Id> rights;              // the permissions' rights
  Column<EntitlementRecord> entitlements;
  // Identity positions by the text of their name (engine/model/hash_slots.h).
  Column<uint32_t> identity_slots;
  // Per kResourceTypes entry, the texts (engine/model/packed_texts.h): their frames end to
  // end, where each text starts (size + 1), where each frame's texts start and where the
  // frame starts (frames + 1 each).
  std::array<Column<char>, kResourceTypes.size()> resource_text;
  std::array<Column<uint64_t>, kResourceTypes.size()> resource_starts;
  std::array<Column<uint64_t>, kResourceTypes.size()> resource_frame_starts;
  std::array<Column<uint64_t>, kResourceTypes.size()> resource_frame_offsets;

  // On for an image whose columns are not verified yet (engine/model/record_check.h):
  // the views check each record they read, against these tables' sizes too.
  RecordChecks checks;
  size_t role_rows = 0, application_rows = 0;

  IdentityView Identity(Index i) const {
    if (checks.on()) CheckIdentity(i);
    const IdentityRecord& r = identities[i];
    return {r.name, r.id, r.display_name, r.flags, r.from_scim != 0, r.inactive != 0,
            roles.span(r.assigned_roles), roles.span(r.detected_roles), account_lists.span(r.accounts),
            AttrList(attributes.span(r.attributes), values.data())};
  }
  AccountView Account(Index i) const {
    if (checks.on()) CheckAccount(i);
    const AccountRecord& r = accounts[i];
    return {r.id, r.from_scim != 0, r.application, r.instance, r.native_identity, r.display_name, r.identity,
            AttrList(attributes.span(r.attributes), values.data()),
            PermissionList(permissions.span(r.permissions), rights.data()), r.disabled != 0, r.locked != 0};
  }

  // The name of identity i (the name lookup's probe reads only that).
  Id IdentityName(Index i) const {
    if (checks.on()) CheckPosition("identities", i, identities.size());
    return identities[i].name;
  }
  // Asks for identity i's lists (its roles, accounts and attributes) to be brought into
  // the cache, where a reader of the identity will look next. The name lookup asks once it
  // has read the record, so that the lists' cache misses overlap with the name's.
  void PrefetchLists(Index i) const {
    if (checks.on()) return;  // an unverified record's ranges may point anywhere
    const IdentityRecord& r = identities[i];
    __builtin_prefetch(roles.data() + r.assigned_roles.begin);
    __builtin_prefetch(roles.data() + r.detected_roles.begin);
    __builtin_prefetch(account_lists.data() + r.accounts.begin);
    __builtin_prefetch(attributes.data() + r.attributes.begin);
  }

  // Every column, in a fixed order, as f(std::string_view name, Column<T>& column).
  template <class F>
  void ForEachColumn(F f) { Visit(*this, f); }
  template <class F>
  void ForEachColumn(F f) const { Visit(*this, f); }

 private:
  // The on-access checks (engine/model/record_check.cc): each throws CorruptRecord.
  void CheckIdentity(Index i) const;
  void CheckAccount(Index i) const;
  void CheckAttributes(std::string_view column, Index row, Range r) const;
  static void CheckPosition(std::string_view column, size_t row, size_t rows);

  template <class Self, class F>
  static void Visit(Self& s, F& f) {
    f(std::string_view("identities"), s.identities);
    f(std::string_view("accounts"), s.accounts);
    f(std::string_view("identity.roles"), s.roles);
    f(std::string_view("identity.accounts"), s.account_lists);
    f(std::string_view("attributes"), s.attributes);
    f(std::string_view("values"), s.values);
    f(std::string_view("permissions"), s.permissions);
    f(std::string_view("rights"), s.rights);
    f(std::string_view("entitlements"), s.entitlements);
    f(std::string_view("identity.slots"), s.identity_slots);
    static constexpr std::array<std::string_view, kResourceTypes.size()> kText = {
        "resources.Users.text", "resources.Accounts.text", "resources.Entitlements.text", "resources.Roles.text",
        "resources.Applications.text"};
    static constexpr std::array<std::string_view, kResourceTypes.size()> kStarts = {
        "resources.Users.starts", "resources.Accounts.starts", "resources.Entitlements.starts",
        "resources.Roles.starts", "resources.Applications.starts"};
    static constexpr std::array<std::string_view, kResourceTypes.size()> kFrames = {
        "resources.Users.frames", "resources.Accounts.frames", "resources.Entitlements.frames",
        "resources.Roles.frames", "resources.Applications.frames"};
    static constexpr std::array<std::string_view, kResourceTypes.size()> kFrameOffsets = {
        "resources.Users.frameOffsets", "resources.Accounts.frameOffsets", "resources.Entitlements.frameOffsets",
        "resources.Roles.frameOffsets", "resources.Applications.frameOffsets"};
    for (size_t t = 0; t < kResourceTypes.size(); ++t) {
      f(kText[t], s.resource_text[t]);
      f(kStarts[t], s.resource_starts[t]);
      f(kFrames[t], s.resource_frame_starts[t]);
      f(kFrameOffsets[t], s.resource_frame_offsets[t]);
    }
  }
};

// A random-access range of the views of a store's identities or accounts.
template <class View, View (PopulationStore::*make)(Index) const>
class StoreRange {
 public:
  StoreRange() = default;
  StoreRange(const PopulationStore* store, size_t n) : store_(store), size_(n) {}
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  View operator[](size_t i) const { return (store_->*make)(static_cast<Index>(i)); }
  PositionIterator<StoreRange> begin() const { return {*this, 0}; }
  PositionIterator<StoreRange> end() const { return {*this, size_}; }

 private:
  const PopulationStore* store_ = nullptr;
  size_t size_ = 0;
};
using IdentityRange = StoreRange<IdentityView, &PopulationStore::Identity>;
using AccountRange = StoreRange<AccountView, &PopulationStore::Account>;

}  // namespace preflight
