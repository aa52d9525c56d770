// The snapshot's storage: columns (engine/model/column.h).

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <type_traits>

#include "engine/model/column.h"
#include "engine/model/hash_slots.h"
#include "engine/model/huge_pages.h"
#include "engine/model/packed_texts.h"
#include "engine/model/record_check.h"
#include "engine/model/population.h"
#include "engine/model/string_pool.h"

using namespace preflight;

TEST_CASE("a column owns what the load built, and reads it once sealed", "[model]") {
  Column<uint32_t> c;
  CHECK(c.empty());
  CHECK(c.bytes() == 0);
  auto& v = c.Build();
  for (uint32_t i = 0; i < 1000; ++i) v.push_back(i * 3);
  c.Seal();
  REQUIRE(c.size() == 1000);
  CHECK_FALSE(c.viewing());
  CHECK(c[0] == 0);
  CHECK(c[999] == 2997);
  CHECK(c.bytes() == 4000);
  CHECK(std::accumulate(c.begin(), c.end(), uint64_t{0}) == uint64_t{3} * 999 * 1000 / 2);
  auto slice = c.span(Range{10, 3});
  REQUIRE(slice.size() == 3);
  CHECK(slice[0] == 30);
  CHECK(slice[2] == 36);
  CHECK(c.span().size() == 1000);

  Column<uint32_t> moved = std::move(c);
  CHECK(c.empty());
  REQUIRE(moved.size() == 1000);
  CHECK(moved[999] == 2997);
  Column<uint32_t> copied = moved;
  CHECK(copied.size() == 1000);
  CHECK(copied.data() != moved.data());
  CHECK(copied[500] == 1500);
}

TEST_CASE("a column views memory it does not own, without copying", "[model]") {
  struct Rec {
    uint32_t a;
    uint16_t b;
  };
  const Rec external[] = {{1, 2}, {3, 4}, {5, 6}};
  Column<Rec> c;
  c.View(external, 3);
  CHECK(c.viewing());
  REQUIRE(c.size() == 3);
  CHECK(c.data() == external);
  CHECK(c[1].a == 3);
  CHECK(c[2].b == 6);
  CHECK(c.bytes() == 3 * sizeof(Rec));
  Column<Rec> copy = c;  // a copy of a view is the same view
  CHECK(copy.data() == external);
  // Building into a viewing column drops the view.
  c.Build().push_back({7, 8});
  c.Seal();
  CHECK_FALSE(c.viewing());
  REQUIRE(c.size() == 1);
  CHECK(c[0].a == 7);
  CHECK(copy.size() == 3);
}

TEST_CASE("the stable hash is the same in every process (an image's tables depend on it)", "[model]") {
  CHECK(StableHash("") == StableHash(std::string()));
  CHECK(StableHash("alice") == StableHash(std::string("alice")));
  CHECK(StableHash("alice") != StableHash("alicf"));
  // Pinned: a change of these values changes the image format.
  CHECK(StableHash("") == 0xdf7000c4a51dd25dull);
  CHECK(StableHash("Amanda.Ross") == 0x7185463092c3e365ull);
}

namespace {
// Points every column of `to` at the same-named column of `from`, as opening an image does.
template <class T>
void ViewColumns(T& to, const T& from) {
  to.ForEachColumn([&](std::string_view name, auto& column) {
    using C = std::remove_reference_t<decltype(column)>;
    from.ForEachColumn([&](std::string_view other, const auto& source) {
      if constexpr (std::is_same_v<C, std::remove_cvref_t<decltype(source)>>)
        if (other == name) column.View(source.data(), source.size());
    });
  });
}
}  // namespace

TEST_CASE("the string pool interns to dense ids and finds them, before and after freezing, and viewed", "[model]") {
  StringPool pool;
  CHECK(pool.size() == 0);
  CHECK(pool.Find("x") == kNoId);
  CHECK(pool.Intern("alpha") == 0);
  CHECK(pool.Intern("") == 1);
  CHECK(pool.Intern("alpha") == 0);
  // Enough strings to grow the slot table several times.
  for (int i = 0; i < 5000; ++i) CHECK(pool.Intern("value-" + std::to_string(i)) == static_cast<Id>(i + 2));
  REQUIRE(pool.size() == 5002);
  CHECK(pool.Get(0) == "alpha");
  CHECK(pool.Get(1).empty());
  CHECK(pool.Get(4001) == "value-3999");
  CHECK(pool.Find("value-4999") == 5001);
  CHECK(pool.Find("value-5000") == kNoId);
  CHECK(pool.Find("") == 1);
  pool.Freeze();
  CHECK(pool.Find("value-17") == 19);
  CHECK(pool.Get(19) == "value-17");
  CHECK(pool.Find("value-") == kNoId);
  size_t text = 5 + 0;
  for (int i = 0; i < 5000; ++i) text += 6 + std::to_string(i).size();
  CHECK(pool.bytes() == text + 4 * 5003 + 4 * 8192);

  StringPool viewed;
  ViewColumns(viewed, pool);
  REQUIRE(viewed.size() == 5002);
  CHECK(viewed.Get(4001) == "value-3999");
  CHECK(viewed.Get(4001).data() == pool.Get(4001).data());  // no copy
  CHECK(viewed.Find("value-4999") == 5001);
  CHECK(viewed.Find("alpha") == 0);
  CHECK(viewed.Find("nothing") == kNoId);
}

TEST_CASE("a string pool refuses text past its limit: full, and a stand-in id that is valid", "[model]") {
  CHECK(StringPool::kMaxTextBytes == UINT32_MAX);  // 32-bit offsets
  StringPool pool(10);
  CHECK(pool.Intern("abcdef") == 0);
  CHECK(pool.Intern("ghij") == 1);  // exactly 10 bytes
  CHECK_FALSE(pool.full());
  CHECK(pool.Intern("") == 2);      // takes no text
  CHECK(pool.Intern("k") == 0);     // would pass the limit
  CHECK(pool.full());
  CHECK(pool.Find("k") == kNoId);
  CHECK(pool.Intern("ghij") == 1);  // what is held is still found
  pool.Freeze();
  CHECK(pool.size() == 3);
  CHECK(pool.Get(1) == "ghij");
  // A first string that does not fit: "" stands in as string 0.
  StringPool tiny(3);
  CHECK(tiny.Intern("abcd") == 0);
  CHECK(tiny.full());
  CHECK(tiny.Get(0).empty());
  CHECK(tiny.Find("abcd") == kNoId);
}

TEST_CASE("a slot table finds every position by its key and nothing else", "[model]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("k" + std::to_string(i * 7));
  std::vector<uint32_t> slots = hash_slots::Build(keys.size(), [&](uint32_t i) { return SlotHash(keys[i]); });
  CHECK(slots.size() == 2048);
  CHECK(std::count(slots.begin(), slots.end(), 0u) == 1048);
  // A slot holds position + 1 in the low 10 bits (1,000 positions), the key's hash above.
  const uint32_t bits = hash_slots::PositionBits(keys.size());
  CHECK(bits == 0x3FF);
  for (uint32_t s : slots)
    if (s != 0) CHECK((s & ~bits) == (SlotHash(keys[(s & bits) - 1]) & ~bits));
  size_t compared = 0, wrong = 0;  // the keys `is` read, and those of another position
  auto find = [&](std::string_view key) {
    return hash_slots::Find(slots, keys.size(), SlotHash(key), [&](uint32_t i) {
      ++compared;
      wrong += keys[i] != key;
      return keys[i] == key;
    });
  };
  for (uint32_t i = 0; i < keys.size(); ++i) CHECK(find(keys[i]) == i);
  CHECK(find("k1") == hash_slots::kNotFound);
  CHECK(find("k2") == hash_slots::kNotFound);
  // The tags: no key of another position is read, though probes pass over other slots.
  CHECK(compared == keys.size());
  CHECK(wrong == 0);
  CHECK(hash_slots::Find({}, 0, 1, [](uint32_t) { return true; }) == hash_slots::kNotFound);
}

TEST_CASE("a slot is valid when empty or holding a position below the table's count", "[model]") {
  const uint32_t bits = hash_slots::PositionBits(5);  // 3 bits: positions + 1 up to 7
  CHECK(bits == 7);
  CHECK(hash_slots::PositionBits(4) == 7);
  CHECK(hash_slots::PositionBits(3) == 3);
  CHECK(hash_slots::Valid(0, bits, 5));
  CHECK(hash_slots::Valid(1, bits, 5));
  CHECK(hash_slots::Valid(0xFFFFFFF8u | 5, bits, 5));  // any tag over position 4
  CHECK_FALSE(hash_slots::Valid(6, bits, 5));             // position 5 of 5
  CHECK_FALSE(hash_slots::Valid(0xFFFFFFF8u, bits, 5));   // a tag with no position
  CHECK(hash_slots::PositionBits(UINT32_MAX - 1) == UINT32_MAX);
}

TEST_CASE("population views: attributes end where the next record's values begin; stored and owned lists compare alike", "[model]") {
  PopulationStore p;
  // Two attributes of one account, one of another, then the end marker.
  p.values.Build() = {10, 11, 12, 20, 30, 31};
  p.values.Seal();
  p.attributes.Build() = {{1, 0 | AttrRecord::kMulti}, {2, 3}, {1, 4 | AttrRecord::kMulti}, {kNoId, 6}};
  p.attributes.Seal();
  p.rights.Build() = {7, 8, 9};
  p.rights.Seal();
  p.permissions.Build() = {{5, Range{0, 2}}, {6, Range{2, 1}}};
  p.permissions.Seal();
  p.accounts.Build() = {{.attributes = {0, 2}, .permissions = {0, 2}}, {.attributes = {2, 1}}};
  p.accounts.Seal();

  AccountRange accounts(&p, p.accounts.size());
  REQUIRE(accounts.size() == 2);
  AccountView a = accounts[0];
  REQUIRE(a.attributes.size() == 2);
  CHECK(a.attributes[0].name == 1);
  CHECK(a.attributes[0].multi);
  CHECK(std::vector<Id>(a.attributes[0].values.begin(), a.attributes[0].values.end()) == std::vector<Id>{10, 11, 12});
  CHECK(a.attributes[1].name == 2);
  CHECK_FALSE(a.attributes[1].multi);
  CHECK(std::vector<Id>(a.attributes[1].values.begin(), a.attributes[1].values.end()) == std::vector<Id>{20});
  CHECK(a.attributes.Find(2)->values.size() == 1);
  CHECK_FALSE(a.attributes.Find(3).has_value());
  CHECK_FALSE(a.attributes.Find(0).has_value());
  REQUIRE(a.permissions.size() == 2);
  CHECK(a.permissions[1].target == 6);
  CHECK(a.permissions[1].rights.size() == 1);
  CHECK(a.permissions[1].rights[0] == 9);
  AccountView b = accounts[1];
  REQUIRE(b.attributes.size() == 1);
  CHECK(std::vector<Id>(b.attributes[0].values.begin(), b.attributes[0].values.end()) == std::vector<Id>{30, 31});
  CHECK(b.permissions.empty());

  // A check's own copy compares equal to the stored list, and is not the same list.
  std::vector<AttrValues> owned = a.attributes.ToVector();
  CHECK(owned == std::vector<AttrValues>{{1, true, {10, 11, 12}}, {2, false, {20}}});
  AttrList copy(owned);
  CHECK(copy == a.attributes);
  CHECK_FALSE(copy.SameAs(a.attributes));
  CHECK(accounts[0].attributes.SameAs(a.attributes));
  owned[1].values.push_back(21);
  CHECK_FALSE(AttrList(owned) == a.attributes);
  CHECK(PermissionList(a.permissions.ToVector()) == a.permissions);

  // Iterators: random access, by value.
  auto it = std::lower_bound(a.attributes.begin(), a.attributes.end(), Id{2},
                             [](const AttrView& v, Id name) { return v.name < name; });
  CHECK(it - a.attributes.begin() == 1);
  CHECK(it->name == 2);
  size_t names = 0;
  for (AttrView v : a.attributes) names += v.name;
  CHECK(names == 3);
}

TEST_CASE("resource texts are read back in order from one column per type", "[model]") {
  SECTION("stored as they are (an image of version 2)") {
    Column<char> text;
    Column<uint64_t> starts;
    const std::string joined = R"({"id":"a"}{"id":"bb"})";
    text.Build().assign(joined.begin(), joined.end());
    text.Seal();
    starts.Build() = {0, 10, 21};
    starts.Seal();
    TextList list(text, starts);
    REQUIRE(list.size() == 2);
    TextList::Reader read(list);
    CHECK(read[0] == R"({"id":"a"})");
    CHECK(read[1] == R"({"id":"bb"})");
    CHECK(read[2].empty());
    CHECK(TextList(Column<char>(), Column<uint64_t>()).empty());
  }
  SECTION("compressed in frames of whole texts, read in any order") {
    PackedTexts packed;
    std::vector<std::string> texts;
    for (int i = 0; i < 5000; ++i) {  // about 5 frames
      texts.push_back(std::string(R"({"id":")") + std::to_string(i) + R"(","pad":")" + std::string(i % 200, 'x') +
                      "\"}");
      packed.Add(texts.back());
      if (i == 3) packed.Add("");  // an empty text too
      if (i == 3) texts.push_back("");
    }
    PackedTexts more;
    more.Add(R"({"id":"last"})");
    texts.push_back(R"({"id":"last"})");
    packed.Append(std::move(more));
    CHECK(more.empty());
    std::vector<std::string> seen;
    packed.ForEach([&](std::string_view t) { seen.emplace_back(t); });
    CHECK(seen == texts);
    PackedTexts::Columns c = packed.Take();
    CHECK(packed.empty());
    REQUIRE(c.frame_starts.size() > 3);
    CHECK(c.frame_starts.size() == c.frame_offsets.size());
    CHECK(c.packed.size() * 5 < c.starts.back());  // compressed
    Column<char> text;
    Column<uint64_t> starts, frames, offsets;
    text.Build() = c.packed;
    starts.Build() = c.starts;
    frames.Build() = c.frame_starts;
    offsets.Build() = c.frame_offsets;
    for (auto* column : {&starts, &frames, &offsets}) column->Seal();
    text.Seal();
    TextList list(text, starts, frames, offsets);
    REQUIRE(list.size() == texts.size());
    TextList::Reader read(list);
    for (size_t i = 0; i < texts.size(); ++i) CHECK(read[i] == texts[i]);
    for (size_t i = texts.size(); i-- > 0;) CHECK(read[i] == texts[i]);
    CHECK(read[texts.size()].empty());

    // A corrupt frame (an image's) fails the read that meets it (CorruptRecord, naming the
    // column and the frame), never reads past the columns, and is never a text left out.
    std::vector<char> bad = c.packed;
    bad[c.frame_offsets[1] + 6] ^= 0x55;
    Column<char> corrupt;
    corrupt.Build() = bad;
    corrupt.Seal();
    TextList::Reader corrupted(TextList(corrupt, starts, frames, offsets));
    size_t failed = 0, first_failed = texts.size();
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string_view read_back;
      try {
        read_back = corrupted[i];
      } catch (const CorruptRecord& e) {
        if (failed++ == 0) {
          first_failed = i;
          CHECK(e.status().message() ==
                "image: column 'resources.frameOffsets' row 1: a frame that does not decompress to its texts");
        }
        continue;
      }
      CHECK(read_back == texts[i]);
    }
    // Exactly the texts of frame 1 fail: the first is the first text of that frame.
    CHECK(failed > 0);
    CHECK(c.starts[first_failed] == c.frame_starts[1]);
    // A text whose offsets leave its frame.
    std::vector<uint64_t> wrong = c.starts;
    wrong[1] = c.frame_starts.back() + 1;
    Column<uint64_t> wrong_starts;
    wrong_starts.Build() = wrong;
    wrong_starts.Seal();
    TextList::Reader outside(TextList(text, wrong_starts, frames, offsets));
    CHECK_THROWS_AS(outside[0], CorruptRecord);
  }
}

TEST_CASE("huge pages: advice leaves the memory as it was, and stops once its owner is gone", "[model]") {
  // Three huge pages' worth of a pattern, at whatever alignment the allocator gave.
  auto owner = std::make_shared<std::vector<uint64_t>>(3 * kHugePageBytes / sizeof(uint64_t));
  std::iota(owner->begin(), owner->end(), uint64_t{7});
  const auto at = reinterpret_cast<uintptr_t>(owner->data());
  const HugePageRange range{at & ~(kHugePageBytes - 1),
                            (at + owner->size() * sizeof(uint64_t) + kHugePageBytes - 1) & ~(kHugePageBytes - 1)};
  std::weak_ptr<const void> weak = owner;
  CHECK(UseHugePages({range}, weak) == range.end - range.begin);
  for (size_t i = 0; i < owner->size(); ++i)
    if ((*owner)[i] != i + 7) FAIL("value " << i << " changed");
  owner.reset();
  CHECK(UseHugePages({range}, weak) == 0);
}
