#pragma once
// The one header an embedder includes.
//
//   auto engine = preflight::Engine::Load({"snapshot/"});
//   if (!engine.ok()) ...;
//   absl::StatusOr<std::string> response = (*engine)->CheckJson(request_body);
//
// An Engine is immutable and thread-safe: check from any number of threads. To
// replace the snapshot while checks run, keep it in a SharedEngine and Swap().

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/util/error.h"
#include "engine/util/limits.h"

namespace preflight {

class Engine {
 public:
  static absl::StatusOr<std::shared_ptr<const Engine>> Load(const std::vector<std::string>& paths,
                                                            const LoadOptions& options = {});
  explicit Engine(std::shared_ptr<const Snapshot> snapshot, Limits limits = {})
      : snapshot_(std::move(snapshot)), limits_(limits) {}

  const Snapshot& snapshot() const { return *snapshot_; }
  const Limits& limits() const { return limits_; }

  // The CheckedPolicyViolations request body in, the response resource out.
  absl::StatusOr<std::string> CheckJson(std::string_view request_json, const CheckOptions& options = {}) const;
  absl::StatusOr<CheckResult> Check(const CheckRequest& request, const CheckOptions& options = {}) const;
  // Many requests in one call; one result per request, in order.
  std::vector<absl::StatusOr<std::string>> CheckBatchJson(const std::vector<std::string>& requests,
                                                          const CheckOptions& options = {}) const;

 private:
  std::shared_ptr<const Snapshot> snapshot_;
  Limits limits_;
};

// Holds the current engine; readers take a reference-counted copy, so a Swap never
// blocks or invalidates a check in progress.
class SharedEngine {
 public:
  explicit SharedEngine(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
  std::shared_ptr<const Engine> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return engine_;
  }
  // The old engine is released outside the lock (its last reader may be elsewhere).
  void Swap(std::shared_ptr<const Engine> engine) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      engine_.swap(engine);
    }
  }

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for
  // ThreadSanitizer, which then cannot see its locking.
  mutable std::mutex mu_;
  std::shared_ptr<const Engine> engine_;
};

}  // namespace preflight
