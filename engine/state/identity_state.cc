#include "engine/state/identity_state.h"

#include <algorithm>
#include <bit>

#include "engine/model/hash_slots.h"

namespace preflight {

Id ValueIds::Get(std::string_view s) {
  const Expected* e = FindExpected(s);
  Id id = e ? e->id : pool_->Find(s);
  if (id != kNoId) return id;
  auto it = ids_.find(s);
  if (it != ids_.end()) return *it;
  id = static_cast<Id>(pool_->size() + ends_.size());
  text_.append(s);
  ends_.push_back(text_.size());
  ids_.insert(id);
  return id;
}

void ValueIds::Expect(std::string_view s) {
  if (expected_.size() == kMaxExpected) return;
  if (expected_.capacity() == 0) expected_.reserve(kMaxExpected);
  uint32_t hash = SlotHash(s);
  pool_->PrefetchFind(hash, 0);
  expected_.push_back({s.data(), s.size(), hash, kNoId});
}

void ValueIds::PrefetchExpected(int step) {
  for (const Expected& e : expected_) pool_->PrefetchFind(e.hash, step);
  steps_taken_ = step;
}

void ValueIds::Resolve() {
  for (int step = steps_taken_ + 1; step <= 2; ++step) PrefetchExpected(step);
  for (Expected& e : expected_) e.id = pool_->Find({e.data, e.size}, e.hash);
}

namespace {
// Room an overlay takes at once (entries, values per entry).
constexpr size_t kOverlayEntries = 8, kOverlayValues = 64;
}  // namespace

// Entries move within an overlay as names are inserted before them, and overlays pass
// from account to account: every entry of an overlay has the same room (at least
// twice the values any entry was seeded with), so that which entry serves which
// attribute does not decide whether a later check allocates.
void Overlay::Fill(AttrValues& e, Id name, bool multi, std::span<const Id> values) {
  size_t need = std::max(kOverlayValues, std::bit_ceil(2 * values.size()));
  if (need > room_) {
    room_ = need;
    for (AttrValues& x : entries_) x.values.reserve(room_);
  }
  e.name = name;
  e.multi = multi;
  e.values.assign(values.begin(), values.end());
}

AttrValues& Overlay::Spare() {
  if (entries_.empty()) entries_.reserve(kOverlayEntries);
  if (size_ == entries_.size()) entries_.emplace_back().values.reserve(room_);
  return entries_[size_];
}

Overlay& Overlay::operator=(const Overlay& o) {
  if (this == &o) return *this;
  size_ = 0;
  for (size_t i = 0; i < o.size_; ++i, ++size_) Fill(Spare(), o.entries_[i].name, o.entries_[i].multi, o.entries_[i].values);
  return *this;
}

AttrValues* Overlay::Insert(size_t at, Id name, bool multi, std::span<const Id> values) {
  Fill(Spare(), name, multi, values);  // moved into place below
  ++size_;
  std::rotate(entries_.begin() + static_cast<long>(at), entries_.begin() + static_cast<long>(size_ - 1),
              entries_.begin() + static_cast<long>(size_));
  return &entries_[at];
}

std::vector<Permission>& AccountState::mutable_permissions() {
  if (!own_permissions_) {
    permissions_ = base_permissions_.ToVector();
    own_permissions_ = true;
  }
  return permissions_;
}

namespace {
template <typename Vec>
auto LowerBound(Vec& attrs, Id attr) {
  return std::lower_bound(attrs.begin(), attrs.end(), attr, [](const AttrValues& a, Id id) { return a.name < id; });
}
}  // namespace

std::optional<AttrView> AccountState::Find(Id attr) const {
  auto o = LowerBound(overlay_, attr);
  if (o != overlay_.end() && o->name == attr) return o->values.empty() ? std::nullopt : std::optional<AttrView>(*o);
  return base_attributes_.Find(attr);
}

AttrValues* AccountState::FindOrAdd(Id attr) {
  auto o = LowerBound(overlay_, attr);
  if (o != overlay_.end() && o->name == attr) return &*o;
  std::optional<AttrView> base = base_attributes_.Find(attr);
  return overlay_.Insert(static_cast<size_t>(o - overlay_.begin()), attr, base && base->multi,
                         base ? base->values : std::span<const Id>());
}

void AccountState::Erase(Id attr) {
  if (!Find(attr)) return;
  AttrValues* v = FindOrAdd(attr);
  v->values.clear();
  v->multi = false;
}

}  // namespace preflight
