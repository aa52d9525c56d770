#include "engine/load/identity_flags.h"

#include <algorithm>
#include <thread>

#include "engine/plan/compiler.h"

namespace preflight {

void PrecomputeIdentityFlags(Snapshot& s) {
  auto work = [&s](size_t begin, size_t end) {
    ProvisioningPlan empty;
    Projection p;
    for (size_t i = begin; i < end; ++i) {
      Identity& idn = s.identities_[i];
      idn.flags = 0;
      ValueIds ids(s.pool());
      if (!ProjectInto(s, static_cast<Index>(i), empty, ids, p).ok()) continue;
      bool noop = p.pre.accounts.size() == idn.accounts.size() &&
                  std::none_of(p.pre.accounts.begin(), p.pre.accounts.end(),
                               [](const AccountState& a) { return a.modified(); });
      std::vector<Index> stored = idn.detected_roles, found = p.post.detected_roles;
      std::sort(stored.begin(), stored.end());
      std::sort(found.begin(), found.end());
      idn.flags = static_cast<uint8_t>((noop ? Identity::kExpansionNoop : 0) |
                                       (stored == found ? Identity::kDetectionConsistent : 0));
    }
  };
  size_t n = s.identities_.size();
  unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  if (n < 4096) threads = 1;
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, n * t / threads, n * (t + 1) / threads);
  work(0, n / threads);
  for (auto& th : pool) th.join();
}

}  // namespace preflight
