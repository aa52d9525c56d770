// The facade: request-level policy once, then the stages. Every face calls these.

#include "engine/preflight.h"

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/image/image.h"
#include "engine/model/snapshot.h"
#include "engine/load/snapshot_builder.h"
#include "engine/wire/compile_report.h"
#include "engine/policy/check.h"
#include "engine/query/filter_cli.h"
#include "engine/query/query.h"
#include "engine/query/snapshot_query.h"
#include "engine/util/file.h"
#include "engine/util/json_writer.h"
#include "engine/wire/check_response.h"
#include "engine/wire/filter_json.h"
#include "engine/wire/list_response.h"
#include "engine/wire/snapshot_json.h"
#include "grammar/scim_filter.h"

#ifndef PREFLIGHT_VERSION
#define PREFLIGHT_VERSION "0.0.0"
#endif

namespace preflight {
namespace {

constexpr std::string_view kXmlMediaType = "application/xml";
constexpr std::string_view kJsonMediaType = "application/sailpoint.object.ProvisioningPlan+json";
// IdentityIQ's text for a plan whose XML does not parse (scim-server.jar,
// CheckedPolicyViolationService); Preflight's location follows it.
constexpr std::string_view kIiqBadXml = "XML is not valid for key: value";

Location At(std::string_view pointer) {
  Location where;
  where.pointer = std::string(pointer);
  return where;
}

// "xml" / "json" / "map" / a media type / "" (detect from the text). The map form travels
// under the +json media type, as in IdentityIQ.
absl::StatusOr<PlanFormat> ResolvePlanFormat(std::string_view name, std::string_view text) {
  if (name.empty()) {
    if (auto f = DetectPlanFormat(text)) return *f;
    return MakeError(ErrorCode::kInvalidValue, "cannot tell the plan's form (xml, json or map); give its type");
  }
  if (auto f = ParsePlanFormatName(name)) return *f;
  if (auto f = PlanFormatFromMediaType(name); f.ok()) return *f;
  return MakeError(ErrorCode::kInvalidValue,
                   absl::StrCat("unknown plan type '", ToAbsl(name),
                                "': expected xml, json, map, application/xml or ", ToAbsl(kJsonMediaType)));
}

std::string_view MediaTypeOf(PlanFormat f) { return f == PlanFormat::kXml ? kXmlMediaType : kJsonMediaType; }

// IdentityIQ answers every failure inside a check request with 400 invalidValue and the
// exception's message (research §4.5); Preflight keeps its precise location in the detail.
// Budgets stay tooMany, internal failures stay internal.
absl::Status AsCheckError(const absl::Status& status, std::string_view prefix = {}) {
  ErrorCode code = ErrorCodeOf(status);
  if (code == ErrorCode::kTooMany || code == ErrorCode::kInternal) return status;
  std::string detail = DetailOf(status);
  if (!prefix.empty()) detail = absl::StrCat(ToAbsl(prefix), ": ", detail);
  return MakeError(ErrorCode::kInvalidValue, detail, LocationOf(status));
}

absl::Status PlanError(const absl::Status& status, PlanFormat format) {
  Location where = LocationOf(status);
  if (where.pointer.empty()) where.pointer = "/plan/value";
  if (format == PlanFormat::kXml && ErrorCodeOf(status) == ErrorCode::kInvalidSyntax)
    return WithSubject(MakeErrorAfter(ErrorCode::kInvalidValue, kIiqBadXml, DetailOf(status), where), "plan");
  return WithSubject(AsCheckError(MakeError(ErrorCodeOf(status), DetailOf(status), where), "plan.value"), "plan");
}

CheckOptions ToCheckOptions(const RequestOptions& o) {
  CheckOptions c;
  c.indent = o.indent;
  c.empty_policy_list_means_all = o.empty_policy_list_means_all;
  c.empty_violations_as_array = o.empty_violations_as_array;
  c.use_constraint_index = o.use_constraint_index;
  return c;
}

size_t ErrorCount(const std::vector<Diagnostic>& diagnostics) {
  size_t n = 0;
  for (const Diagnostic& d : diagnostics) n += d.severity == Severity::kError;
  return n;
}

// The refusal of a snapshot that loaded with errors: the count and the first problems.
absl::Status Refusal(const std::vector<Diagnostic>& diagnostics, size_t errors) {
  std::string detail = absl::StrCat("snapshot refused: ", errors, errors == 1 ? " load error" : " load errors");
  size_t shown = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::kError) continue;
    if (shown++ == 3) {
      absl::StrAppend(&detail, "; and ", errors - 3, " more");
      break;
    }
    absl::StrAppend(&detail, shown == 1 ? ": " : "; ", d.where.empty() ? "" : d.where.ToString() + ": ",
                    d.object.empty() || d.object == d.where.pointer || d.object == d.where.file ? "" : d.object + ": ",
                    d.message);
  }
  absl::StrAppend(&detail, ". Fix the snapshot, or load it with --allow-partial (Python: allow_partial=True) "
                           "to check against what did load.");
  return MakeError(ErrorCode::kInvalidValue, detail);
}

std::string JoinPaths(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) absl::StrAppend(&out, out.empty() ? "" : ", ", p);
  return out;
}

// What a thread's checks reuse from one request to the next: the body's fields and the
// decoded plan with its buffers, so that a request like the last is read and decoded without
// allocating. A check started while the thread's own is running (from a response sink, say)
// gets fresh ones.
struct RequestScratch {
  CheckRequest request;
  PlanScratch plan;
};

class ScratchLease {
 public:
  ScratchLease() : scratch_(busy_ ? own_.emplace() : shared_) {
    if (&scratch_ == &shared_) busy_ = true;
  }
  ~ScratchLease() {
    if (&scratch_ != &shared_) return;
    busy_ = false;
    constexpr size_t kKeep = 64 * 1024;  // after a huge body, give its buffers back
    if (shared_.request.plan_value.capacity() > kKeep) shared_ = RequestScratch();
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  RequestScratch* operator->() { return &scratch_; }

 private:
  static thread_local RequestScratch shared_;
  static thread_local bool busy_;
  std::optional<RequestScratch> own_;
  RequestScratch& scratch_;
};
thread_local RequestScratch ScratchLease::shared_;
thread_local bool ScratchLease::busy_ = false;

}  // namespace

// ---------------------------------------------------------------------------------------
// Loading, fail-closed.

Engine::Engine(std::shared_ptr<const Snapshot> snapshot, Limits limits, bool allow_partial)
    : snapshot_(std::move(snapshot)), limits_(limits) {
  const Snapshot& s = *snapshot_;
  info_.source_hash = std::string(s.source_hash());
  info_.identities = s.identities().size();
  info_.policies = s.policies().size();
  info_.load_errors = ErrorCount(s.diagnostics());
  info_.partial = allow_partial && (info_.load_errors > 0 || s.policies().empty() || s.identities().empty());
  const LoadTimings& t = s.timings();
  // An image keeps the timings of the load it was compiled from; this engine took the open.
  info_.load_ms = s.image() ? s.image()->open_ms : t.read_ms + t.parse_ms + t.build_ms;
}

absl::StatusOr<std::shared_ptr<const Engine>> Engine::Load(const std::vector<std::string>& paths,
                                                           const EngineOptions& options) {
  if (paths.empty()) return MakeError(ErrorCode::kInvalidValue, "no snapshot path given");
  // A compiled image (`snapshot compile`) is opened, not parsed; it stands alone.
  bool image = false;
  for (const std::string& p : paths) image = image || IsImageFile(p);
  if (image && paths.size() > 1)
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("a compiled image is a whole snapshot: give it alone, not with other paths (",
                                  JoinPaths(paths), ")"));
  ImageOpenOptions open;
  if (options.image_verify == "lazy") open.verify = ImageVerify::kLazy;
  else if (options.image_verify != "full")
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("image verify must be full or lazy, not '", options.image_verify, "'"));
  LoadOptions load;
  load.limits = options.limits;
  load.progress = options.progress;
  auto snapshot = image ? OpenImage(paths[0], open) : LoadSnapshot(paths, load);
  if (!snapshot.ok()) return snapshot.status();
  const Snapshot& s = **snapshot;
  const size_t errors = ErrorCount(s.diagnostics());
  if (errors > 0 && !options.allow_partial) return Refusal(s.diagnostics(), errors);
  // An empty policy set or population answers "no violation" to everything: never what an
  // operator meant to deploy, so it too needs --allow-partial.
  if (!options.allow_partial && s.policies().empty())
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("snapshot refused: no policy was loaded from ", JoinPaths(paths),
                                  " (every check would pass); load it with --allow-partial if that is meant"));
  if (!options.allow_partial && s.identities().empty())
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("snapshot refused: no identity was loaded from ", JoinPaths(paths),
                                  "; load it with --allow-partial if that is meant"));
  auto engine = std::make_shared<Engine>(*std::move(snapshot), options.limits, options.allow_partial);
  if (!image) engine->paths_ = paths;  // an image has no sources to read again (WithChanges)
  return std::shared_ptr<const Engine>(std::move(engine));
}

absl::StatusOr<std::string> Engine::WriteImage(const std::string& path, int indent) const {
  // A lazily verified image is written again only once verified: never its corruption
  // under fresh checksums.
  if (const preflight::ImageVerification* v = snapshot_->image_verification()) v->Wait();
  if (absl::Status failed = Health(); !failed.ok()) return failed;
  auto bytes = preflight::WriteImage(*snapshot_, path);
  if (!bytes.ok()) return bytes.status();
  JsonWriter w(indent);
  w.BeginObject().Field("image", path).Key("bytes").Int(*bytes).Key("formatVersion").Int(kImageFormatVersion);
  w.Field("sourceHash", info_.source_hash).Key("identities").Int(info_.identities);
  w.Key("policies").Int(info_.policies).Key("loadErrors").Int(info_.load_errors);
  w.Key("partial").Bool(info_.partial).EndObject();
  return w.Take();
}

// ---------------------------------------------------------------------------------------
// Checks.

absl::Status Engine::CheckRequestJson(CheckRequest request, const RequestOptions& options, JsonSink& response) const {
  // A corrupt image fails the check (closed), whether known before or found on the way.
  ScratchLease scratch;
  return FailClosed(*snapshot_, [&] { return CheckUnguarded(request, options, response, scratch->plan); });
}

absl::Status Engine::CheckUnguarded(CheckRequest& request, const RequestOptions& options, JsonSink& response,
                                    PlanScratch& plans) const {
  request.explain = options.explain;
  // The body's reader refuses these; a request read elsewhere gets the same words.
  if (request.identity.empty()) return MakeError(ErrorCode::kInvalidValue, "Identity name is required.", At("/identity"));
  auto format = PlanFormatFromMediaType(request.plan_type);
  const absl::Status decoded =
      format.ok() ? DecodePlanInto(request.plan_value, *format, limits_, plans) : absl::OkStatus();
  // Whatever the policies (even with none active) and the plan, an unknown identity is the
  // request's first error: a gate must not pass a request for someone it does not know. With
  // the plan decoded and a policy active, the check's own lookup says so (in these words), its
  // cache misses overlapped with the plan strings' lookups; otherwise it is looked up here.
  const bool check_looks_up = format.ok() && decoded.ok() && snapshot_->any_active_policy();
  if (!check_looks_up && snapshot_->FindIdentity(request.identity) == kNoIndex)
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("Identity '", request.identity, "' not found in the snapshot"), At("/identity"));
  if (!format.ok()) {
    Location where = LocationOf(format.status());
    if (where.pointer.empty()) where.pointer = "/plan/type";
    return MakeError(ErrorCode::kInvalidValue, DetailOf(format.status()), where);
  }
  if (!decoded.ok()) return PlanError(decoded, *format);
  CheckOptions check_options = ToCheckOptions(options);
  auto result = Check(*snapshot_, request, plans.plan, check_options);
  if (!result.ok()) return AsCheckError(result.status());
  if (info_.partial) {
    result->diagnostics.push_back(
        {Severity::kWarning, ErrorCode::kInvalidValue,
         absl::StrCat("partial snapshot (--allow-partial): ", info_.load_errors, " load errors, ", info_.policies,
                      " policies, ", info_.identities, " identities; this answer may miss violations"),
         {}, "Snapshot"});
  }
  WriteCheckResponse(response, request, *result, check_options);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Engine::CheckRequestJson(CheckRequest request, const RequestOptions& options) const {
  JsonWriter text(options.indent);
  text.Reserve(request.plan_value.size() + request.plan_value.size() / 4 + 512);  // the plan is echoed
  if (absl::Status s = CheckRequestJson(std::move(request), options, text); !s.ok()) return s;
  return text.Take();
}

absl::Status Engine::CheckJson(std::string_view request_body, const RequestOptions& options,
                               JsonSink& response) const {
  ScratchLease scratch;
  if (absl::Status read = ParseCheckRequestInto(request_body, limits_, scratch->request); !read.ok()) {
    // A body that is not JSON at all keeps invalidSyntax; a body that is JSON but not a
    // valid request is IdentityIQ's invalidValue.
    if (ErrorCodeOf(read) == ErrorCode::kInvalidSyntax) return read;
    return AsCheckError(read);
  }
  return FailClosed(*snapshot_, [&] { return CheckUnguarded(scratch->request, options, response, scratch->plan); });
}

absl::StatusOr<std::string> Engine::CheckJson(std::string_view request_body, const RequestOptions& options) const {
  JsonWriter text(options.indent);
  text.Reserve(request_body.size() + 512);  // the response echoes the body's plan, escaped as there
  if (absl::Status s = CheckJson(request_body, options, text); !s.ok()) return s;
  return text.Take();
}

absl::Status Engine::CheckFieldsJson(const CheckFields& fields, const RequestOptions& options,
                                     JsonSink& response) const {
  if (fields.identity.empty())
    return MakeError(ErrorCode::kInvalidValue, "Identity name is required.", At("/identity"));
  auto format = ResolvePlanFormat(fields.plan_type, fields.plan);
  if (!format.ok()) return MakeError(ErrorCode::kInvalidValue, DetailOf(format.status()), At("/plan/type"));
  CheckRequest request;
  request.identity = fields.identity;
  request.plan_value = fields.plan;
  // A media type given as such is kept as the caller wrote it (it is echoed back).
  request.plan_type = std::string(ParsePlanFormatName(fields.plan_type) || fields.plan_type.empty()
                                      ? MediaTypeOf(*format)
                                      : std::string_view(fields.plan_type));
  request.policies = fields.policies;
  return CheckRequestJson(std::move(request), options, response);
}

absl::StatusOr<std::string> Engine::CheckFieldsJson(const CheckFields& fields, const RequestOptions& options) const {
  JsonWriter text(options.indent);
  text.Reserve(fields.plan.size() + fields.plan.size() / 4 + 512);  // the plan is echoed
  if (absl::Status s = CheckFieldsJson(fields, options, text); !s.ok()) return s;
  return text.Take();
}

absl::Status Engine::BatchBudget(size_t requests) const {
  if (requests <= limits_.max_batch_requests) return absl::OkStatus();
  return MakeError(ErrorCode::kTooMany,
                   absl::StrCat("batch of ", requests, " requests exceeds the limit of ", limits_.max_batch_requests));
}

absl::StatusOr<std::vector<absl::StatusOr<std::string>>> Engine::CheckBatchJson(
    const std::vector<std::string>& request_bodies, const RequestOptions& options) const {
  if (absl::Status s = BatchBudget(request_bodies.size()); !s.ok()) return s;
  std::vector<absl::StatusOr<std::string>> out;
  out.reserve(request_bodies.size());
  for (const std::string& body : request_bodies) out.push_back(CheckJson(body, options));
  return out;
}

// ---------------------------------------------------------------------------------------
// Compile, query, stats.

absl::StatusOr<std::string> Engine::CompileJson(std::string_view identity, std::string_view plan_text,
                                                std::string_view plan_type, int indent) const {
  auto format = ResolvePlanFormat(plan_type, plan_text);
  if (!format.ok()) return format.status();
  auto plan = DecodePlan(plan_text, *format, limits_);
  if (!plan.ok()) return WithSubject(plan.status(), "plan");
  return FailClosed(*snapshot_, [&] { return CompileReportJson(*snapshot_, identity, *plan, indent); });
}

absl::StatusOr<std::string> Engine::QueryJson(const QueryParams& params) const {
  QueryOptions options;
  options.parse = FilterParseOptions::From(limits_);
  options.cache_bytes = limits_.max_query_cache_bytes;
  options.filter = params.filter;
  options.attributes = params.attributes;
  options.excluded_attributes = params.excluded_attributes;
  options.sort_by = params.sort_by;
  if (!params.sort_order.empty() && params.sort_order != "ascending" && params.sort_order != "descending")
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("sortOrder must be ascending or descending, not '", params.sort_order, "'"),
                     At("sortOrder"));
  options.descending = params.sort_order == "descending";
  if (params.start_index) options.start_index = *params.start_index;
  options.count = params.count;
  return FailClosed(*snapshot_, [&]() -> absl::StatusOr<std::string> {
    auto page = QuerySnapshot(*snapshot_, params.resource_type, options);
    if (!page.ok()) return page.status();
    return ListResponseJson(*page);
  });
}

absl::StatusOr<std::string> Engine::ResourceJson(std::string_view resource_type, std::string_view id,
                                                 const std::vector<std::string>& attributes,
                                                 const std::vector<std::string>& excluded_attributes) const {
  return FailClosed(*snapshot_, [&] {
    return SnapshotResource(*snapshot_, resource_type, id, attributes, excluded_attributes,
                            limits_.max_query_cache_bytes);
  });
}

absl::Status Engine::Health() const { return snapshot_->ImageFailure(); }

std::string_view Engine::ImageVerification() const {
  const preflight::ImageVerification* v = snapshot_->image_verification();
  return v == nullptr ? "full" : v->name();
}

std::string Engine::StatsJson(int indent) const {
  // The counts read every identity: on a lazily verified image a corrupt record is this
  // call's answer, as a SCIM Error (the stats have no other way to fail).
  try {
    return SnapshotStatsJson(*snapshot_, indent);
  } catch (const CorruptRecord& e) {
    return ScimErrorJson(e.status());
  }
}

std::string Engine::DiagnosticsJson(int indent) const { return preflight::DiagnosticsJson(snapshot_->diagnostics(), indent); }

// ---------------------------------------------------------------------------------------
// Operations without a snapshot.

absl::StatusOr<std::string> ConvertPlan(std::string_view text, std::string_view to, std::string_view from, int indent,
                                        const Limits& limits) {
  if (to != "xml" && to != "json")
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("cannot encode a plan as '", ToAbsl(to), "': expected xml or json"));
  auto format = ResolvePlanFormat(from, text);
  if (!format.ok()) return format.status();
  auto plan = DecodePlan(text, *format, limits);
  if (!plan.ok()) return WithSubject(plan.status(), "plan");
  if (to == "json") return EncodePlanJson(*plan, indent);
  std::string xml = EncodePlanXml(*plan);
  while (!xml.empty() && xml.back() == '\n') xml.pop_back();
  // A value with a character XML cannot carry (U+0001, say, which JSON and the map form
  // can) would be written as a reference the XML reader refuses: say so instead of writing
  // a plan nobody can read back.
  Limits reread = limits;  // the XML may be longer and deeper than the text it came from
  reread.max_input_bytes = SIZE_MAX;
  reread.max_nesting_depth = kMaxNestingDepthCap;
  reread.max_plan_values = reread.max_plan_requests = SIZE_MAX;
  if (auto back = DecodePlanXml(xml, reread); !back.ok())
    return WithSubject(MakeError(ErrorCode::kInvalidValue,
                                 absl::StrCat("the plan cannot be written as XML (", DetailOf(back.status()),
                                              "); keep it in the JSON form")),
                       "plan");
  return xml;
}

std::string_view DetectPlanFormatName(std::string_view text) {
  auto f = DetectPlanFormat(text);
  return f ? PlanFormatName(*f) : std::string_view();
}

absl::StatusOr<std::string> FilterSexpr(std::string_view filter, const Limits& limits) {
  return FilterToSexpr(filter, limits);
}

absl::StatusOr<std::string> FilterAstJson(std::string_view filter, const Limits& limits) {
  auto ast = ParseScimFilter(filter, FilterParseOptions::From(limits));
  if (!ast.ok()) return ast.status();
  return FilterNodeJson(ast->root);
}

absl::StatusOr<std::string> PathSexpr(std::string_view path, const Limits& limits) {
  return PathToSexpr(path, limits);
}

absl::StatusOr<bool> EvalFilter(std::string_view filter, std::string_view resource_json, const Limits& limits) {
  return EvalFilterOnJson(filter, resource_json, limits);
}

absl::StatusOr<std::string> ReadInput(const std::string& path) { return ReadFileToString(path); }

std::string_view Version() { return PREFLIGHT_VERSION; }

}  // namespace preflight
