#pragma once
// `serve --upstream BASE [--gate]`: what Preflight does not answer itself goes to IdentityIQ.
// Every such request is forwarded verbatim (method, path and query as sent, body,
// Authorization, Content-Type) to BASE + target with libcurl, and IdentityIQ's answer
// (status, body, Content-Type, Location, ETag, Retry-After, WWW-Authenticate) comes back.
// An unreachable upstream is a 502 SCIM error, a slow one a 504, within --upstream-timeout.
// With --gate, a POST .../LaunchedWorkflows that launches a workflow with a `plan` input is
// checked first (Engine::GateWorkflowLaunch); a plan that would create a violation is
// answered 403 here and never reaches IdentityIQ.

#include <chrono>
#include <memory>
#include <string>

#include "bindings/http/http_message.h"
#include "engine/preflight.h"

namespace preflight::http {

struct ServiceOptions;

struct UpstreamOptions {
  std::string base;  // scheme://host[:port][/prefix]; the request target is appended
  bool gate = false;
  std::string ca_file;  // PEM bundle for an https upstream (default: the system's)
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{30'000};  // the whole exchange
  size_t max_response_bytes = 256u << 20;
};

class Upstream {
 public:
  explicit Upstream(UpstreamOptions options);
  const UpstreamOptions& options() const { return options_; }
  // Gate (when on), then forward; fills `response` either way.
  void Forward(const HttpRequest& request, const Engine& engine, HttpResponse& response) const;

 private:
  UpstreamOptions options_;
};

// From serve's options: installs the forwarder in `service` (nothing when `base` is
// empty). An error message for a bad value, else "".
std::string ConfigureUpstream(const std::string& base, bool gate, const std::string& timeout_seconds,
                              const std::string& ca_file, ServiceOptions& service);

}  // namespace preflight::http
