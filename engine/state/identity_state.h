#pragma once
// The state of one identity that policies look at: its accounts with their attribute
// values, its assigned and detected roles. The pre state comes from the snapshot; the
// post state is the pre state with a plan applied and roles re-detected.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "engine/model/snapshot.h"

namespace preflight {

// Ids for strings a plan brings that the snapshot never interned. They extend the
// snapshot's id space (id >= pool size), live for one check, and never equal a
// snapshot id, so they can never match a profile or constraint value by accident.
class ValueIds {
 public:
  explicit ValueIds(const StringPool& pool) : pool_(&pool), ids_(0, TextHash{this}, TextEq{this}) {}
  ValueIds(const ValueIds&) = delete;  // the hash set's functors point at this object
  ValueIds& operator=(const ValueIds&) = delete;
  Id Get(std::string_view s);
  // A plan's strings looked up together before the plan is applied (a pool lookup is
  // three cache misses in a row: slot, start, text; together, each step's misses overlap).
  // Expect hashes a string and asks for its slot; Resolve finds every expected string
  // in the pool; Get then answers them by their address, without hashing them again.
  // Only for strings that stay where they are until the next Reset (a plan's own).
  void Expect(std::string_view s);
  // Step 1 or 2 of the expected strings' lookups (StringPool::PrefetchFind), for a caller
  // that interleaves them with its own; Resolve takes the steps not taken.
  void PrefetchExpected(int step);
  void Resolve();
  // The pool id Resolve found for this very string (same address), else kNoId.
  Id Resolved(std::string_view s) const {
    const Expected* e = FindExpected(s);
    return e ? e->id : kNoId;
  }
  std::string_view Text(Id id) const {
    if (id < pool_->size()) return pool_->Get(id);
    size_t i = id - pool_->size();
    return std::string_view(text_).substr(ends_[i] - Length(i), Length(i));
  }
  // Forgets the plan's strings and binds to `pool`; keeps the memory, so that an object
  // reused from check to check (the check's scratch) stops allocating.
  void Reset(const StringPool& pool) {
    pool_ = &pool;
    text_.clear();
    ends_.clear();
    ids_.clear();
    expected_.clear();
    steps_taken_ = 0;
  }
  void Clear() { Reset(*pool_); }

 private:
  size_t Length(size_t i) const { return ends_[i] - (i == 0 ? 0 : ends_[i - 1]); }
  // The set holds the plan's ids, hashed and compared by their text; lookups by text.
  struct TextHash {
    using is_transparent = void;
    const ValueIds* ids;
    size_t operator()(std::string_view s) const { return absl::Hash<std::string_view>()(s); }
    size_t operator()(Id id) const { return (*this)(ids->Text(id)); }
  };
  struct TextEq {
    using is_transparent = void;
    const ValueIds* ids;
    std::string_view Text(std::string_view s) const { return s; }
    std::string_view Text(Id id) const { return ids->Text(id); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return Text(a) == Text(b); }
  };
  // Expected strings: at most kMaxExpected (a plan's few), so that finding one is a
  // short scan and the list never grows past its first allocation.
  struct Expected {
    const char* data;
    size_t size;
    uint32_t hash;
    Id id;  // kNoId until resolved, or when the pool does not hold it
  };
  static constexpr size_t kMaxExpected = 32;
  std::vector<Expected> expected_;
  int steps_taken_ = 0;  // of the expected strings' prefetch steps
  const Expected* FindExpected(std::string_view s) const {
    for (const Expected& e : expected_)
      if (e.data == s.data() && e.size == s.size()) return &e;
    return nullptr;
  }
  const StringPool* pool_;
  std::string text_;          // the plan's strings, one after the other
  std::vector<size_t> ends_;  // where each ends in text_
  absl::flat_hash_set<Id, TextHash, TextEq> ids_;
};

// An account's overlay: entries [0, size) in use, sorted by name. Emptying or
// overwriting it keeps the entries and their value lists' memory for the next use.
class Overlay {
 public:
  Overlay() = default;
  Overlay(const Overlay& o) { *this = o; }
  Overlay& operator=(const Overlay& o);
  Overlay(Overlay&&) = default;
  Overlay& operator=(Overlay&&) = default;
  const AttrValues* begin() const { return entries_.data(); }
  const AttrValues* end() const { return entries_.data() + size_; }
  AttrValues* begin() { return entries_.data(); }
  AttrValues* end() { return entries_.data() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const AttrValues& operator[](size_t i) const { return entries_[i]; }
  void clear() { size_ = 0; }
  // A new entry named `name` holding `values`, at position `at` (which keeps the order).
  AttrValues* Insert(size_t at, Id name, bool multi, std::span<const Id> values);

 private:
  AttrValues& Spare();  // entries_[size_], created when missing
  void Fill(AttrValues& e, Id name, bool multi, std::span<const Id> values);
  std::vector<AttrValues> entries_;
  size_t size_ = 0;
  size_t room_ = 0;  // the capacity of every entry's values
};

struct AccountState {
  Index application = kNoIndex;
  Id instance = kNoId;
  Id native_identity = kNoId;
  Id display_name = kNoId;
  Index source = kNoIndex;  // the snapshot account, kNoIndex when the plan created it
  uint32_t key = 0;         // identifies the account across the pre and post states
  bool disabled = false;
  bool locked = false;

  // Attributes are the snapshot account's, shared, plus an overlay of the ones the
  // plan wrote (sorted by name; an entry without values is an erased attribute), so
  // copying a state and applying a plan copy only what changes. Permissions are
  // shared until the first write copies them.
  std::optional<AttrView> Find(Id attr) const;  // none when absent or erased
  AttrValues* FindOrAdd(Id attr);               // the overlay entry, seeded from the base
  void Erase(Id attr);
  // Calls f(AttrView) for every present attribute, in name order.
  template <typename F>
  void ForEachAttribute(F f) const {
    const AttrList& base = base_attributes_;
    size_t i = 0, j = 0;
    while (i < base.size() || j < overlay_.size()) {
      if (j == overlay_.size() || (i < base.size() && base[i].name < overlay_[j].name)) {
        f(base[i++]);
      } else {
        if (i < base.size() && base[i].name == overlay_[j].name) ++i;
        if (!overlay_[j].values.empty()) f(AttrView(overlay_[j]));
        ++j;
      }
    }
  }
  const AttrList& base_attributes() const { return base_attributes_; }
  const Overlay& overlay() const { return overlay_; }

  PermissionList permissions() const { return own_permissions_ ? PermissionList(permissions_) : base_permissions_; }
  std::vector<Permission>& mutable_permissions();
  bool modified() const { return !overlay_.empty() || own_permissions_; }
  void ShareFrom(const AccountView& account) {
    base_attributes_ = account.attributes;
    base_permissions_ = account.permissions;
    overlay_.clear();
    own_permissions_ = false;
  }

 private:
  AttrList base_attributes_;
  PermissionList base_permissions_;
  Overlay overlay_;
  std::vector<Permission> permissions_;
  bool own_permissions_ = false;
};

// One thing that differs between the pre and post accounts: a value of an attribute
// (attr and value set), any change of an attribute (value kNoId), or an account
// created, deleted or with changed permissions (attr and value kNoId).
struct Change {
  Index application;
  Id attr;
  Id value;
  friend bool operator==(const Change&, const Change&) = default;
  friend bool operator<(const Change& a, const Change& b) {
    if (a.application != b.application) return a.application < b.application;
    return a.attr != b.attr ? a.attr < b.attr : a.value < b.value;
  }
};

struct IdentityState {
  Index identity = kNoIndex;
  std::vector<AccountState> accounts;
  std::vector<Index> assigned_roles;
  std::vector<Index> detected_roles;
  // Identity attributes (sorted by name): the snapshot's, until the plan sets one on the
  // IIQ application (IIQEvaluator.processIdentityAttribute) and the state gets its own.
  bool own_attributes = false;
  std::vector<AttrValues> attributes;
  AttrList Attributes(const Snapshot& s) const {
    return own_attributes ? AttrList(attributes) : s.identities()[identity].attributes;
  }
};

}  // namespace preflight
