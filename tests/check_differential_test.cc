// Differential test: the engine's Check() against the brute-force reference
// (tests/reference_checker.h) on thousands of generated snapshots and plans
// (tests/random_snapshot.h). Both read the same name-based SnapshotObjects. On a
// mismatch the case is minimized and printed as IIQ XML with both answers.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "engine/codecs/snapshot_sources.h"
#include "engine/load/snapshot_builder.h"
#include "engine/wire/check_response.h"
#include "tests/random_snapshot.h"

using namespace preflight;
using namespace preflight::testing;

namespace {

uint64_t SeedCount(uint64_t fallback) {
  if (const char* env = std::getenv("PREFLIGHT_DIFF_SEEDS")) return std::strtoull(env, nullptr, 10);
  return fallback;
}

// PREFLIGHT_DIFF_ENGINE_CHOICES takes the engine's side at the known divergences
// (tests/reference_checker.h RefOptions) to look for other mismatches: "1" all of
// them, or any of the letters n (null bundle lists, 4.2), s (schema dropping of role
// expansion, 3.4), o (role expansion order, 2.3).
CompareOptions Options(bool use_index) {
  CompareOptions o;
  o.use_constraint_index = use_index;
  std::string env = std::getenv("PREFLIGHT_DIFF_ENGINE_CHOICES") ? std::getenv("PREFLIGHT_DIFF_ENGINE_CHOICES") : "";
  auto has = [&](char c) { return env.find('1') != std::string::npos || env.find(c) != std::string::npos; };
  if (has('n')) o.null_lists_match_anything = false;
  if (has('s')) o.drop_unschema_expansions = false;
  if (has('o')) o.expansion_in_document_order = false;
  return o;
}

void RunSeeds(uint64_t first, uint64_t count, bool use_index) {
  CompareOptions opts = Options(use_index);
  uint64_t mismatches = 0, skipped = 0, with_violations = 0, gated = 0, gated_eager = 0, unheld_pre = 0, repeated = 0, wide = 0,
           direct = 0, direct_overlapping = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    RandomCase c = GenerateCase(seed);
    opts.eager_gate_keys = seed % 2 == 1;  // the value gates' other paths (CompareOptions)
    Comparison cmp = CompareCase(c, opts);
    if (cmp.skipped) {
      ++skipped;
      continue;
    }
    if (cmp.reference.find("(none)") == std::string::npos) ++with_violations;
    if (cmp.gated_violations > 0) ++gated;
    if (cmp.gated_violations > 0 && opts.eager_gate_keys) ++gated_eager;
    if (cmp.unheld_pre_violations > 0) ++unheld_pre;
    if (cmp.direct_role_sod_violations > 0) ++direct;
    if (cmp.direct_overlapping_violations > 0) ++direct_overlapping;
    if (cmp.repeated_term_violations > 0) ++repeated;
    if (cmp.wide_role_sod_violations > 0) ++wide;
    if (!cmp.mismatch) continue;
    if (++mismatches > 3) continue;  // print the first few in full
    RandomCase small = Minimize(c, [&](const RandomCase& x) { return CompareCase(x, opts).mismatch; });
    Comparison m = CompareCase(small, opts);
    std::ostringstream os;
    os << "MISMATCH seed=" << seed << " use_constraint_index=" << use_index
       << " eager_gate_keys=" << opts.eager_gate_keys << " (minimized)\n"
       << DescribeCase(small) << "--- engine:\n" << m.engine << "--- reference:\n" << m.reference
       << "--- original case, engine:\n" << cmp.engine << "--- original case, reference:\n" << cmp.reference;
    UNSCOPED_INFO(os.str());
    std::cerr << os.str() << "\n";
  }
  std::cerr << "differential: seeds " << first << ".." << first + count - 1 << " index=" << use_index
            << " compared=" << count - skipped << " skipped=" << skipped << " with_violations=" << with_violations
            << " with_gated_violations=" << gated
            << " (eager " << gated_eager << ") with_unheld_pre=" << unheld_pre << " (direct " << direct
            << ", sides overlapping " << direct_overlapping << ")"
            << " with_repeated_gate_terms=" << repeated << " with_wide_role_sod=" << wide << " mismatches=" << mismatches << "\n";
  CHECK(mismatches == 0);
  CHECK(skipped < count / 10);
  CHECK(with_violations > count / 20);  // the generator must keep producing violations
  CHECK(gated > count / 100);  // and violations of value-gated entitlement SoD constraints
  CHECK(gated_eager > count / 250);  // half of them with the gates' eager tuning
  CHECK(unheld_pre > count / 50);  // and new role SoD violations with no pre side to evaluate
  // and such violations written straight from the held roles (role_sod_direct), some of
  // them with a role on both sides
  if (use_index) CHECK(direct > count / 100);
  if (use_index) CHECK(direct_overlapping > count / 1000);
  // and of them without (DisjointRoleSod, one pass over the sides)
  if (use_index) CHECK(direct - direct_overlapping > count / 100);
  CHECK(repeated >= count / 5000);
  CHECK(wide > count / 500);  // and role SoD violations read from the table's records  // and gated ones listing a term once per account holding it
}

}  // namespace

TEST_CASE("differential: Check() equals the reference checker (constraint index and fast paths on)", "[differential]") {
  RunSeeds(1, SeedCount(10000), true);
}

TEST_CASE("differential: Check() equals the reference checker (every fast path off)", "[differential]") {
  RunSeeds(1000001, SeedCount(10000) / 2, false);
}

TEST_CASE("differential: each generated snapshot answers exactly alike through a compiled image", "[differential][image]") {
  // The engine's answer from the snapshot written as an image and opened again: the same
  // text as from the built snapshot, and the reference's answer.
  CompareOptions direct = Options(true), image = direct;
  image.through_image = true;
  uint64_t compared = 0;
  for (uint64_t seed = 1; seed <= SeedCount(10000) / 5; ++seed) {
    RandomCase c = GenerateCase(seed);
    Comparison a = CompareCase(c, direct), b = CompareCase(c, image);
    if (a.skipped) continue;
    ++compared;
    INFO("seed " << seed << "\n" << DescribeCase(c));
    CHECK(b.engine == a.engine);
    CHECK(b.mismatch == a.mismatch);
  }
  CHECK(compared > SeedCount(10000) / 5 * 9 / 10);
}

namespace {

// Passes every event on to a JsonWriter: the answer written through a sink's calls.
class Relay final : public JsonSink {
 public:
  Relay& BeginObject() override { return Pass(text.BeginObject()); }
  Relay& EndObject() override { return Pass(text.EndObject()); }
  Relay& BeginArray() override { return Pass(text.BeginArray()); }
  Relay& EndArray() override { return Pass(text.EndArray()); }
  Relay& Key(std::string_view key) override { return Pass(text.Key(key)); }
  Relay& String(std::string_view value) override { return Pass(text.String(value)); }
  Relay& Int(int64_t value) override { return Pass(text.Int(value)); }
  Relay& Bool(bool value) override { return Pass(text.Bool(value)); }
  Relay& Null() override { return Pass(text.Null()); }
  JsonWriter text;

 private:
  Relay& Pass(JsonWriter&) { return *this; }
};

}  // namespace

TEST_CASE("differential: each generated answer's text is its answer written through a sink's calls", "[differential]") {
  // The compact text writes each violation in one piece (check_response.cc,
  // AppendViolationJson), the sink's calls one field at a time: the same bytes.
  uint64_t with_violations = 0, with_terms = 0, with_explain = 0, with_long = 0;
  for (uint64_t seed = 1; seed <= SeedCount(10000) / 5; ++seed) {
    RandomCase c = GenerateCase(seed);
    // Every fourth case: long names and descriptions with characters to escape, a violation's
    // text larger than the writer's buffer on the stack.
    const bool long_texts = seed % 4 == 0;
    if (long_texts)
      for (auto& policy : c.objects.policies)
        for (auto& constraint : policy.constraints) {
          if (constraint.has_name) constraint.name += " \"quoted\"\t\\ " + std::string(700, 'n');
          constraint.description = "d\"\n\u00e9\x01 " + std::string(900, 'd');
        }
    SnapshotBuilder builder;
    builder.objects() = c.objects;
    auto snapshot = builder.Build();
    if (!snapshot.ok()) continue;
    CheckRequest req;
    req.identity = c.identity;
    req.policies = c.policies;
    req.explain = seed % 2 == 0;
    auto result = Check(**snapshot, req, c.plan);
    if (!result.ok() || result->violations.empty()) continue;
    ++with_violations;
    with_terms += !result->terms.empty();
    with_explain += req.explain;
    with_long += long_texts;
    Relay events;
    WriteCheckResponse(events, req, *result);
    INFO("seed " << seed << "\n" << DescribeCase(c));
    CHECK(CheckResponseJson(req, *result) == events.text.str());
  }
  CHECK(with_violations > SeedCount(10000) / 100);
  CHECK(with_terms > SeedCount(10000) / 1000);
  CHECK(with_explain > SeedCount(10000) / 500);
  CHECK(with_long > SeedCount(10000) / 500);
}

TEST_CASE("differential: generated cases round-trip through the XML loader", "[differential]") {
  // DescribeCase's XML is what a failure prints; it must load back to the same answer.
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    RandomCase c = GenerateCase(seed);
    SnapshotObjects reread;
    REQUIRE(ReadIiqXml(SnapshotXml(c.objects), "case.xml", reread).ok());
    RandomCase d = c;
    d.objects = reread;
    d.objects.diagnostics.clear();
    Comparison a = CompareCase(c), b = CompareCase(d);
    INFO("seed " << seed << "\n" << DescribeCase(c));
    CHECK(a.engine == b.engine);
  }
}
