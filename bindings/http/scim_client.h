#pragma once
// The IdentityIQ SCIM client behind `preflight snapshot pull`: GETs against BASE with
// libcurl, TLS verified (the system's CAs, or --ca-file), connect and total timeouts,
// authentication as IdentityIQ offers it (HTTP Basic, or an OAuth 2.0 client-credentials
// token from /identityiq/oauth2/token, renewed before it expires and after a 401), and
// retries with exponential backoff on connection errors, a response cut short, 429 and 5xx,
// honouring Retry-After. Secrets live in memory only: they are read from files, never from
// the command line, and no log line names them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace preflight::http {

struct ScimClientOptions {
  std::string base;  // https://iiq.corp/identityiq/scim/v2 (no trailing slash)
  std::string ca_file;
  std::string user, password;              // Basic
  std::string client_id, client_secret;    // OAuth 2.0 client credentials
  std::string token_url;                   // default: the base's origin + /identityiq/oauth2/token
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{120'000};  // one request, whole
  int max_retries = 6;
  std::chrono::milliseconds backoff{500};       // first retry; doubles, capped by max_backoff
  std::chrono::milliseconds max_backoff{30'000};
  size_t max_response_bytes = size_t{1} << 30;  // one answer; a server sending more is an error
  std::function<void(std::string_view)> log;    // one line per retry (no secrets)
};

struct ScimClientStats {
  uint64_t requests = 0, retries = 0, bytes = 0, tokens = 0;
};

class ScimClient {
 public:
  explicit ScimClient(ScimClientOptions options);
  ~ScimClient();
  ScimClient(const ScimClient&) = delete;
  ScimClient& operator=(const ScimClient&) = delete;

  // GET BASE + path_and_query; the body of a 2xx answer. Errors: kNotFound for 404, else
  // kUnavailable with what failed after the retries (status and the start of the body).
  absl::StatusOr<std::string> Get(std::string_view path_and_query);
  const ScimClientStats& stats() const { return stats_; }

 private:
  absl::Status RenewToken();
  ScimClientOptions options_;
  void* curl_ = nullptr;
  std::string token_;
  std::chrono::steady_clock::time_point token_expiry_{};
  ScimClientStats stats_;
};

}  // namespace preflight::http
