// The snapshot's storage: columns (engine/model/column.h).

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <type_traits>

#include "engine/model/column.h"
#include "engine/model/hash_slots.h"
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
  CHECK(pool.bytes() == text + 8 * 5003 + 4 * 8192);

  StringPool viewed;
  ViewColumns(viewed, pool);
  REQUIRE(viewed.size() == 5002);
  CHECK(viewed.Get(4001) == "value-3999");
  CHECK(viewed.Get(4001).data() == pool.Get(4001).data());  // no copy
  CHECK(viewed.Find("value-4999") == 5001);
  CHECK(viewed.Find("alpha") == 0);
  CHECK(viewed.Find("nothing") == kNoId);
}

TEST_CASE("a slot table finds every position by its key and nothing else", "[model]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("k" + std::to_string(i * 7));
  std::vector<uint32_t> slots = hash_slots::Build(keys.size(), [&](uint32_t i) { return StableHash(keys[i]); });
  CHECK(slots.size() == 2048);
  CHECK(std::count(slots.begin(), slots.end(), 0u) == 1048);
  auto find = [&](std::string_view key) {
    return hash_slots::Find(slots, StableHash(key), [&](uint32_t i) { return keys[i] == key; });
  };
  for (uint32_t i = 0; i < keys.size(); ++i) CHECK(find(keys[i]) == i);
  CHECK(find("k1") == hash_slots::kNotFound);
  CHECK(hash_slots::Find({}, 1, [](uint32_t) { return true; }) == hash_slots::kNotFound);
}
