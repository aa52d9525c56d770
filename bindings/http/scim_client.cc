#include "bindings/http/scim_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "bindings/http/cat.h"
#include "simdjson.h"

namespace preflight::http {
namespace {

struct Answer {
  std::string body;
  std::string retry_after;
  size_t max_bytes = static_cast<size_t>(-1);
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<Answer*>(user);
  if (a->body.size() + size * count > a->max_bytes) {
    a->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  a->body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  auto* a = static_cast<Answer*>(user);
  if (line.size() > 12) {
    std::string name(line.substr(0, 12));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "retry-after:") {
      std::string_view v = line.substr(12);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
      a->retry_after = std::string(v);
    }
  }
  return line.size();
}

bool Transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Retry-After as delta-seconds (the HTTP-date form is rare on SCIM servers: it falls back
// to the backoff).
std::chrono::milliseconds RetryAfter(const std::string& value) {
  char* end = nullptr;
  double s = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !(s >= 0)) return std::chrono::milliseconds(-1);
  return std::chrono::milliseconds(static_cast<long long>(std::min(s, 3600.0) * 1000));
}

std::string Origin(const std::string& base) {
  size_t scheme = base.find("://");
  size_t slash = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? base : base.substr(0, slash);
}

std::string Snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

ScimClient::ScimClient(ScimClientOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (options_.token_url.empty() && !options_.client_id.empty()) {
    // IdentityIQ's token endpoint sits beside its SCIM API: .../identityiq/oauth2/token.
    size_t at = options_.base.find("/identityiq/");
    options_.token_url =
        (at == std::string::npos ? Origin(options_.base) + "/identityiq" : options_.base.substr(0, at + 11)) +
        "/oauth2/token";
  }
}

ScimClient::~ScimClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::Status ScimClient::RenewToken() {
  CURL* curl = static_cast<CURL*>(curl_);
  std::chrono::milliseconds wait = options_.backoff;
  for (int attempt = 0;; ++attempt) {
    curl_easy_reset(curl);
    Answer answer;
    answer.max_bytes = options_.max_response_bytes;
    curl_easy_setopt(curl, CURLOPT_URL, options_.token_url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    // client_secret_basic (RFC 6749 section 2.3.1): the id and secret in the Authorization header.
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.client_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.client_secret.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    ++stats_.requests;
    bool retry = (rc != CURLE_OK && Transient(rc)) || status == 429 || status >= 500;
    if (rc == CURLE_OK && status == 200) {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      std::string_view token;
      if (parser.parse(answer.body).get(doc) != simdjson::SUCCESS ||
          doc["access_token"].get_string().get(token) != simdjson::SUCCESS || token.empty())
        return absl::UnavailableError("the OAuth token endpoint's answer holds no access_token");
      token_ = std::string(token);
      int64_t expires_in = 3600;
      if (doc["expires_in"].get_int64().get(expires_in) != simdjson::SUCCESS) {
        double d = 0;
        if (doc["expires_in"].get_double().get(d) == simdjson::SUCCESS) expires_in = static_cast<int64_t>(d);
      }
      // Renew a little early: a tenth of the lifetime, at most 30 s.
      auto life = std::chrono::seconds(std::max<int64_t>(expires_in, 1));
      auto margin = std::min<std::chrono::milliseconds>(std::chrono::seconds(30), life / 10);
      token_expiry_ = std::chrono::steady_clock::now() + life - margin;
      ++stats_.tokens;
      return absl::OkStatus();
    }
    if (!retry || attempt >= options_.max_retries)
      return absl::UnavailableError(Cat("the OAuth token endpoint refused the client credentials (",
                                        rc != CURLE_OK ? curl_easy_strerror(rc) : "", rc != CURLE_OK ? "" : "HTTP ",
                                        rc != CURLE_OK ? 0L : status, ")"));
    ++stats_.retries;
    auto after = RetryAfter(answer.retry_after);
    std::this_thread::sleep_for(after.count() >= 0 ? std::max(after, wait) : wait);
    wait = std::min(wait * 2, options_.max_backoff);
  }
}

absl::StatusOr<std::string> ScimClient::Get(std::string_view path_and_query) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) return absl::InternalError("could not create an HTTP client");
  std::string url = Cat(options_.base, path_and_query);
  std::chrono::milliseconds wait = options_.backoff;
  bool renewed_after_401 = false;
  for (int attempt = 0;; ++attempt) {
    const bool oauth = !options_.client_id.empty();
    if (oauth && (token_.empty() || std::chrono::steady_clock::now() >= token_expiry_)) {
      if (absl::Status s = RenewToken(); !s.ok()) return s;
    }
    curl_easy_reset(curl);
    Answer answer;
    answer.max_bytes = options_.max_response_bytes;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/scim+json, application/json");
    std::string bearer;
    if (oauth) {
      bearer = Cat("Authorization: Bearer ", token_);
      headers = curl_slist_append(headers, bearer.c_str());
    } else if (!options_.user.empty()) {
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl, CURLOPT_USERNAME, options_.user.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    ++stats_.requests;
    if (rc == CURLE_OK && status >= 200 && status < 300) {
      stats_.bytes += answer.body.size();
      return std::move(answer.body);
    }
    if (rc == CURLE_OK && status == 401 && oauth && !renewed_after_401) {  // expired early, or revoked: once more
      renewed_after_401 = true;
      token_.clear();
      continue;
    }
    if (rc == CURLE_OK && status == 404) return absl::NotFoundError(Cat("GET ", path_and_query, ": 404"));
    if (answer.too_large)
      return absl::UnavailableError(Cat("GET ", path_and_query, ": the answer exceeds ", options_.max_response_bytes,
                                        " bytes"));
    bool retry = (rc != CURLE_OK && Transient(rc)) || status == 429 || status >= 500;
    std::string what = rc != CURLE_OK ? std::string(curl_easy_strerror(rc))
                                      : Cat("HTTP ", status, " ", Snippet(answer.body));
    if (!retry || attempt >= options_.max_retries)
      return absl::UnavailableError(Cat("GET ", path_and_query, " failed", attempt ? Cat(" after ", attempt + 1, " tries") : "",
                                        ": ", what));
    ++stats_.retries;
    auto after = RetryAfter(answer.retry_after);
    std::chrono::milliseconds sleep = after.count() >= 0 ? std::max(after, wait) : wait;
    if (options_.log)
      options_.log(Cat("retry ", attempt + 1, "/", options_.max_retries, " of GET ", path_and_query, " in ",
                       static_cast<double>(sleep.count()) / 1000, " s: ", what));
    std::this_thread::sleep_for(sleep);
    wait = std::min(wait * 2, options_.max_backoff);
  }
}

}  // namespace preflight::http
