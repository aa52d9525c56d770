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

}  // namespace preflight::bench
