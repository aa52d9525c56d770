// Identities and accounts packed into chunks, and back.
#include "engine/model/objects.h"

#include <sys/mman.h>

#include <new>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "engine/model/hash_slots.h"

namespace preflight {
namespace {

// Arrays from this size on are mapped: a few pages, and the chunks' arrays are larger.
constexpr size_t kMappedBytes = 64 << 10;

}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes < kMappedBytes) return ::operator new(bytes);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void FreeLarge(void* p, size_t bytes) {
  if (bytes < kMappedBytes) ::operator delete(p);
  else munmap(p, bytes);
}

namespace {

using Run = IdentityChunk::Run;
using Str = IdentityChunk::Str;

class Packer {
 public:
  explicit Packer(IdentityChunk& c) : c_(c), index_(0, Hash{&c}, Eq{&c}) {}

  void Add(const IdentityObject& io) {
    IdentityChunk::Identity i;
    i.name = S(io.name);
    i.id = S(io.id);
    i.display_name = S(io.display_name);
    i.attributes = Attributes(io.attributes);
    i.assigned_roles = List(io.assigned_roles);
    i.detected_roles = List(io.detected_roles);
    i.account_ids = List(io.account_ids);
    i.accounts.begin = static_cast<uint32_t>(c_.accounts.size());
    for (const AccountObject& a : io.accounts) Add(a);
    i.accounts.size = static_cast<uint32_t>(c_.accounts.size()) - i.accounts.begin;
    i.from_scim = io.from_scim;
    i.inactive = io.inactive;
    i.where = Place(io.where);
    c_.identities.push_back(i);
  }

  void Add(const AccountObject& a) {
    IdentityChunk::Account k;
    k.id = S(a.id);
    k.identity = S(a.identity);
    k.application = S(a.application);
    k.instance = S(a.instance);
    k.native_identity = S(a.native_identity);
    k.display_name = S(a.display_name);
    k.attributes = Attributes(a.attributes);
    k.permissions.begin = static_cast<uint32_t>(c_.permissions.size());
    for (const PermissionObject& p : a.permissions) c_.permissions.push_back({S(p.target), List(p.rights)});
    k.permissions.size = static_cast<uint32_t>(c_.permissions.size()) - k.permissions.begin;
    k.from_scim = a.from_scim;
    k.disabled = a.disabled;
    k.locked = a.locked;
    k.where = Place(a.where);
    c_.accounts.push_back(k);
  }

 private:
  // The chunk's string, added when new.
  Str S(std::string_view s) {
    if (auto it = index_.find(s); it != index_.end()) return *it;
    Str id = static_cast<Str>(c_.ends.size());
    c_.text.insert(c_.text.end(), s.begin(), s.end());
    c_.ends.push_back(c_.text.size());
    c_.hashes.push_back(SlotHash(s));  // for the string pool, once per chunk string
    index_.insert(id);
    return id;
  }
  template <class Strings>
  Run List(const Strings& strings) {
    Run r{static_cast<uint32_t>(c_.lists.size()), 0};
    for (std::string_view s : strings) c_.lists.push_back(S(s));
    r.size = static_cast<uint32_t>(c_.lists.size()) - r.begin;
    return r;
  }
  Run Attributes(const std::vector<AttributeObject>& attrs) {
    Run r{static_cast<uint32_t>(c_.attributes.size()), static_cast<uint32_t>(attrs.size())};
    for (const AttributeObject& a : attrs) c_.attributes.push_back({S(a.name), a.multi, List(a.values)});
    return r;
  }
  IdentityChunk::Place Place(const Location& l) {
    return {S(l.file), S(l.pointer), static_cast<int32_t>(l.line), static_cast<int32_t>(l.column), l.offset};
  }

  // The chunk's strings by their text, while packing.
  struct Hash {
    using is_transparent = void;
    const IdentityChunk* c;
    size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}(ToAbsl(s)); }
    size_t operator()(Str s) const { return (*this)(c->Get(s)); }
  };
  struct Eq {
    using is_transparent = void;
    const IdentityChunk* c;
    std::string_view Text(std::string_view s) const { return s; }
    std::string_view Text(Str s) const { return c->Get(s); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return Text(a) == Text(b); }
  };

  IdentityChunk& c_;
  absl::flat_hash_set<Str, Hash, Eq> index_;
};

class Unpacker {
 public:
  explicit Unpacker(const IdentityChunk& c) : c_(c) {}

  IdentityObject Identity(const IdentityChunk::Identity& i) const {
    IdentityObject io;
    io.from_scim = i.from_scim;
    io.name = S(i.name);
    io.id = S(i.id);
    io.display_name = S(i.display_name);
    io.attributes = Attributes(i.attributes);
    io.assigned_roles = Strings(i.assigned_roles);
    io.detected_roles = Strings(i.detected_roles);
    for (const IdentityChunk::Account& a : c_.Accounts(i.accounts)) io.accounts.push_back(Account(a));
    io.account_ids = Strings(i.account_ids);
    io.inactive = i.inactive;
    io.where = c_.Where(i.where);
    return io;
  }

  AccountObject Account(const IdentityChunk::Account& k) const {
    AccountObject a;
    a.from_scim = k.from_scim;
    a.id = S(k.id);
    a.identity = S(k.identity);
    a.application = S(k.application);
    a.instance = S(k.instance);
    a.native_identity = S(k.native_identity);
    a.display_name = S(k.display_name);
    a.attributes = Attributes(k.attributes);
    for (const IdentityChunk::Permission& p : c_.Permissions(k.permissions))
      a.permissions.push_back({S(p.target), Strings(p.rights)});
    a.disabled = k.disabled;
    a.locked = k.locked;
    a.where = c_.Where(k.where);
    return a;
  }

 private:
  std::string S(Str s) const { return std::string(c_.Get(s)); }
  std::vector<std::string> Strings(Run r) const {
    std::vector<std::string> out;
    for (Str s : c_.List(r)) out.push_back(S(s));
    return out;
  }
  std::vector<AttributeObject> Attributes(Run r) const {
    std::vector<AttributeObject> out;
    for (const IdentityChunk::Attribute& a : c_.Attributes(r)) {
      AttributeObject& o = out.emplace_back();
      o.name = S(a.name);
      o.multi = a.multi;
      for (Str v : c_.List(a.values)) o.values.push_back(c_.Get(v));
    }
    return out;
  }

  const IdentityChunk& c_;
};

}  // namespace

Location IdentityChunk::Where(const Place& p) const {
  Location l;
  l.file = std::string(Get(p.file));
  l.line = p.line;
  l.column = p.column;
  l.offset = p.offset;
  l.pointer = std::string(Get(p.pointer));
  return l;
}

size_t SnapshotObjects::identity_count() const {
  size_t n = identities.size();
  for (const IdentityChunk& c : identity_chunks) n += c.identities.size();
  return n;
}

void PackIdentities(SnapshotObjects& objects) {
  if (objects.identities.empty() && objects.accounts.empty()) return;
  IdentityChunk& chunk = objects.identity_chunks.emplace_back();
  Packer packer(chunk);
  // Each object is released once packed: the chunk grows into the memory they leave.
  for (IdentityObject& io : objects.identities) {
    packer.Add(io);
    io = IdentityObject();
  }
  chunk.standalone.begin = static_cast<uint32_t>(chunk.accounts.size());
  for (AccountObject& a : objects.accounts) {
    packer.Add(a);
    a = AccountObject();
  }
  chunk.standalone.size = static_cast<uint32_t>(chunk.accounts.size()) - chunk.standalone.begin;
  std::vector<IdentityObject>().swap(objects.identities);
  std::vector<AccountObject>().swap(objects.accounts);
  chunk.text.shrink_to_fit();
  chunk.ends.shrink_to_fit();
  chunk.hashes.shrink_to_fit();
  chunk.identities.shrink_to_fit();
  chunk.accounts.shrink_to_fit();
  chunk.attributes.shrink_to_fit();
  chunk.permissions.shrink_to_fit();
  chunk.lists.shrink_to_fit();
}

void UnpackIdentities(SnapshotObjects& objects) {
  std::vector<IdentityObject> identities;
  std::vector<AccountObject> accounts;
  for (const IdentityChunk& chunk : objects.identity_chunks) {
    Unpacker unpacker(chunk);
    for (const IdentityChunk::Identity& i : chunk.identities) identities.push_back(unpacker.Identity(i));
    for (const IdentityChunk::Account& a : chunk.Accounts(chunk.standalone)) accounts.push_back(unpacker.Account(a));
  }
  objects.identity_chunks.clear();
  for (IdentityObject& io : objects.identities) identities.push_back(std::move(io));
  for (AccountObject& a : objects.accounts) accounts.push_back(std::move(a));
  objects.identities = std::move(identities);
  objects.accounts = std::move(accounts);
}

}  // namespace preflight
