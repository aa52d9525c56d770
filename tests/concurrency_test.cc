// Concurrency: many threads check through one SharedEngine while another thread keeps
// swapping in newly built engines. Every answer must be exactly the one the engine
// the thread got would give alone. Run under ThreadSanitizer by scripts/sanitize.sh.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/preflight.h"

using namespace preflight;

namespace {

constexpr char kExtraPolicy[] = R"(<sailpoint>
  <Policy name="Extra SOD" type="SOD" state="Active" executor="sailpoint.policy.SODPolicyExecutor">
    <SODConstraints><SODConstraint name="unix-vs-security">
      <LeftBundles><Reference name="Unix Administrator - IT"/></LeftBundles>
      <RightBundles><Reference name="Security Architect - IT"/></RightBundles>
    </SODConstraint></SODConstraints>
  </Policy>
</sailpoint>)";

std::shared_ptr<const Snapshot> LoadDemo(bool extra) {
  SnapshotBuilder b;
  REQUIRE(b.AddPath(PREFLIGHT_EXAMPLES_DIR "/demo-snapshot").ok());
  if (extra) REQUIRE(b.AddText(kExtraPolicy, "extra.xml").ok());
  auto s = b.Build();
  REQUIRE(s.ok());
  return *s;
}

std::string Request(const std::string& identity, const std::string& policies) {
  return R"({"identity":")" + identity +
         R"(","plan":{"type":"application/sailpoint.object.ProvisioningPlan+json","value":"{accounts=[{op=Modify, application=Active_Directory, attributes=[{op=Add, name=groupmbr, value=UnixAdministration}]}]}"})" +
         policies + "}";
}

}  // namespace

TEST_CASE("SharedEngine: concurrent checks while engines are swapped give exact answers", "[concurrency]") {
  const std::shared_ptr<const Snapshot> snapshots[2] = {LoadDemo(false), LoadDemo(true)};
  const std::vector<std::string> requests = {
      Request("Ryan.Russell", ""),
      Request("Ryan.Russell", R"(,"policies":["SOD Policy","Entitlement Policy","RandomPolicyNotExisting"])"),
      Request("Amanda.Ross", ""),
      Request("Nobody", ""),
      R"({"identity":"Ryan.Russell","plan":{"type":"application/xml","value":"<not xml"}})",
  };
  // The answers of each snapshot, computed single-threaded first.
  std::map<const Snapshot*, std::vector<std::string>> expected;
  for (const auto& s : snapshots) {
    Engine engine(s);
    for (const auto& r : requests) {
      auto out = engine.CheckJson(r);
      expected[s.get()].push_back(out.ok() ? *out : "error: " + std::string(out.status().message()));
    }
  }
  REQUIRE(expected[snapshots[0].get()][0] != expected[snapshots[1].get()][0]);  // the swap is visible

  SharedEngine shared(std::make_shared<const Engine>(snapshots[0]));
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0}, checks{0}, wrong{0};
  std::thread swapper([&] {
    for (int i = 0; !stop.load(); ++i) {
      shared.Swap(std::make_shared<const Engine>(snapshots[i % 2]));  // a new engine every time
      swaps.fetch_add(1);
      std::this_thread::yield();
    }
  });
  // Checkers keep going until the swapper has swapped kMinSwaps times, so the test
  // does not depend on how the scheduler shares a loaded machine.
  const int kThreads = 6, kIterations = 300, kMinSwaps = 50;
  std::vector<std::thread> checkers;
  for (int t = 0; t < kThreads; ++t) {
    checkers.emplace_back([&, t] {
      for (int i = 0; i < kIterations || swaps.load() < kMinSwaps; ++i) {
        std::shared_ptr<const Engine> engine = shared.Get();
        const auto& want = expected.at(&engine->snapshot());
        size_t k = static_cast<size_t>(t + i) % requests.size();
        std::string got;
        if (i % 10 == 0) {  // the batch form too
          auto checked = engine->CheckBatchJson(requests);
          REQUIRE(checked.ok());
          const auto& batch = *checked;
          for (size_t j = 0; j < batch.size(); ++j) {
            std::string g = batch[j].ok() ? *batch[j] : "error: " + std::string(batch[j].status().message());
            if (g != want[j]) wrong.fetch_add(1);
          }
          checks.fetch_add(static_cast<int>(batch.size()));
          continue;
        }
        auto out = engine->CheckJson(requests[k]);
        got = out.ok() ? *out : "error: " + std::string(out.status().message());
        if (got != want[k]) wrong.fetch_add(1);
        checks.fetch_add(1);
      }
    });
  }
  for (auto& c : checkers) c.join();
  stop.store(true);
  swapper.join();
  INFO("checks " << checks.load() << ", swaps " << swaps.load());
  CHECK(wrong.load() == 0);
  CHECK(swaps.load() >= kMinSwaps);
}

TEST_CASE("Engine: one engine checked from many threads at once", "[concurrency]") {
  auto engine = std::make_shared<const Engine>(LoadDemo(true));
  const std::string request = Request("Ryan.Russell", "");
  auto want = engine->CheckJson(request);
  REQUIRE(want.ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto got = engine->CheckJson(request);
        if (!got.ok() || *got != *want) wrong.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
}
