#pragma once
// Counters for /metrics (Prometheus text format 0.0.4): requests by endpoint and status,
// a latency histogram per endpoint, and the snapshot and connection gauges. Lock-free:
// every counter is a relaxed atomic, written from the io threads.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace preflight::http {

class Metrics {
 public:
  static constexpr std::array<std::string_view, 14> kEndpoints = {
      "check",  "bulk",    "query",   "resource", "search",  "config", "unsupported",
      "health", "ready",   "metrics", "notFound", "unauthorized", "transport", "other"};
  // The statuses the service answers with; the last slot (0) counts any other, as "other".
  static constexpr std::array<int, 15> kStatuses = {200, 201, 204, 400, 401, 403, 404, 405,
                                                    408, 413, 431, 500, 501, 503, 0};
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,    0.025,  0.05,    0.1,    0.25,  1.0,    5.0};

  void Count(std::string_view endpoint, int status, double seconds);

  // Snapshot gauges, set by the reloader.
  std::atomic<uint64_t> generation{0};
  std::atomic<uint64_t> identities{0};
  std::atomic<uint64_t> policies{0};
  std::atomic<double> load_seconds{0};
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};
  std::atomic<double> last_reload_unixtime{0};

  // Prometheus text; `hash` is the current snapshot's content hash, the rest are live gauges.
  std::string Render(std::string_view hash, size_t active_connections, unsigned long long rejected_connections,
                     bool draining) const;

 private:
  static size_t EndpointIndex(std::string_view endpoint);
  static size_t StatusIndex(int status);
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
  };
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kEndpoints.size()> requests_{};
  std::array<Histogram, kEndpoints.size()> latency_{};
};

}  // namespace preflight::http
