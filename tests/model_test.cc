// The snapshot's storage: columns (engine/model/column.h).

#include <catch2/catch.hpp>

#include <numeric>

#include "engine/model/column.h"

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
