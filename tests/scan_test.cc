// engine/scan: the scan equals the reference's current violations (the check's pre
// state, populations evaluated on the stored identity) on the differential generator's
// snapshots; impact with no change is empty; exact rows on a small hand-made snapshot.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/load/snapshot_builder.h"
#include "engine/scan/scan.h"
#include "engine/wire/violation_rows.h"
#include "tests/random_snapshot.h"
#include "tests/reference_checker.h"

using namespace preflight;
using namespace preflight::testing;

namespace {

std::vector<reference::RefViolation> AsRef(const std::vector<ScanRow>& rows) {
  std::vector<reference::RefViolation> out;
  for (const ScanRow& row : rows) {
    const ViolationReport& v = row.violation;
    reference::RefViolation r;
    r.policy_name = v.policy_name;
    r.policy_type = v.policy_type;
    if (v.has_constraint_name) r.constraint_name = v.constraint_name;
    r.description = v.description;
    r.left_bundles = v.left_bundles;
    r.right_bundles = v.right_bundles;
    for (const auto& e : v.entitlements) r.entitlements.push_back({e.application, e.attribute, e.value});
    out.push_back(std::move(r));
  }
  return out;
}

std::string Lines(const std::vector<ScanRow>& rows) {
  ViolationRowWriter w(RowFormat::kJsonLines);
  std::string out;
  w.Rows(rows, out);
  return out;
}

uint64_t SeedCount(uint64_t fallback) {
  if (const char* env = std::getenv("PREFLIGHT_DIFF_SEEDS")) return std::strtoull(env, nullptr, 10);
  return fallback;
}

}  // namespace

TEST_CASE("scan: every identity's rows equal the reference's current violations", "[scan][differential]") {
  const uint64_t count = SeedCount(1500);
  uint64_t compared = 0, skipped = 0, with_rows = 0, mismatches = 0, with_populations = 0;
  for (uint64_t seed = 1; seed <= count; ++seed) {
    RandomCase c = GenerateCase(seed);
    SnapshotBuilder builder;
    builder.objects() = c.objects;
    auto snapshot = builder.Build();
    REQUIRE(snapshot.ok());
    ScanOptions options;
    options.policies = c.policies;
    options.threads = 2;
    options.chunk_identities = 1;  // many chunks: exercises the in-order hand-off
    std::vector<ScanRow> rows;
    auto summary = Scan(**snapshot, options, [&](std::span<const ScanRow> chunk) {
      rows.insert(rows.end(), chunk.begin(), chunk.end());
      return true;
    });
    REQUIRE(summary.ok());
    REQUIRE(summary->rows == rows.size());
    bool any_population = false;
    for (const auto& p : c.objects.policies)
      for (const auto& k : p.constraints)
        for (const auto& sel : k.selectors) any_population = any_population || sel.population.has_value();
    with_populations += any_population;
    for (const IdentityObject& idn : c.objects.identities) {
      auto ref = reference::ReferenceCurrentViolations(c.objects, idn.name, c.policies);
      if (ref.unsupported) {
        ++skipped;
        continue;
      }
      REQUIRE_FALSE(ref.error);
      std::vector<ScanRow> mine;
      for (const ScanRow& r : rows)
        if (r.identity_name == idn.name) mine.push_back(r);
      ++compared;
      with_rows += !mine.empty();
      auto engine = AsRef(mine);
      if (engine != ref.violations && ++mismatches <= 3) {
        std::string why = "MISMATCH seed=" + std::to_string(seed) + " identity=" + idn.name + "\n" +
                          DescribeCase(c) + "--- scan:\n" + reference::FormatViolations(engine) +
                          "--- reference:\n" + reference::FormatViolations(ref.violations);
        UNSCOPED_INFO(why);
        std::cerr << why << "\n";
      }
    }
  }
  std::cerr << "scan differential: seeds=" << count << " identities compared=" << compared << " skipped=" << skipped
            << " with rows=" << with_rows << " cases with populations=" << with_populations
            << " mismatches=" << mismatches << "\n";
  CHECK(mismatches == 0);
  CHECK(with_rows > compared / 20);
}

TEST_CASE("scan: one thread and two give the same rows in the same order", "[scan]") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    RandomCase c = GenerateCase(seed);
    SnapshotBuilder builder;
    builder.objects() = c.objects;
    auto snapshot = builder.Build();
    REQUIRE(snapshot.ok());
    std::string one, two;
    for (int threads : {1, 2}) {
      ScanOptions options;
      options.threads = threads;
      options.chunk_identities = 2;
      std::string& out = threads == 1 ? one : two;
      auto summary = Scan(**snapshot, options, [&](std::span<const ScanRow> chunk) {
        out += Lines({chunk.begin(), chunk.end()});
        return true;
      });
      REQUIRE(summary.ok());
    }
    CHECK(one == two);
  }
}

TEST_CASE("impact: no change reports nothing; a plan reports what the check does", "[scan][impact]") {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    RandomCase c = GenerateCase(seed);
    SnapshotBuilder builder;
    builder.objects() = c.objects;
    auto snapshot = builder.Build();
    REQUIRE(snapshot.ok());
    ScanOptions options;
    options.policies = c.policies;
    options.threads = 2;
    size_t rows = 0;
    auto sink = [&](std::span<const ScanRow> chunk) {
      rows += chunk.size();
      return true;
    };
    auto change = ImpactChange(**snapshot, **snapshot, options, sink);
    REQUIRE(change.ok());
    CHECK(rows == 0);
    // A plan's impact is the check's answer for each identity (the same code path).
    std::vector<ScanRow> got;
    auto plan = ImpactPlan(**snapshot, c.plan, options, [&](std::span<const ScanRow> chunk) {
      got.insert(got.end(), chunk.begin(), chunk.end());
      return true;
    });
    REQUIRE(plan.ok());
    std::vector<reference::RefViolation> expected;
    for (const IdentityObject& idn : c.objects.identities) {
      CheckRequest request;
      request.identity = idn.name;
      request.policies = c.policies;
      auto result = Check(**snapshot, request, c.plan);
      REQUIRE(result.ok());
      std::vector<ScanRow> as_rows;
      for (auto& v : result->Reports()) as_rows.push_back({kNoIndex, idn.name, ScanRow::Kind::kViolation, "new", v, ""});
      auto r = AsRef(as_rows);
      expected.insert(expected.end(), r.begin(), r.end());
    }
    CHECK(AsRef(got) == expected);
  }
}

TEST_CASE("impact: trusting the load's detection flags changes nothing", "[scan][impact]") {
  size_t rows_seen = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    RandomCase c = GenerateCase(seed);
    SnapshotBuilder builder;
    builder.objects() = c.objects;
    auto before = builder.Build();
    REQUIRE(before.ok());
    // The change: the first role loses its profiles, the first policy flips its state.
    SnapshotObjects changed = c.objects;
    if (!changed.roles.empty()) changed.roles[0].profiles.clear();
    if (!changed.policies.empty())
      changed.policies[0].state = changed.policies[0].state == "Active" ? "Inactive" : "Active";
    SnapshotBuilder changed_builder;
    changed_builder.objects() = changed;
    auto after = changed_builder.Build();
    REQUIRE(after.ok());
    std::string text[2];
    for (int trust : {0, 1}) {
      ScanOptions options;
      options.policies = c.policies;
      options.trust_identity_flags = trust;
      auto summary = ImpactChange(**before, **after, options, [&](std::span<const ScanRow> chunk) {
        text[trust] += Lines({chunk.begin(), chunk.end()});
        return true;
      });
      REQUIRE(summary.ok());
      rows_seen += summary->rows;
    }
    INFO("seed " << seed);
    CHECK(text[0] == text[1]);
  }
  CHECK(rows_seen > 100);  // the changes do change something
}

namespace {

// The demo snapshot plus one identity holding both sides of each demo policy.
constexpr char kBoth[] = R"(<?xml version='1.0' encoding='UTF-8'?>
<sailpoint>
  <Identity name="Pat.Both">
    <Bundles>
      <Reference class="sailpoint.object.Bundle" name="Security Architect - IT"/>
      <Reference class="sailpoint.object.Bundle" name="Unix Administrator - IT"/>
    </Bundles>
    <Links>
      <Link nativeIdentity="CN=Pat Both" displayName="pat.both">
        <ApplicationRef><Reference class="sailpoint.object.Application" name="Active_Directory"/></ApplicationRef>
        <Attributes><Map><entry key="groupmbr"><value><List><String>SecurityDesign</String><String>UnixAdministration</String></List></value></entry></Map></Attributes>
      </Link>
      <Link nativeIdentity="pboth" displayName="pboth">
        <ApplicationRef><Reference class="sailpoint.object.Application" name="Financials"/></ApplicationRef>
        <Attributes><Map><entry key="capability"><value><List><String>CreateVendors</String><String>ApprovePayments</String></List></value></entry></Map></Attributes>
      </Link>
    </Links>
  </Identity>
</sailpoint>
)";

// The Unix role now detected from membership of "Domain Users".
constexpr char kRoleChange[] = R"(<?xml version='1.0' encoding='UTF-8'?>
<Bundle name="Unix Administrator - IT" type="it" displayName="Unix Administrator - IT">
  <Profiles>
    <Profile>
      <ApplicationRef><Reference class="sailpoint.object.Application" name="Active_Directory"/></ApplicationRef>
      <Constraints>
        <Filter operation="CONTAINS_ALL" property="groupmbr"><Value><List><String>Domain Users</String></List></Value></Filter>
      </Constraints>
    </Profile>
  </Profiles>
</Bundle>
)";

std::string WriteTemp(const std::string& name, const char* text) {
  auto dir = std::filesystem::temp_directory_path() / ("preflight_scan_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("scan and impact: exact rows on a hand-made snapshot", "[scan][impact]") {
  const std::string demo = std::string(PREFLIGHT_EXAMPLES_DIR) + "/demo-snapshot";
  const std::vector<std::string> base = {demo, WriteTemp("both.xml", kBoth)};
  auto snapshot = LoadSnapshot(base);
  REQUIRE(snapshot.ok());
  ScanOptions options;
  std::vector<ScanRow> rows;
  auto sink = [&](std::span<const ScanRow> chunk) {
    rows.insert(rows.end(), chunk.begin(), chunk.end());
    return true;
  };
  auto summary = Scan(**snapshot, options, sink);
  REQUIRE(summary.ok());
  CHECK(Lines(rows) ==
        R"({"identity":"Pat.Both","policyName":"Entitlement Policy","policyType":"EntitlementSOD","constraintName":"FIN SOD-021","leftBundles":[],"rightBundles":[],"entitlements":[{"application":"Financials","attribute":"capability","value":"CreateVendors"},{"application":"Financials","attribute":"capability","value":"ApprovePayments"}]}
{"identity":"Pat.Both","policyName":"SOD Policy","policyType":"SOD","constraintName":"IT SOD-117","description":"Security design should not be combined with administrative permissions.","leftBundles":["Security Architect - IT"],"rightBundles":["Unix Administrator - IT"],"entitlements":[]}
)");
  CHECK(ScanSummaryJson(*summary).find(R"("counts":[{"policyName":"Entitlement Policy","constraintName":"FIN SOD-021","rows":1},{"policyName":"SOD Policy","constraintName":"IT SOD-117","rows":1}])") != std::string::npos);

  // A filter selects; a named policy narrows.
  rows.clear();
  options.filter = R"(userName eq "Ryan.Russell")";
  REQUIRE(Scan(**snapshot, options, sink).ok());
  CHECK(rows.empty());
  options.filter = R"(userName sw "Pat")";
  options.policies = std::vector<std::string>{"SOD Policy"};
  REQUIRE(Scan(**snapshot, options, sink).ok());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].violation.constraint_name == "IT SOD-117");
  options.filter = "userName eq";
  CHECK_FALSE(Scan(**snapshot, options, sink).ok());

  // The Unix role, detected from "Domain Users" instead: Ryan gains it and the SoD
  // violation; nobody loses anything.
  auto after = LoadChangedSnapshot(base, {WriteTemp("unix-role.xml", kRoleChange)}, {}, DefaultLimits());
  REQUIRE(after.ok());
  rows.clear();
  REQUIRE(ImpactChange(**snapshot, **after, ScanOptions{}, sink).ok());
  // Pat.Both's groups lack "Domain Users": a fresh detection drops the role, and the SoD
  // violation with it.
  const std::string sod =
      R"("policyName":"SOD Policy","policyType":"SOD","constraintName":"IT SOD-117","description":"Security design should not be combined with administrative permissions.","leftBundles":["Security Architect - IT"],"rightBundles":["Unix Administrator - IT"],"entitlements":[]})";
  CHECK(Lines(rows) == R"({"identity":"Ryan.Russell","change":"gained",)" + sod + "\n" +
                           R"({"identity":"Ryan.Russell","change":"gained","role":"Unix Administrator - IT"})" + "\n" +
                           R"({"identity":"Pat.Both","change":"lost",)" + sod + "\n" +
                           R"({"identity":"Pat.Both","change":"lost","role":"Unix Administrator - IT"})" + "\n");
}

TEST_CASE("scan: a sink that says stop ends the run, whatever the thread count", "[scan]") {
  SnapshotBuilder builder;
  // Many small identities: several chunks of 1.
  builder.objects() = GenerateCase(7).objects;
  for (int i = 0; i < 200; ++i) {
    IdentityObject extra = builder.objects().identities.front();
    extra.name += "-" + std::to_string(i);
    extra.id.clear();
    builder.objects().identities.push_back(std::move(extra));
  }
  auto snapshot = builder.Build();
  REQUIRE(snapshot.ok());
  for (int threads : {1, 2, 4}) {
    ScanOptions options;
    options.threads = threads;
    options.chunk_identities = 1;
    size_t calls = 0, progress = 0;
    options.progress = [&](size_t done, size_t total) {
      CHECK(total == (*snapshot)->identities().size());
      progress = done;
    };
    auto summary = Scan(**snapshot, options, [&](std::span<const ScanRow>) { return ++calls < 3; });
    CHECK(summary.status().code() == absl::StatusCode::kCancelled);
    CHECK(calls == 3);
    CHECK(progress == 2);  // reported after each chunk the sink accepted
  }
}
