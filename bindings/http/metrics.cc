#include "bindings/http/metrics.h"

#include "absl/strings/str_format.h"
#include "bindings/http/cat.h"

namespace preflight::http {

size_t Metrics::EndpointIndex(std::string_view endpoint) {
  for (size_t i = 0; i < kEndpoints.size(); ++i)
    if (kEndpoints[i] == endpoint) return i;
  return kEndpoints.size() - 1;
}

size_t Metrics::StatusIndex(int status) {
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i)
    if (kStatuses[i] == status) return i;
  return kStatuses.size() - 1;
}

void Metrics::Count(std::string_view endpoint, int status, double seconds) {
  size_t e = EndpointIndex(endpoint);
  requests_[e][StatusIndex(status)].fetch_add(1, std::memory_order_relaxed);
  Histogram& h = latency_[e];
  for (size_t b = 0; b < kBuckets.size(); ++b) {
    if (seconds <= kBuckets[b]) {
      h.buckets[b].fetch_add(1, std::memory_order_relaxed);
      break;  // cumulated when rendered
    }
  }
  h.count.fetch_add(1, std::memory_order_relaxed);
  h.sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

std::string Metrics::Render(std::string_view hash, size_t active_connections,
                            unsigned long long rejected_connections, bool draining) const {
  std::string out;
  out += "# HELP preflight_http_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE preflight_http_requests_total counter\n";
  for (size_t e = 0; e < kEndpoints.size(); ++e) {
    for (size_t s = 0; s < kStatuses.size(); ++s) {
      uint64_t n = requests_[e][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string status = kStatuses[s] == 0 ? "other" : std::to_string(kStatuses[s]);
      CatTo(out, "preflight_http_requests_total{endpoint=\"", kEndpoints[e], "\",status=\"", status,
                      "\"} ", n, "\n");
    }
  }
  out += "# HELP preflight_http_request_duration_seconds Time from a request's first header byte to its answer.\n";
  out += "# TYPE preflight_http_request_duration_seconds histogram\n";
  for (size_t e = 0; e < kEndpoints.size(); ++e) {
    const Histogram& h = latency_[e];
    uint64_t count = h.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      CatTo(out, "preflight_http_request_duration_seconds_bucket{endpoint=\"", kEndpoints[e], "\",le=\"",
                      absl::StrFormat("%g", kBuckets[b]), "\"} ", cumulative, "\n");
    }
    CatTo(out, "preflight_http_request_duration_seconds_bucket{endpoint=\"", kEndpoints[e],
                    "\",le=\"+Inf\"} ", count, "\n");
    CatTo(out, "preflight_http_request_duration_seconds_sum{endpoint=\"", kEndpoints[e], "\"} ",
                    absl::StrFormat("%.9f", h.sum_ns.load(std::memory_order_relaxed) / 1e9), "\n");
    CatTo(out, "preflight_http_request_duration_seconds_count{endpoint=\"", kEndpoints[e], "\"} ", count,
                    "\n");
  }
  auto gauge = [&out](std::string_view name, std::string_view type, std::string_view help, std::string value) {
    CatTo(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ", value, "\n");
  };
  gauge("preflight_snapshot_generation", "gauge", "Generation of the snapshot answering (1 at start, +1 per reload).",
        std::to_string(generation.load()));
  CatTo(out, "# HELP preflight_snapshot_info The answering snapshot's content hash.\n",
                  "# TYPE preflight_snapshot_info gauge\n", "preflight_snapshot_info{hash=\"", hash, "\"} 1\n");
  gauge("preflight_snapshot_load_seconds", "gauge", "How long the answering snapshot took to load.",
        absl::StrFormat("%.6f", load_seconds.load()));
  gauge("preflight_snapshot_identities", "gauge", "Identities in the answering snapshot.",
        std::to_string(identities.load()));
  gauge("preflight_snapshot_policies", "gauge", "Policies in the answering snapshot.", std::to_string(policies.load()));
  gauge("preflight_snapshot_reloads_total", "counter", "Snapshot reloads that succeeded.", std::to_string(reloads.load()));
  gauge("preflight_snapshot_reload_failures_total", "counter",
        "Snapshot reloads that failed (the previous snapshot kept answering).", std::to_string(reload_failures.load()));
  gauge("preflight_http_connections_active", "gauge", "Open client connections.", std::to_string(active_connections));
  gauge("preflight_http_connections_rejected_total", "counter", "Connections refused over --max-connections.",
        std::to_string(rejected_connections));
  gauge("preflight_draining", "gauge", "1 while the server drains after SIGTERM.", draining ? "1" : "0");
  return out;
}

}  // namespace preflight::http
