#include "bindings/http/upstream.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

#include "bindings/http/cat.h"
#include "bindings/http/json_text.h"
#include "bindings/http/service.h"

namespace preflight::http {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One easy handle per I/O thread: it keeps its connections to IdentityIQ alive between
// requests (curl_easy_reset keeps the connection cache).
struct Handle {
  CURL* curl = nullptr;
  Handle() : curl(curl_easy_init()) {}
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Headers that are the connection's, not the request's (RFC 9110 section 7.6.1), and the ones
// this hop writes itself: the body's framing, Host, and Content-Type (set above, never dropped).
bool HopByHop(std::string_view name) {
  for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                             "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host",
                             "content-length", "expect", "content-type"})
    if (EqualsIgnoreCase(name, h)) return true;
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

struct Exchange {
  std::string body;
  size_t max_bytes = 0;
  bool too_large = false;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t n = size * count;
  if (x->body.size() + n > x->max_bytes) {
    x->too_large = true;
    return 0;  // aborts the transfer
  }
  x->body.append(data, n);
  return n;
}

// The headers passed back; hop-by-hop and framing headers are the transport's own.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 100 Continue): start over
    x->content_type.clear();
    x->headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = Lower(Trim(line.substr(0, colon)));
  std::string_view value = Trim(line.substr(colon + 1));
  if (name == "content-type") {
    x->content_type = std::string(value);
  } else if (name == "location" || name == "etag" || name == "retry-after" || name == "www-authenticate" ||
             name == "last-modified" || name == "cache-control" || name == "set-cookie") {
    static const char* const kCanonical[] = {"Location", "ETag", "Retry-After", "WWW-Authenticate", "Last-Modified",
                                             "Cache-Control", "Set-Cookie"};
    static const char* const kLower[] = {"location", "etag", "retry-after", "www-authenticate", "last-modified",
                                         "cache-control", "set-cookie"};
    for (size_t i = 0; i < std::size(kLower); ++i)
      if (name == kLower[i]) x->headers.emplace_back(kCanonical[i], std::string(value));
  }
  return line.size();
}

// The path as the upstream will read it: percent-decoded, lower case. The gate matches on
// it so that "LaunchedWorkflow%73" or "launchedworkflows/" cannot slip past.
bool LaunchesWorkflow(const HttpRequest& request) {
  if (request.method != "POST") return false;
  std::string_view path = request.target.substr(0, request.target.find('?'));
  std::string decoded;
  if (!PercentDecode(path, decoded, false)) return true;  // undecodable: check it (fail closed)
  return Lower(decoded).find("launchedworkflows") != std::string::npos;
}

}  // namespace

Upstream::Upstream(UpstreamOptions options) : options_(std::move(options)) { GlobalInit(); }

void Upstream::Forward(const HttpRequest& request, const Engine& engine, HttpResponse& response) const {
  if (options_.gate && LaunchesWorkflow(request)) {
    GateVerdict verdict = engine.GateWorkflowLaunch(request.body);
    if (!verdict.allowed) {
      response.status = verdict.status;
      response.content_type = "application/scim+json";
      response.body = std::move(verdict.body);
      response.endpoint = "gate";
      return;
    }
  }
  thread_local Handle handle;
  CURL* curl = handle.curl;
  response.endpoint = "upstream";
  if (curl == nullptr) {
    response.status = 502;
    response.body = ScimError(502, "Preflight could not create an HTTP client for the upstream.");
    return;
  }
  curl_easy_reset(curl);
  std::string url = Cat(options_.base, request.target);
  std::string method(request.method);
  Exchange x;
  x.max_bytes = options_.max_response_bytes;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // verbatim: no dot-segment squashing
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect goes back to the client as it is
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "GET" && request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  // curl adds a form Content-Type to a body that names none; "Content-Type:" removes it.
  std::string content_type = Cat("Content-Type:", request.content_type.empty() ? "" : " ", request.content_type);
  headers = curl_slist_append(headers, content_type.c_str());
  // Every end-to-end header as the client sent it (Authorization, Accept, If-Match, ...): the
  // hop-by-hop ones (RFC 9110 section 7.6.1) and the framing the transfer redoes stay here.
  std::vector<std::string> forwarded;
  bool accept = false;
  for (const auto& [name, value] : request.headers) {
    if (HopByHop(name)) continue;
    accept = accept || EqualsIgnoreCase(name, "accept");
    forwarded.push_back(Cat(name, ": ", value));
  }
  for (const std::string& h : forwarded) headers = curl_slist_append(headers, h.c_str());
  if (!accept) headers = curl_slist_append(headers, "Accept: application/scim+json, application/json, */*");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  // The upstream's address is the operator's; the client sees what failed, not where.
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    response.status = 504;
    response.body = ScimError(504, Cat("IdentityIQ did not answer within ",
                                       static_cast<double>(options_.timeout.count()) / 1000, " s."));
    return;
  }
  if (rc != CURLE_OK || status < 100) {
    response.status = 502;
    response.body = ScimError(502, x.too_large ? Cat("IdentityIQ's answer exceeds ", options_.max_response_bytes,
                                                     " bytes.")
                                               : Cat("IdentityIQ could not be reached: ", curl_easy_strerror(rc), "."));
    return;
  }
  response.status = static_cast<int>(status);
  response.content_type = x.content_type;
  response.body = std::move(x.body);
  for (auto& h : x.headers) response.headers.push_back(std::move(h));
}

std::string ConfigureUpstream(const std::string& base, bool gate, const std::string& timeout_seconds,
                              const std::string& ca_file, ServiceOptions& service) {
  if (base.empty()) return gate ? "--gate needs --upstream BASE" : "";
  UpstreamOptions options;
  options.base = base;
  while (!options.base.empty() && options.base.back() == '/') options.base.pop_back();
  if (options.base.rfind("http://", 0) != 0 && options.base.rfind("https://", 0) != 0)
    return Cat("--upstream must be an http:// or https:// URL, not '", base, "'");
  options.gate = gate;
  options.ca_file = ca_file;
  if (!timeout_seconds.empty()) {
    char* end = nullptr;
    double v = std::strtod(timeout_seconds.c_str(), &end);
    if (end != timeout_seconds.c_str() + timeout_seconds.size() || !(v > 0) || v > 3600)
      return "--upstream-timeout must be a positive number of seconds (at most 3600)";
    options.timeout = std::chrono::milliseconds(static_cast<long long>(v * 1000 + 0.5));
    if (options.connect_timeout > options.timeout) options.connect_timeout = options.timeout;
  }
  auto upstream = std::make_shared<const Upstream>(std::move(options));
  service.forward = [upstream](const HttpRequest& request, const Engine& engine, HttpResponse& response) {
    upstream->Forward(request, engine, response);
  };
  return "";
}

}  // namespace preflight::http
