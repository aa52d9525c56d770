#pragma once
// The IdentityIQ objects as the loaders read them, with references still by name.
// Both loaders (IIQ XML and SCIM JSON) produce these; SnapshotBuilder resolves the
// names, interns everything and builds the indexed, immutable Snapshot.

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/scim_documents.h"
#include "engine/util/error.h"

namespace preflight {

// A sailpoint.object.Filter leaf or composite (profiles, CompoundFilters).
struct FilterObject {
  std::string op;  // EQ NE LT GT LE GE IN CONTAINS_ALL LIKE NOTNULL ISNULL ISEMPTY AND OR NOT ...
  std::string property;
  std::vector<std::string> values;  // `value=` or <Value><List><String>...
  bool has_value = false;
  bool value_is_list = false;
  bool ignore_case = false;
  std::string match_mode;  // LIKE: START END ANYWHERE EXACT
  std::vector<FilterObject> children;  // AND / OR / NOT
};

struct PermissionObject {
  std::string target;
  std::vector<std::string> rights;
};

struct ProfileObject {
  std::string application;
  std::vector<FilterObject> constraints;  // all must match one account
  std::vector<PermissionObject> permissions;
};

struct RoleObject {
  bool from_scim = false;  // read from a SCIM resource (kept as a query document)
  std::string name;
  std::string id;
  std::string display_name;
  std::string type;  // business, it, organizational, entitlement, custom
  bool disabled = false;
  bool or_profiles = false;
  std::vector<std::string> inheritance;  // roles this role inherits FROM
  std::vector<std::string> requirements;
  std::vector<std::string> permits;
  std::vector<ProfileObject> profiles;
  std::string description;
  Location where;
};

// An attribute's values in one string, each value after its length, rather than a
// std::string each: an export's identities and accounts hold millions of values (40 per
// identity), most of the loaders' memory, and this keeps them in one allocation per
// attribute (none for one short value). Reads as a list of std::string_view.
class ValueList {
 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;
    const_iterator() = default;
    explicit const_iterator(const char* at) : at_(at) {}
    std::string_view operator*() const { return {at_ + sizeof(uint32_t), Length()}; }
    const_iterator& operator++() {
      at_ += sizeof(uint32_t) + Length();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator was = *this;
      ++*this;
      return was;
    }
    bool operator==(const const_iterator& o) const { return at_ == o.at_; }

   private:
    uint32_t Length() const {
      uint32_t n;
      std::memcpy(&n, at_, sizeof n);
      return n;
    }
    const char* at_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = std::string_view;

  ValueList() = default;
  ValueList(std::initializer_list<std::string_view> values) {
    for (std::string_view v : values) push_back(v);
  }
  void push_back(std::string_view v) {
    uint32_t n = static_cast<uint32_t>(v.size());
    data_.append(reinterpret_cast<const char*>(&n), sizeof n);
    data_.append(v);
    ++size_;
  }
  void emplace_back(std::string_view v) { push_back(v); }
  void clear() {
    data_.clear();
    size_ = 0;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const { return *std::next(begin(), static_cast<std::ptrdiff_t>(i)); }
  std::string_view front() const { return *begin(); }
  const_iterator begin() const { return const_iterator(data_.data()); }
  const_iterator end() const { return const_iterator(data_.data() + data_.size()); }
  bool operator==(const ValueList& o) const { return data_ == o.data_; }

 private:
  std::string data_;
  uint32_t size_ = 0;
};

struct AttributeObject {
  std::string name;
  ValueList values;
  bool multi = false;  // the source held a list
};

struct AccountObject {
  bool from_scim = false;  // read from a SCIM resource (kept as a query document)
  std::string id;
  std::string identity;  // owner identity name (SCIM Accounts, standalone Links)
  std::string application;
  std::string instance;
  std::string native_identity;
  std::string display_name;
  std::vector<AttributeObject> attributes;
  std::vector<PermissionObject> permissions;
  bool disabled = false;
  bool locked = false;
  Location where;
};

struct IdentityObject {
  bool from_scim = false;  // read from a SCIM resource (kept as a query document)
  std::string name;
  std::string id;
  std::string display_name;
  std::vector<AttributeObject> attributes;
  std::vector<std::string> assigned_roles;
  std::vector<std::string> detected_roles;
  std::vector<AccountObject> accounts;  // nested <Links>
  std::vector<std::string> account_ids; // SCIM: accounts referenced by id
  bool inactive = false;
  Location where;
};

struct SchemaAttributeObject {
  std::string name;
  bool multi = false;
  bool entitlement = false;
};

struct ApplicationObject {
  bool from_scim = false;  // read from a SCIM resource (kept as a query document)
  std::string name;
  std::string id;
  std::string type;
  bool case_insensitive = false;
  bool has_account_schema = false;
  std::string identity_attribute;
  std::string display_attribute;
  std::vector<SchemaAttributeObject> account_schema;
  Location where;
};

struct EntitlementObject {
  bool from_scim = false;  // read from a SCIM resource (kept as a query document)  // ManagedAttribute
  std::string id;
  std::string application;
  std::string attribute;
  std::string value;
  std::string display_name;
  std::string type;  // Entitlement, Permission
  bool requestable = true;
  Location where;
};

struct MatchTermObject {
  std::string type;  // "", Entitlement, Permission, IdentityAttribute, RoleAttribute, ...
  std::string application;
  std::string name;
  std::optional<std::string> value;
  bool container = false;
  bool and_op = false;
  bool negative = false;
  bool check_effective = false;
  std::vector<MatchTermObject> children;
};

struct SelectorObject {
  bool has_match_expression = false;
  bool match_and = false;
  std::string match_application;  // the expression's default ApplicationRef
  std::vector<MatchTermObject> terms;
  bool has_compound_filter = false;
  std::vector<std::string> compound_applications;
  std::vector<FilterObject> compound_filter;  // one root (AND of roots)
  std::optional<std::string> population;  // <PopulationRef>: a GroupDefinition's name
  std::vector<std::string> unsupported;  // "RuleRef 'X'", "Script"
};

struct ConstraintObject {
  enum class Kind { kRoleSod, kGeneric, kOther };
  Kind kind = Kind::kOther;
  std::string name;
  bool has_name = false;
  std::string id;
  bool disabled = false;
  std::optional<std::string> description;
  std::vector<std::string> left_roles;
  std::vector<std::string> right_roles;
  std::vector<SelectorObject> selectors;
  std::string violation_rule;  // Attributes violationRule: a BeanShell rule that formats the violation
  std::string element;  // ActivityConstraint etc. for kOther
  Location where;
};

struct PolicyObject {
  std::string name;
  std::string id;
  std::string type;
  std::string executor;
  std::string state;  // Active / Inactive
  bool is_template = false;
  std::optional<std::string> description;
  std::vector<ConstraintObject> constraints;
  std::string violation_rule;  // Attributes violationRule (BeanShell)
  Location where;
};

// A population (GroupDefinition): a filter over identity attributes, run by IdentityIQ
// as a database query.
struct GroupDefinitionObject {
  std::string name;
  std::string id;
  std::optional<FilterObject> filter;  // <GroupFilter>; none: the population has no filter
  Location where;
};

// One attribute of the identity configuration (ObjectConfig name="Identity").
struct IdentityAttributeObject {
  std::string name;
  bool multi = false;
};

// A role type (ObjectConfig name="Bundle", RoleTypeDefinition).
struct RoleTypeObject {
  std::string name;
  bool no_detection = false;
  bool no_auto_assignment = false;
  bool no_manual_assignment = false;
  bool no_detection_unless_assigned = false;
};

// Allocates large arrays straight from the system (mmap) and gives them back the same
// way, small ones with operator new. The load's identity chunks are made on the parse
// threads and released on the loading thread while the model grows there: through
// malloc, their memory would stay in the parse threads' arenas, where the model cannot
// reuse it (at 1,000,000 identities, a peak 0.75 GB higher).
void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);
template <class T>
struct LargeArrayAllocator {
  using value_type = T;
  LargeArrayAllocator() = default;
  template <class U>
  LargeArrayAllocator(const LargeArrayAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LargeArrayAllocator<U>&) const { return true; }
};

// Identities (with their accounts) and standalone accounts, packed: each string once per
// chunk, every list a run of one array, a location in 24 bytes. The objects take
// kilobytes each (a std::string per name, value and reference); packed, an export's
// identities take about what the model will, so the load holds them packed from the
// parse (each file's, by the thread that parsed it) to the identities pass, which reads
// the chunks in order and releases each one. Names stay names (the identities pass
// resolves them); unpacking gives back the very objects packed. Each string's hash for the
// string pool is computed as it is packed, on the parse threads, not by the identities pass.
struct IdentityChunk {
  template <class T>
  using Array = std::vector<T, LargeArrayAllocator<T>>;
  using Str = uint32_t;  // a string of the chunk
  struct Run {  // lists[begin, begin + size), or a run of another array
    uint32_t begin = 0, size = 0;
  };
  // The pointer of a Place that is its object's usual one: "Identity[name]" for an
  // identity, "Link[native identity]" for an account (the XML reader's), made when asked
  // for instead of kept (a string per object, about a tenth of a chunk).
  static constexpr Str kObjectPointer = UINT32_MAX;
  // A pointer with this bit set is an array item's (the SCIM reader's "/Resources/<i>"):
  // the string (the bit cleared) followed by the item's index, kept in `offset` (such a
  // place has no offset of its own), made when asked for instead of kept (a string per
  // object, each hashed and added to the chunk as it is read).
  static constexpr Str kIndexed = Str{1} << 31;
  struct Place {  // a Location
    Str file = 0, pointer = 0;
    int32_t line = 0, column = 0;
    int64_t offset = -1;
  };
  static constexpr Str kMaxStrings = Str{1} << 31;  // a chunk's strings (an Attribute's name: 31 bits)
  // A chunk's text, each string once (`ends` in 32 bits: 4 bytes less per string, the
  // chunks' fourth largest array). The readers start a new chunk every few megabytes of
  // an export and before kFullText (Full()); past kMaxText, a length_error.
  static constexpr uint64_t kMaxText = UINT32_MAX;
  static constexpr uint64_t kFullText = uint64_t{1} << 30;
  // 8 bytes: the most numerous record of a chunk. The name and the multi flag share a
  // word written whole, not as bit fields: a bit field is set by reading its word first,
  // and a new page read before it is written faults twice, the second time flushing the
  // other cores' TLBs (an interrupt to each; ~3% of the XML load's CPU as bit fields).
  struct Attribute {
    static constexpr Str kMulti = Str{1} << 31;
    Str name_multi = 0;  // the name, kMulti set when multi-valued
    uint32_t size = 0;   // its values: the next `size` of its AttributeRun's values
    Str name() const { return name_multi & ~kMulti; }
    bool multi() const { return (name_multi & kMulti) != 0; }
  };
  static_assert(sizeof(Attribute) == 8);
  // An object's attributes, attributes[begin, begin + size), and their values, one run of
  // lists from `values` on, each attribute's right after the one before it's (so an
  // attribute need not say where its own begin).
  struct AttributeRun {
    uint32_t begin = 0, size = 0, values = 0;
  };
  struct Permission {
    Str target = 0;
    Run rights;
  };
  struct Account {
    Str id = 0, identity = 0, application = 0, instance = 0, native_identity = 0, display_name = 0;
    AttributeRun attributes;
    Run permissions;
    bool from_scim = false, disabled = false, locked = false;
    Place where;
  };
  struct Identity {
    Str name = 0, id = 0, display_name = 0;
    AttributeRun attributes;
    Run assigned_roles, detected_roles, accounts, account_ids;
    bool from_scim = false, inactive = false;
    Place where;
  };

  Array<char> text;       // the strings end to end, each once
  Array<uint32_t> ends;   // string s is text[s ? ends[s - 1] : 0, ends[s])
  Array<uint32_t> hashes;  // string s's SlotHash (engine/model/hash_slots.h), made on the parse thread
  Array<Identity> identities;
  Array<Account> accounts;  // the identities' (nested), then the standalone ones
  Run standalone;           // of accounts: standalone Links / SCIM Accounts
  Array<Attribute> attributes;
  Array<Permission> permissions;
  Array<Str> lists;  // attribute values, role names, account ids, rights

  size_t string_count() const { return ends.size(); }
  std::string_view Get(Str s) const {
    uint32_t begin = s ? ends[s - 1] : 0;
    return {text.data() + begin, static_cast<size_t>(ends[s] - begin)};
  }
  Location Where(const Identity& i) const { return Where(i.where, "Identity[", i.name); }
  Location Where(const Account& a) const { return Where(a.where, "Link[", a.native_identity); }
  std::span<const Str> List(Run r) const { return {lists.data() + r.begin, r.size}; }
  // f(attribute, its values) for each attribute of `r`, in order.
  template <class F>
  void ForEachAttribute(AttributeRun r, F f) const {
    const Str* values = lists.data() + r.values;
    for (const Attribute& a : std::span<const Attribute>(attributes.data() + r.begin, r.size)) {
      f(a, std::span<const Str>(values, a.size));
      values += a.size;
    }
  }
  std::span<const Permission> Permissions(Run r) const { return {permissions.data() + r.begin, r.size}; }
  std::span<const Account> Accounts(Run r) const { return {accounts.data() + r.begin, r.size}; }

 private:
  // `p`, its kObjectPointer made of `prefix`, the string `subject` and "]".
  Location Where(const Place& p, std::string_view prefix, Str subject) const;
};

// Writes one IdentityChunk at a time: each string once, every list a run of one array.
// A loader writes identities and accounts straight in as it reads them (the IdentityIQ
// XML reader: no object per identity), or adds objects (Add, Account); standalone
// accounts wait, so that Finish() puts them after the identities' own, as a chunk keeps them.
class IdentityChunkBuilder {
 public:
  using Str = IdentityChunk::Str;
  using Run = IdentityChunk::Run;
  // Appends strings to the chunk's lists as one run (as a list of values is read).
  class ListWriter {
   public:
    explicit ListWriter(IdentityChunkBuilder& b) : b_(b), begin_(static_cast<uint32_t>(b.chunk_.lists.size())) {}
    void emplace_back(std::string_view s) { b_.chunk_.lists.push_back(b_.S(s)); }
    Run run() const { return {begin_, static_cast<uint32_t>(b_.chunk_.lists.size()) - begin_}; }

   private:
    IdentityChunkBuilder& b_;
    uint32_t begin_;
  };

  // Writes one object's attributes as an AttributeRun: for each, Values() and its values
  // (emplace_back), then Add(its name); values not followed by an Add are dropped. Nothing
  // else is written to the chunk's lists meanwhile.
  class AttributeWriter {
   public:
    explicit AttributeWriter(IdentityChunkBuilder& b)
        : b_(b),
          run_{static_cast<uint32_t>(b.chunk_.attributes.size()), 0, static_cast<uint32_t>(b.chunk_.lists.size())},
          end_(run_.values) {}
    AttributeWriter& Values() {
      b_.chunk_.lists.resize(end_);
      return *this;
    }
    void emplace_back(std::string_view s) { b_.chunk_.lists.push_back(b_.S(s)); }
    void Add(Str name, bool multi) {
      const auto end = static_cast<uint32_t>(b_.chunk_.lists.size());
      b_.chunk_.attributes.push_back({name | (multi ? IdentityChunk::Attribute::kMulti : 0), end - end_});
      end_ = end;
      ++run_.size;
    }
    IdentityChunk::AttributeRun run() {
      b_.chunk_.lists.resize(end_);
      return run_;
    }

   private:
    IdentityChunkBuilder& b_;
    IdentityChunk::AttributeRun run_;
    uint32_t end_;  // of the last added attribute's values
  };

  IdentityChunkBuilder();
  ~IdentityChunkBuilder();
  IdentityChunkBuilder(const IdentityChunkBuilder&) = delete;
  IdentityChunkBuilder& operator=(const IdentityChunkBuilder&) = delete;

  IdentityChunk& chunk() { return chunk_; }
  // The chunk's text is past IdentityChunk::kFullText: a reader finishes it after the
  // object it is writing, so that no chunk reaches kMaxText.
  bool Full() const { return chunk_.text.size() >= IdentityChunk::kFullText; }
  // The chunk's string, added when new.
  Str S(std::string_view s);
  IdentityChunk::Place Place(std::string_view file, std::string_view pointer, int line, int column, int64_t offset) {
    return {S(file), S(pointer), static_cast<int32_t>(line), static_cast<int32_t>(column), offset};
  }
  // A place whose pointer is its object's usual one (IdentityChunk::kObjectPointer).
  IdentityChunk::Place ObjectPlace(std::string_view file, int line, int column, int64_t offset) {
    return {File(file), IdentityChunk::kObjectPointer, static_cast<int32_t>(line), static_cast<int32_t>(column),
            offset};
  }
  // A place whose pointer is `prefix` followed by `index` (IdentityChunk::kIndexed).
  IdentityChunk::Place IndexedPlace(std::string_view file, std::string_view prefix, int64_t index) {
    if (prefix_ == kNoFile || chunk_.Get(prefix_) != prefix) prefix_ = S(prefix);
    if (prefix_ == IdentityChunk::kIndexed - 1)  // kObjectPointer once marked: not one
      throw std::length_error("more than 2^31 - 1 distinct strings in one chunk of identities");
    return {File(file), prefix_ | IdentityChunk::kIndexed, 0, 0, index};
  }
  // An account object's strings and lists written; its record, for an identity's
  // accounts or AddStandalone.
  IdentityChunk::Account Account(const AccountObject& a);
  // An identity object, with its accounts.
  void Add(const IdentityObject& io);
  void AddStandalone(const IdentityChunk::Account& a) { standalone_.push_back(a); }
  // Appends the chunk (its standalone accounts last) to `out` and starts the next one;
  // nothing when nothing was added.
  void Finish(std::vector<IdentityChunk>& out);

 private:
  struct Index;
  // S(file), kept: the objects of a chunk are mostly of one file.
  Str File(std::string_view file) {
    if (file_ == kNoFile || chunk_.Get(file_) != file) file_ = S(file);
    return file_;
  }
  static constexpr Str kNoFile = UINT32_MAX;
  IdentityChunk chunk_;
  std::unique_ptr<Index> index_;  // the chunk's strings by their text
  std::vector<IdentityChunk::Account> standalone_;
  Str file_ = kNoFile;    // of the chunk being written
  Str prefix_ = kNoFile;  // IndexedPlace's, of the chunk being written
};

// Everything the loaders read, before the build.
struct SnapshotObjects {
  std::vector<ApplicationObject> applications;
  std::vector<RoleObject> roles;
  std::vector<PolicyObject> policies;
  std::vector<IdentityObject> identities;
  std::vector<AccountObject> accounts;  // standalone Links / SCIM Accounts
  // Identities and standalone accounts packed (PackIdentities), before those above.
  std::vector<IdentityChunk> identity_chunks;
  std::vector<EntitlementObject> entitlements;
  std::vector<GroupDefinitionObject> populations;
  // ObjectConfig Identity, when the snapshot has it.
  bool has_identity_config = false;
  std::vector<IdentityAttributeObject> identity_attributes;
  // ObjectConfig Bundle's role types, when the snapshot has them (else IdentityIQ's defaults).
  std::vector<RoleTypeObject> role_types;
  std::vector<Diagnostic> diagnostics;
  // SCIM resources kept as documents for queries: (resource type, json text)
  ScimDocuments scim_documents;

  // Identities, packed or not.
  size_t identity_count() const;
};

// Moves `identities` and `accounts` into a new chunk at the end of `identity_chunks`
// (nothing when both are empty).
void PackIdentities(SnapshotObjects& objects);
// Gives back the objects of every chunk, before any in `identities` and `accounts`: for a
// caller that edits them (a change set) or prints them.
void UnpackIdentities(SnapshotObjects& objects);

}  // namespace preflight
