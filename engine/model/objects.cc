// Identities and accounts packed into chunks, and back.
#include "engine/model/objects.h"

#include <sys/mman.h>

#include <new>
#include <stdexcept>

#include "absl/container/flat_hash_set.h"
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

// The builder's strings by their text. A string's SlotHash, which the chunk keeps for the
// string pool anyway, is the table's hash too: a string read is hashed once.
struct Text {  // a string looked up, with its SlotHash
  std::string_view s;
  uint32_t hash;
};
struct Hash {
  using is_transparent = void;
  const IdentityChunk* c;
  static size_t Spread(uint32_t h) { return h * 0x9E3779B97F4A7C15ull; }  // into the bits the table uses
  size_t operator()(const Text& t) const { return Spread(t.hash); }
  size_t operator()(Str s) const { return Spread(c->hashes[s]); }
};
struct Eq {
  using is_transparent = void;
  const IdentityChunk* c;
  bool operator()(Str a, Str b) const { return a == b; }  // each string is once in the table
  bool operator()(Str a, const Text& b) const { return c->hashes[a] == b.hash && c->Get(a) == b.s; }
  bool operator()(const Text& a, Str b) const { return (*this)(b, a); }
};

}  // namespace

struct IdentityChunkBuilder::Index {
  explicit Index(const IdentityChunk& c) : set(0, Hash{&c}, Eq{&c}) {}
  absl::flat_hash_set<Str, Hash, Eq> set;
};

IdentityChunkBuilder::IdentityChunkBuilder() : index_(std::make_unique<Index>(chunk_)) {}
IdentityChunkBuilder::~IdentityChunkBuilder() = default;

IdentityChunkBuilder::Str IdentityChunkBuilder::S(std::string_view s) {
  const uint32_t hash = SlotHash(s);  // for the string pool too, once per chunk string
  return *index_->set.lazy_emplace(Text{s, hash}, [&](const auto& put) {
    if (chunk_.ends.size() >= IdentityChunk::kMaxStrings)
      throw std::length_error("more than 2^31 distinct strings in one chunk of identities");
    if (chunk_.text.size() + s.size() > IdentityChunk::kMaxText)
      throw std::length_error("more than 4 GiB of distinct strings in one chunk of identities");
    Str id = static_cast<Str>(chunk_.ends.size());
    chunk_.text.insert(chunk_.text.end(), s.begin(), s.end());
    chunk_.ends.push_back(static_cast<uint32_t>(chunk_.text.size()));
    chunk_.hashes.push_back(hash);
    put(id);
  });
}

namespace {

template <class Strings>
Run ListOf(IdentityChunkBuilder& b, const Strings& strings) {
  IdentityChunkBuilder::ListWriter list(b);
  for (std::string_view s : strings) list.emplace_back(s);
  return list.run();
}

IdentityChunk::AttributeRun AttributesOf(IdentityChunkBuilder& b, const std::vector<AttributeObject>& attrs) {
  IdentityChunkBuilder::AttributeWriter writer(b);
  for (const AttributeObject& a : attrs) {
    Str name = b.S(a.name);
    IdentityChunkBuilder::AttributeWriter& values = writer.Values();
    for (std::string_view v : a.values) values.emplace_back(v);
    writer.Add(name, a.multi);
  }
  return writer.run();
}

IdentityChunk::Place PlaceOf(IdentityChunkBuilder& b, const Location& l) {
  return b.Place(l.file, l.pointer, l.line, l.column, l.offset);
}

}  // namespace

void IdentityChunkBuilder::Add(const IdentityObject& io) {
  IdentityChunk::Identity i;
  i.name = S(io.name);
  i.id = S(io.id);
  i.display_name = S(io.display_name);
  i.attributes = AttributesOf(*this, io.attributes);
  i.assigned_roles = ListOf(*this, io.assigned_roles);
  i.detected_roles = ListOf(*this, io.detected_roles);
  i.account_ids = ListOf(*this, io.account_ids);
  std::vector<IdentityChunk::Account> accounts;
  for (const AccountObject& a : io.accounts) accounts.push_back(Account(a));
  i.accounts = {static_cast<uint32_t>(chunk_.accounts.size()), static_cast<uint32_t>(accounts.size())};
  chunk_.accounts.insert(chunk_.accounts.end(), accounts.begin(), accounts.end());
  i.from_scim = io.from_scim;
  i.inactive = io.inactive;
  i.where = PlaceOf(*this, io.where);
  chunk_.identities.push_back(i);
}

IdentityChunk::Account IdentityChunkBuilder::Account(const AccountObject& a) {
  IdentityChunk::Account k;
  k.id = S(a.id);
  k.identity = S(a.identity);
  k.application = S(a.application);
  k.instance = S(a.instance);
  k.native_identity = S(a.native_identity);
  k.display_name = S(a.display_name);
  k.attributes = AttributesOf(*this, a.attributes);
  std::vector<IdentityChunk::Permission> permissions;
  for (const PermissionObject& p : a.permissions) permissions.push_back({S(p.target), ListOf(*this, p.rights)});
  k.permissions = {static_cast<uint32_t>(chunk_.permissions.size()), static_cast<uint32_t>(permissions.size())};
  chunk_.permissions.insert(chunk_.permissions.end(), permissions.begin(), permissions.end());
  k.from_scim = a.from_scim;
  k.disabled = a.disabled;
  k.locked = a.locked;
  k.where = PlaceOf(*this, a.where);
  return k;
}

void IdentityChunkBuilder::Finish(std::vector<IdentityChunk>& out) {
  if (chunk_.identities.empty() && chunk_.accounts.empty() && standalone_.empty()) return;
  chunk_.standalone = {static_cast<uint32_t>(chunk_.accounts.size()), static_cast<uint32_t>(standalone_.size())};
  chunk_.accounts.insert(chunk_.accounts.end(), standalone_.begin(), standalone_.end());
  std::vector<IdentityChunk::Account>().swap(standalone_);
  // The next chunk's arrays reserved a little larger than this one's (its neighbour in
  // the export, most likely alike), so they do not grow by copying. Reserved is only
  // mapped: pages never written are never resident, so neither chunk is shrunk.
  IdentityChunk next;
  auto reserve = [](auto& to, const auto& like) { to.reserve(like.size() + like.size() / 8); };
  reserve(next.text, chunk_.text);
  reserve(next.ends, chunk_.ends);
  reserve(next.hashes, chunk_.hashes);
  reserve(next.identities, chunk_.identities);
  reserve(next.accounts, chunk_.accounts);
  reserve(next.attributes, chunk_.attributes);
  reserve(next.permissions, chunk_.permissions);
  reserve(next.lists, chunk_.lists);
  out.push_back(std::move(chunk_));
  chunk_ = std::move(next);
  index_->set.clear();
  file_ = prefix_ = kNoFile;
}

namespace {

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
    io.where = c_.Where(i);
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
    a.where = c_.Where(k);
    return a;
  }

 private:
  std::string S(Str s) const { return std::string(c_.Get(s)); }
  std::vector<std::string> Strings(Run r) const {
    std::vector<std::string> out;
    for (Str s : c_.List(r)) out.push_back(S(s));
    return out;
  }
  std::vector<AttributeObject> Attributes(IdentityChunk::AttributeRun r) const {
    std::vector<AttributeObject> out;
    c_.ForEachAttribute(r, [&](const IdentityChunk::Attribute& a, std::span<const Str> values) {
      AttributeObject& o = out.emplace_back();
      o.name = S(a.name());
      o.multi = a.multi();
      for (Str v : values) o.values.push_back(c_.Get(v));
    });
    return out;
  }

  const IdentityChunk& c_;
};

}  // namespace

Location IdentityChunk::Where(const Place& p, std::string_view prefix, Str subject) const {
  Location l;
  l.file = std::string(Get(p.file));
  l.line = p.line;
  l.column = p.column;
  l.offset = p.offset;
  if (p.pointer == kObjectPointer) {
    l.pointer.append(prefix).append(Get(subject)).append("]");
  } else if (p.pointer & kIndexed) {
    l.pointer.append(Get(p.pointer & ~kIndexed)).append(std::to_string(p.offset));
    l.offset = -1;
  } else {
    l.pointer = std::string(Get(p.pointer));
  }
  return l;
}

size_t SnapshotObjects::identity_count() const {
  size_t n = identities.size();
  for (const IdentityChunk& c : identity_chunks) n += c.identities.size();
  return n;
}

void PackIdentities(SnapshotObjects& objects) {
  if (objects.identities.empty() && objects.accounts.empty()) return;
  IdentityChunkBuilder builder;
  // Each object is released once packed: the chunk grows into the memory they leave.
  for (IdentityObject& io : objects.identities) {
    builder.Add(io);
    io = IdentityObject();
  }
  for (AccountObject& a : objects.accounts) {
    builder.AddStandalone(builder.Account(a));
    a = AccountObject();
  }
  std::vector<IdentityObject>().swap(objects.identities);
  std::vector<AccountObject>().swap(objects.accounts);
  builder.Finish(objects.identity_chunks);
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
