#pragma once
// Access to a generated workload (benchmarks/gen_workload.py) for the suites: the
// directory comes from $PREFLIGHT_WORKLOAD (scripts/bench.sh generates and sets it).

#include <memory>
#include <string>
#include <vector>

#include "engine/codecs/plan_codec.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/plan/compiler.h"
#include "engine/policy/check.h"
#include "engine/wire/check_response.h"
#include "engine/preflight.h"

namespace preflight::bench {

// $PREFLIGHT_WORKLOAD, or "" when unset.
std::string WorkloadDir();
// Every line of DIR/requests.jsonl.
std::vector<std::string> ReadRequests(const std::string& dir, size_t limit = SIZE_MAX);
// The snapshot DIR/xml (loaded once per process and shared).
std::shared_ptr<const Engine> WorkloadEngine(const std::string& dir, const std::string& format = "xml");

// The workload of $PREFLIGHT_WORKLOAD: its engine and its first `limit` requests, each
// body read and its plan decoded; `error` says what failed (a suite skips with it).
struct DecodedWorkload {
  std::shared_ptr<const Engine> engine;
  std::vector<std::string> bodies;
  std::vector<CheckRequest> requests;
  std::vector<ProvisioningPlan> plans;
  std::string error;
};
DecodedWorkload LoadDecodedWorkload(size_t limit = SIZE_MAX);

}  // namespace preflight::bench
