#include "bindings/http/service.h"

#include <charconv>
#include <ctime>

#include "bindings/http/cat.h"
#include "bindings/http/json_text.h"
#include "bindings/http/scim_docs.h"
#include "bindings/http/scim_json.h"

namespace preflight::http {
namespace {

constexpr char kSnapshotHeader[] = "X-Preflight-Snapshot";
constexpr char kCheckUrn[] = "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation:";
constexpr char kNoAccess[] = "User does not have access.";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

void Json(HttpResponse& response, int status, std::string body, std::string_view endpoint) {
  response.status = status;
  response.body = std::move(body);
  response.endpoint = endpoint;
}

void Error(HttpResponse& response, int status, std::string_view detail, std::string_view scim_type,
           std::string_view endpoint) {
  Json(response, status, ScimError(status, detail, scim_type), endpoint);
}

void EngineError(HttpResponse& response, const absl::Status& status, std::string_view endpoint) {
  Json(response, HttpStatusOf(status), ScimErrorJson(status), endpoint);
}

// The query string as decoded name/value pairs, in order.
bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>& out) {
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name, value;
    if (!PercentDecode(item.substr(0, eq), name, true)) return false;
    if (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), value, true)) return false;
    out.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

const std::string* Param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [n, v] : params)
    if (EqualsNoCase(n, name)) found = &v;
  return found;
}

absl::StatusOr<int64_t> IntParam(const std::string& text, std::string_view name) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size())
    return MakeError(ErrorCode::kInvalidValue, Cat(name, " must be an integer, not '", text, "'"));
  return v;
}

// The check response with only the top-level attributes asked for (RFC 7644 section
// 3.9): `schemas` is always returned; `attributes` wins over `excludedAttributes`.
// Names may carry the CheckedPolicyViolation schema URN; a sub-attribute path
// (violations.policyName) selects its top-level attribute.
std::string ProjectCheck(std::string_view json, const std::vector<std::string>& attributes,
                         const std::vector<std::string>& excluded) {
  std::vector<std::pair<std::string_view, std::string_view>> members;
  if (!SplitTopLevel(json, members)) return std::string(json);
  auto normalise = [](std::string_view name) {
    std::string lower = Lower(name);
    std::string urn = Lower(kCheckUrn);
    if (lower.rfind(urn, 0) == 0) lower = lower.substr(urn.size());
    return lower.substr(0, lower.find('.'));
  };
  std::vector<std::string> wanted, dropped;
  for (const auto& a : attributes) wanted.push_back(normalise(a));
  for (const auto& a : excluded) dropped.push_back(normalise(a));
  auto listed = [](const std::vector<std::string>& names, std::string_view key) {
    for (const auto& n : names)
      if (EqualsNoCase(n, key)) return true;
    return false;
  };
  std::string out = "{";
  bool first = true;
  for (auto [key, value] : members) {
    bool keep = key == "schemas" || (!wanted.empty() ? listed(wanted, key) : !listed(dropped, key));
    if (!keep) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += key;
    out += "\":";
    out += value;
  }
  out += '}';
  return out;
}

bool Segments(std::string_view rest, std::vector<std::string>& out) {
  size_t start = rest.empty() || rest[0] != '/' ? 0 : 1;
  while (start < rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string_view::npos) slash = rest.size();
    std::string decoded;
    if (!PercentDecode(rest.substr(start, slash - start), decoded, false)) return false;
    out.push_back(std::move(decoded));
    start = slash + 1;
  }
  return true;
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void AccessLog::Write(const HttpRequest& request, const HttpResponse& response, double seconds) {
  std::string line = "{\"time\":\"" + Timestamp() + "\",\"remote\":";
  AppendJsonString(line, request.remote);
  line += ",\"method\":";
  AppendJsonString(line, request.method);
  line += ",\"path\":";
  AppendJsonString(line, request.target.substr(0, request.target.find('?')));
  CatTo(line, ",\"status\":", response.status, ",\"bytes\":", response.body.empty() ? "0" : response.body,
                  ",\"seconds\":", seconds, ",\"endpoint\":\"", response.endpoint, "\",\"generation\":",
                  response.generation, ",\"user\":");
  AppendJsonString(line, response.user);
  line += "}\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

Service::Service(ServiceOptions options, std::unique_ptr<Authenticator> auth, Metrics& metrics, AccessLog* log)
    : options_(std::move(options)), auth_(std::move(auth)), metrics_(metrics), log_(log) {}

uint64_t Service::Publish(std::shared_ptr<const Engine> engine) {
  auto served = std::make_shared<Served>();
  const EngineInfo& info = engine->info();
  served->engine = std::move(engine);
  std::shared_ptr<const Served> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    served->generation = current_ ? current_->generation + 1 : 1;
    served->header = Cat("generation=", served->generation, "; hash=", info.source_hash);
    old = std::move(current_);
    current_ = served;
  }
  metrics_.generation.store(served->generation);
  metrics_.identities.store(info.identities);
  metrics_.policies.store(info.policies);
  metrics_.load_seconds.store(info.load_ms / 1000.0);
  return served->generation;  // `old` is released here, outside the lock
}

std::shared_ptr<const Served> Service::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void Service::Done(const HttpRequest& request, const HttpResponse& response, double seconds) const {
  metrics_.Count(response.endpoint, response.status, seconds);
  if (log_) log_->Write(request, response, seconds);
}

void Service::Handle(const HttpRequest& request, HttpResponse& response) const {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  std::shared_ptr<const Served> served = Current();
  response.generation = served->generation;
  response.headers.emplace_back(kSnapshotHeader, served->header);

  if (path == "/healthz") {
    response.content_type = "application/json";
    return Json(response, 200, R"({"status":"ok"})", "health");
  }
  if (path == "/readyz") {
    response.content_type = "application/json";
    if (draining_()) return Json(response, 503, R"({"status":"draining"})", "ready");
    // An image opened with --image-verify lazy whose background verification failed: every
    // request fails closed, so this instance is not ready.
    if (absl::Status health = served->engine->Health(); !health.ok())
      return Json(response, 503, Cat(R"({"status":"corrupt","detail":)", JsonString(ToStd(health.message())), "}"), "ready");
    return Json(response, 200,
                Cat(R"({"status":"ready","generation":)", served->generation, R"(,"hash":")",
                             served->engine->info().source_hash, "\"}"),
                "ready");
  }

  std::string_view base;
  bool under_base = false;
  for (const std::string& b : options_.base_paths) {  // "" is the root (--base-path /)
    if (path.size() >= b.size() && path.substr(0, b.size()) == b && (path.size() == b.size() || path[b.size()] == '/')) {
      base = b;
      under_base = true;
      break;
    }
  }
  if (!under_base && path != "/metrics" && options_.forward) return options_.forward(request, *served->engine, response);
  if (!under_base && path != "/metrics")
    return Error(response, 404, Cat("No endpoint at ", path, "; the SCIM API is under ", options_.base_paths[0], "."),
                 "", "notFound");

  if (auth_ && auth_->enabled()) {
    response.user = auth_->Authenticate(request.authorization);
    if (response.user.empty()) {
      std::string challenge = auth_->users() ? "Basic realm=\"preflight\"" : "Bearer realm=\"preflight\"";
      response.headers.emplace_back("WWW-Authenticate", challenge);
      return Error(response, 401, kNoAccess, "", "unauthorized");
    }
  }

  if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return Json(response, 200, metrics_.Render(served->engine->info().source_hash, active_(), rejected_(), draining_()),
                "metrics");
  }
  Scim(request, *served->engine, base, path.substr(base.size()), query, response);
}

void Service::Scim(const HttpRequest& request, const Engine& engine, std::string_view base, std::string_view rest,
                   std::string_view query, HttpResponse& response) const {
  std::vector<std::string> seg;
  if (!Segments(rest, seg)) return Error(response, 400, "The path is not validly percent-encoded.", "invalidPath", "other");
  std::string_view method = request.method;
  bool get = method == "GET", post = method == "POST";
  auto unsupported = [&] {
    if (options_.forward) return options_.forward(request, engine, response);
    Error(response, 501,
          Cat("Preflight does not serve ", method, " ", base, rest,
                       ": it answers checks and reads from a snapshot; writes and workflows go to IdentityIQ."),
          "", "unsupported");
  };
  DiscoveryFacts facts;
  facts.base = base;
  facts.bulk_max_operations = std::min(options_.bulk_max_operations, engine.limits().max_batch_requests);
  facts.max_payload_bytes = options_.max_body_bytes;
  facts.max_results = options_.default_count;
  facts.basic = auth_ && auth_->users() > 0;
  facts.bearer = auth_ && auth_->tokens() > 0;

  if (seg.size() == 1 && seg[0] == "CheckedPolicyViolations") {
    if (post) return Check(engine, request, query, response);
    return unsupported();
  }
  if (seg.size() == 1 && seg[0] == "Bulk") {
    if (post) return Bulk(engine, request, response);
    return unsupported();
  }
  if (get && seg.size() == 1 && seg[0] == "ServiceProviderConfig")
    return Json(response, 200, ServiceProviderConfigJson(facts), "config");
  if (get && seg.size() == 1 && seg[0] == "ResourceTypes") return Json(response, 200, ResourceTypesJson(facts), "config");
  if (get && seg.size() == 2 && seg[0] == "ResourceTypes") {
    if (auto doc = ResourceTypeJson(facts, seg[1])) return Json(response, 200, *std::move(doc), "config");
    return Error(response, 404, Cat("Resource type ", seg[1], " not found."), "", "config");
  }
  if (get && seg.size() == 1 && seg[0] == "Schemas") return Json(response, 200, SchemasJson(), "config");
  if (get && seg.size() == 2 && seg[0] == "Schemas") {
    if (auto doc = SchemaJson(seg[1])) return Json(response, 200, *std::move(doc), "config");
    return Error(response, 404, Cat("Schema ", seg[1], " not found."), "", "config");
  }
  if (!seg.empty()) {
    std::string_view type = QueryableType(seg[0]);
    if (!type.empty()) {
      if (get && seg.size() == 1) return Query(engine, type, query, response);
      if (post && seg.size() == 2 && seg[1] == ".search") return Search(engine, type, request, response);
      if (get && seg.size() == 2) return Resource(engine, type, seg[1], query, response);
    }
  }
  unsupported();
}

void Service::Check(const Engine& engine, const HttpRequest& request, std::string_view query,
                    HttpResponse& response) const {
  absl::StatusOr<std::string> result = engine.CheckJson(request.body);
  if (!result.ok()) return EngineError(response, result.status(), "check");
  if (!query.empty()) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!ParseQuery(query, params))
      return Error(response, 400, "The query string is not validly percent-encoded.", "invalidSyntax", "check");
    const std::string* attributes = Param(params, "attributes");
    const std::string* excluded = Param(params, "excludedAttributes");
    if (attributes || excluded) {
      return Json(response, options_.check_status,
                  ProjectCheck(*result, attributes ? SplitAttributeList(*attributes) : std::vector<std::string>{},
                               excluded ? SplitAttributeList(*excluded) : std::vector<std::string>{}),
                  "check");
    }
  }
  Json(response, options_.check_status, *std::move(result), "check");
}

void Service::Bulk(const Engine& engine, const HttpRequest& request, HttpResponse& response) const {
  auto bulk = ParseBulkRequest(request.body, std::min(options_.bulk_max_operations, engine.limits().max_batch_requests));
  if (!bulk.ok()) {
    if (bulk.status().code() == absl::StatusCode::kResourceExhausted)
      return Error(response, 413, std::string(bulk.status().message()), "tooMany", "bulk");
    return Error(response, 400, std::string(bulk.status().message()), "invalidSyntax", "bulk");
  }
  std::string out = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],"Operations":[)";
  int64_t errors = 0;
  bool first = true;
  for (const BulkOperation& op : bulk->operations) {
    std::string_view path = op.path;
    path = path.substr(0, path.find('?'));
    for (const std::string& b : options_.base_paths)
      if (path.substr(0, b.size()) == b) path.remove_prefix(b.size());
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    int status = 0;
    std::string body;
    if (!EqualsNoCase(op.method, "POST") || path != "CheckedPolicyViolations") {
      status = 501;
      body = ScimError(501, Cat("Preflight's Bulk endpoint serves POST /CheckedPolicyViolations only, not ",
                                         op.method, " ", op.path, "."));
    } else if (!op.data) {
      status = 400;
      body = ScimError(400, "The operation has no 'data'.", "invalidSyntax");
    } else {
      absl::StatusOr<std::string> result = engine.CheckJson(*op.data);
      if (result.ok()) {
        status = options_.check_status;
        body = *std::move(result);
      } else {
        status = HttpStatusOf(result.status());
        body = ScimErrorJson(result.status());
      }
    }
    if (!first) out += ',';
    first = false;
    out += "{\"method\":";
    AppendJsonString(out, op.method);
    if (op.bulk_id) {
      out += ",\"bulkId\":";
      AppendJsonString(out, *op.bulk_id);
    }
    CatTo(out, ",\"status\":\"", status, "\",\"response\":", body, "}");
    int64_t tolerated = bulk->fail_on_errors.value_or(0) > 0 ? *bulk->fail_on_errors : INT64_MAX;  // 0: no limit
    if (status >= 400 && ++errors >= tolerated) break;
  }
  out += "]}";
  Json(response, 200, std::move(out), "bulk");
}

void Service::Query(const Engine& engine, std::string_view type, std::string_view query, HttpResponse& response) const {
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseQuery(query, params))
    return Error(response, 400, "The query string is not validly percent-encoded.", "invalidSyntax", "query");
  QueryParams q;
  q.resource_type = std::string(type);
  if (auto* v = Param(params, "filter")) q.filter = *v;
  if (auto* v = Param(params, "attributes")) q.attributes = SplitAttributeList(*v);
  if (auto* v = Param(params, "excludedAttributes")) q.excluded_attributes = SplitAttributeList(*v);
  if (auto* v = Param(params, "sortBy")) q.sort_by = *v;
  if (auto* v = Param(params, "sortOrder")) q.sort_order = *v;
  if (auto* v = Param(params, "startIndex")) {
    auto n = IntParam(*v, "startIndex");
    if (!n.ok()) return EngineError(response, n.status(), "query");
    q.start_index = *n;
  }
  if (auto* v = Param(params, "count")) {
    auto n = IntParam(*v, "count");
    if (!n.ok()) return EngineError(response, n.status(), "query");
    q.count = *n;
  } else {
    q.count = options_.default_count;
  }
  absl::StatusOr<std::string> result = engine.QueryJson(q);
  if (!result.ok()) return EngineError(response, result.status(), "query");
  Json(response, 200, *std::move(result), "query");
}

void Service::Search(const Engine& engine, std::string_view type, const HttpRequest& request,
                     HttpResponse& response) const {
  auto search = ParseSearchRequest(request.body);
  if (!search.ok()) return Error(response, 400, std::string(search.status().message()), "invalidSyntax", "search");
  QueryParams q;
  q.resource_type = std::string(type);
  q.filter = search->filter;
  q.attributes = search->attributes;
  q.excluded_attributes = search->excluded_attributes;
  q.sort_by = search->sort_by;
  q.sort_order = search->sort_order;
  q.start_index = search->start_index;
  q.count = search->count ? search->count : std::optional<int64_t>(options_.default_count);
  absl::StatusOr<std::string> result = engine.QueryJson(q);
  if (!result.ok()) return EngineError(response, result.status(), "search");
  Json(response, 200, *std::move(result), "search");
}

void Service::Resource(const Engine& engine, std::string_view type, std::string_view id, std::string_view query,
                       HttpResponse& response) const {
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseQuery(query, params))
    return Error(response, 400, "The query string is not validly percent-encoded.", "invalidSyntax", "resource");
  std::vector<std::string> attributes, excluded;
  if (auto* v = Param(params, "attributes")) attributes = SplitAttributeList(*v);
  if (auto* v = Param(params, "excludedAttributes")) excluded = SplitAttributeList(*v);
  absl::StatusOr<std::string> result = engine.ResourceJson(type, id, attributes, excluded);
  if (!result.ok()) return EngineError(response, result.status(), "resource");
  Json(response, 200, *std::move(result), "resource");
}

}  // namespace preflight::http
