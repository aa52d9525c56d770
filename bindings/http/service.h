#pragma once
// IdentityIQ's SCIM API answered from the snapshot: routing, authentication, the SCIM
// documents, and the snapshot that answers (swapped whole on reload). Every engine call
// goes through engine/preflight.h; this file never sees the engine's stages.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/http/auth.h"
#include "bindings/http/http_message.h"
#include "bindings/http/metrics.h"
#include "engine/preflight.h"

namespace preflight::http {

struct ServiceOptions {
  std::vector<std::string> base_paths = {"/identityiq/scim/v2", "/scim/v2"};
  int check_status = 200;  // --check-status 201: the IdentityIQ 8.3+ documentation's variant
  size_t bulk_max_operations = 1000;
  size_t max_body_bytes = 64u << 20;
  int64_t default_count = 1000;  // a query's page size when the request names none
  // serve --upstream (bindings/http/upstream.h): answers what the service does not; unset: 501/404.
  std::function<void(const HttpRequest&, const Engine&, HttpResponse&)> forward;
};

// The snapshot that answers, with its generation: the two are swapped together, so a
// response's header always names the engine that computed it. (SharedEngine holds the
// engine alone; pairing it with a counter outside would let the two disagree for a moment.)
struct Served {
  std::shared_ptr<const Engine> engine;
  uint64_t generation = 0;
  std::string header;  // "generation=N; hash=HEX", the X-Preflight-Snapshot header value
};

// JSON-lines access log (one object a request); thread-safe.
class AccessLog {
 public:
  explicit AccessLog(std::FILE* out) : out_(out) {}
  void Write(const HttpRequest& request, const HttpResponse& response, double seconds);

 private:
  std::mutex mu_;
  std::FILE* out_;
};

class Service {
 public:
  Service(ServiceOptions options, std::unique_ptr<Authenticator> auth, Metrics& metrics, AccessLog* log);

  // Makes `engine` the answering snapshot; returns its generation (1, 2, ...).
  uint64_t Publish(std::shared_ptr<const Engine> engine);
  std::shared_ptr<const Served> Current() const;

  void Handle(const HttpRequest& request, HttpResponse& response) const;
  void Done(const HttpRequest& request, const HttpResponse& response, double seconds) const;

  // Live transport gauges for /metrics and /readyz.
  void SetTransportState(std::function<size_t()> active, std::function<unsigned long long()> rejected,
                         std::function<bool()> draining) {
    active_ = std::move(active);
    rejected_ = std::move(rejected);
    draining_ = std::move(draining);
  }

 private:
  // `engine` is the one named in the response's header, taken once per request.
  void Scim(const HttpRequest& request, const Engine& engine, std::string_view base, std::string_view rest,
            std::string_view query, HttpResponse& response) const;
  void Check(const Engine& engine, const HttpRequest& request, std::string_view query, HttpResponse& response) const;
  void Bulk(const Engine& engine, const HttpRequest& request, HttpResponse& response) const;
  void Query(const Engine& engine, std::string_view type, std::string_view query, HttpResponse& response) const;
  void Search(const Engine& engine, std::string_view type, const HttpRequest& request, HttpResponse& response) const;
  void Resource(const Engine& engine, std::string_view type, std::string_view id, std::string_view query,
                HttpResponse& response) const;

  ServiceOptions options_;
  std::unique_ptr<Authenticator> auth_;
  Metrics& metrics_;
  AccessLog* log_;
  mutable std::mutex mu_;
  std::shared_ptr<const Served> current_;
  std::function<size_t()> active_ = [] { return size_t{0}; };
  std::function<unsigned long long()> rejected_ = [] { return 0ull; };
  std::function<bool()> draining_ = [] { return false; };
};

}  // namespace preflight::http
