#include "benchmarks/workload.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

namespace preflight::bench {

std::string WorkloadDir() {
  const char* dir = std::getenv("PREFLIGHT_WORKLOAD");
  return dir ? dir : "";
}

std::vector<std::string> ReadRequests(const std::string& dir, size_t limit) {
  std::vector<std::string> out;
  std::ifstream in(dir + "/requests.jsonl");
  std::string line;
  while (out.size() < limit && std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::shared_ptr<const Engine> WorkloadEngine(const std::string& dir, const std::string& format) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Engine>> cache;
  std::lock_guard<std::mutex> lock(mu);
  std::string key = dir + "/" + format;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto engine = Engine::Load({key});
  if (!engine.ok()) return nullptr;
  cache[key] = *engine;
  return *engine;
}

DecodedWorkload LoadDecodedWorkload(size_t limit) {
  DecodedWorkload w;
  std::string dir = WorkloadDir();
  if (dir.empty()) {
    w.error = "set PREFLIGHT_WORKLOAD to a directory written by benchmarks/gen_workload.py (scripts/bench.sh does)";
    return w;
  }
  w.engine = WorkloadEngine(dir);
  if (!w.engine) {
    w.error = "cannot load " + dir + "/xml";
    return w;
  }
  w.bodies = ReadRequests(dir, limit);
  for (const std::string& body : w.bodies) {
    auto req = ParseCheckRequest(body);
    if (!req.ok()) {
      w.error = std::string(req.status().message());
      return w;
    }
    auto plan = DecodePlanJson(req->plan_value);
    if (!plan.ok()) {
      w.error = std::string(plan.status().message());
      return w;
    }
    w.requests.push_back(*std::move(req));
    w.plans.push_back(*std::move(plan));
  }
  return w;
}

}  // namespace preflight::bench
