// Inputs that once crashed a fuzz target (tests/corpus/fuzz-regressions/<target>/),
// replayed through the same entry points: each must now load without throwing, and
// give either objects or a diagnostic.

#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/codecs/plan_codec.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/load/snapshot_builder.h"
#include "engine/util/file.h"

using namespace preflight;

TEST_CASE("snapshot_scim_load regressions: a User whose name is not an object", "[fuzz]") {
  std::string dir = PREFLIGHT_CORPUS_DIR "/fuzz-regressions/snapshot_scim_load";
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto text = ReadFileToString(entry.path().string());
    REQUIRE(text.ok());
    SnapshotBuilder builder;
    REQUIRE_NOTHROW(builder.AddText(*text, entry.path().filename().string()));
    auto snapshot = builder.Build();
    REQUIRE(snapshot.ok());
    ++replayed;
  }
  CHECK(replayed == 2);
  SnapshotBuilder b;
  REQUIRE(b.AddText(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"jane","name":"u1"})", "x.json").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  REQUIRE((*s)->FindIdentity("jane") != kNoIndex);
}

TEST_CASE("plan_xml_roundtrip regressions: decode(encode(p)) == p", "[fuzz]") {
  std::string dir = PREFLIGHT_CORPUS_DIR "/fuzz-regressions/plan_xml_roundtrip";
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto text = ReadFileToString(entry.path().string());
    REQUIRE(text.ok());
    INFO(entry.path().filename().string());
    auto first = DecodePlanXml(*text);
    if (!first.ok()) continue;
    std::string xml = EncodePlanXml(*first);
    auto second = DecodePlanXml(xml);
    REQUIRE(second.ok());
    INFO(EncodePlanJson(*first, 2));
    INFO(EncodePlanJson(*second, 2));
    CHECK(*second == *first);
    CHECK(EncodePlanXml(*second) == xml);
    ++replayed;
  }
  CHECK(replayed >= 1);
}
