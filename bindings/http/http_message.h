#pragma once
// The request and response as the service sees them: plain values, no Beast types, so
// that only transport.cc includes Beast (it is the slow header to compile) and the
// routing can be read and changed without it.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preflight::http {

struct HttpRequest {
  std::string_view method;         // "GET", "POST", ... as sent
  std::string_view target;         // path and query, percent-encoded as sent
  std::string_view authorization;  // the Authorization header, or empty
  std::string_view content_type;
  std::string_view body;
  // Every header as sent, in order (name as written, value): what --upstream forwards.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view remote;  // peer address, for the access log
  bool tls = false;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/scim+json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // For metrics and the access log (filled by the service; the transport's own
  // rejections use "transport").
  std::string_view endpoint = "transport";
  std::string user;            // the authenticated principal, when there is one
  unsigned long long generation = 0;  // the snapshot generation that answered (0: none)
};

}  // namespace preflight::http
