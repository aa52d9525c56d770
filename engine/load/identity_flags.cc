#include "engine/load/identity_flags.h"

#include <algorithm>
#include <thread>

#include "engine/plan/compiler.h"

namespace preflight {

void PrecomputeIdentityFlags(Snapshot& s) {
  // Computed with every identity's flags clear (the projection reads them), then stored.
  std::vector<IdentityRecord>& records = s.population_.identities.Build();
  for (IdentityRecord& r : records) r.flags = 0;
  std::vector<uint8_t> flags(records.size(), 0);
  auto work = [&s, &flags](size_t begin, size_t end) {
    ProvisioningPlan empty;
    Projection p;
    for (size_t i = begin; i < end; ++i) {
      IdentityView idn = s.identities()[static_cast<Index>(i)];
      ValueIds ids(s.pool());
      if (!ProjectInto(s, static_cast<Index>(i), empty, ids, p).ok()) continue;
      bool noop = p.pre.accounts.size() == idn.accounts.size() &&
                  std::none_of(p.pre.accounts.begin(), p.pre.accounts.end(),
                               [](const AccountState& a) { return a.modified(); });
      std::vector<Index> stored(idn.detected_roles.begin(), idn.detected_roles.end()), found = p.post.detected_roles;
      std::sort(stored.begin(), stored.end());
      std::sort(found.begin(), found.end());
      flags[i] = static_cast<uint8_t>((noop ? IdentityView::kExpansionNoop : 0) |
                                      (stored == found ? IdentityView::kDetectionConsistent : 0));
    }
  };
  size_t n = records.size();
  unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  if (n < 4096) threads = 1;
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, n * t / threads, n * (t + 1) / threads);
  work(0, n / threads);
  for (auto& th : pool) th.join();
  for (size_t i = 0; i < n; ++i) records[i].flags = flags[i];
  s.population_.identities.Seal();
}

}  // namespace preflight
