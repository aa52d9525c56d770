#pragma once
// The one door into Preflight. Every face (the CLI, the Python module, the C ABI, the
// HTTP service) includes this header and nothing else of the engine: it takes text and
// plain values in and gives JSON text (or a failed absl::Status) out, so that every face
// answers with the same bytes. Request-level policy lives here, once: plan media types,
// which part of a request failed, the batch budget, sortOrder, and the fail-closed load.
//
//   auto engine = preflight::Engine::Load({"snapshot/"});
//   if (!engine.ok()) return fail(engine.status());          // a broken snapshot is refused
//   absl::StatusOr<std::string> response = (*engine)->CheckJson(request_body);
//   if (!response.ok()) reply(preflight::HttpStatusOf(response.status()),
//                             preflight::ScimErrorJson(response.status()));
//
// An Engine is immutable and thread-safe: call it from any number of threads. To replace
// the snapshot while calls run, keep it in a SharedEngine and Swap().

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/codecs/check_request.h"  // CheckRequest: a request body's fields, read
#include "engine/util/error.h"
#include "engine/util/json_writer.h"  // JsonSink: a response as events, for faces building objects
#include "engine/util/limits.h"
#include "engine/util/load_progress.h"
#include "engine/wire/scim_error.h"  // ScimErrorJson, HttpStatusOf: errors on the wire

namespace preflight {

class Snapshot;

// How to load a snapshot. By default a snapshot that loaded with any error (a file that
// does not parse, a policy or role that does not resolve), or that holds no policy or no
// identity, is refused: a gate that fails open is worse than none. `allow_partial` loads
// it anyway; every check response then says so (EngineInfo, the response extension).
struct EngineOptions {
  Limits limits;
  bool allow_partial = false;
  LoadProgressFn progress;  // how far the load is, as it goes (none: quiet)
  // How a compiled image is verified when opened (engine/image/image.h, ImageVerify):
  // "full" (the default) verifies every byte before Load returns; "lazy" verifies the
  // header, the section table and the small sections read without a view at open, checks
  // every record a call reads on access, and verifies the rest on a background thread:
  // if that finds corruption, every later call of the engine is that error (Health()).
  std::string image_verify = "full";
};

// How to answer a check.
struct RequestOptions {
  int indent = 0;        // JSON indentation of the response
  bool explain = false;  // per-violation explanations in the response extension
  // `policies: []`: IdentityIQ's code checks nothing, its documentation says "all active
  // policies"; we follow the documentation (README: divergences).
  bool empty_policy_list_means_all = true;
  bool empty_violations_as_array = false;  // "violations": [] instead of omitting the key
  bool use_constraint_index = true;        // off: every constraint (same answer, slower)
};

// The fields of a CheckedPolicyViolations request, for callers that do not write the body.
struct CheckFields {
  std::string identity;
  std::string plan;       // the plan text
  std::string plan_type;  // "xml", "json", "map", a media type, or "" to detect from the text
  std::optional<std::vector<std::string>> policies;
};

// A SCIM query (RFC 7644 section 3.4.2) over one resource type of the snapshot.
struct QueryParams {
  std::string resource_type;  // Users, Accounts, Entitlements, Roles, Applications (any case)
  std::string filter;         // empty: every resource
  std::vector<std::string> attributes;
  std::vector<std::string> excluded_attributes;
  std::string sort_by;
  std::string sort_order;  // "", "ascending" or "descending" (anything else is invalidValue)
  std::optional<int64_t> start_index;
  std::optional<int64_t> count;
};

// What a loaded engine is: for response headers, logs and the partial-load marker.
struct EngineInfo {
  std::string source_hash;  // hex content hash of the sources, stable across processes
  size_t identities = 0;
  size_t policies = 0;
  size_t load_errors = 0;  // error diagnostics (non-zero only with allow_partial)
  bool partial = false;    // loaded with allow_partial, with load errors, no policy or no identity
  double load_ms = 0;
};

// A population run (`preflight scan`, `preflight impact`; engine/scan): which identities,
// which policies, how the rows are written.
struct ScanParams {
  std::string filter;                                // SCIM filter over Users; empty: everyone
  std::optional<std::vector<std::string>> policies;  // absent: the active policies
  size_t start = 0, stop = static_cast<size_t>(-1);  // a slice of the selected identities
  int threads = 0;                                   // 0: every core
  std::string format = "jsonl";                      // jsonl | json (ListResponse) | csv
  std::function<void(size_t done, size_t total)> progress;  // after each chunk
};
struct ImpactParams : ScanParams {
  std::vector<std::string> changes;   // Role / Policy / ... files replacing objects by name
  std::vector<std::string> activate;  // policies (name or id) made Active
  std::string plan;                   // or: this plan applied to every selected identity
  std::string plan_type;              // as for a check ("" detects)
};
// Receives the output text chunk by chunk, in order; returning false stops the run.
using TextSink = std::function<bool(std::string_view text)>;

// A provisioning workflow launch: IdentityIQ's `POST /LaunchedWorkflows` with a plan input
// (engine/preflight_workflow.cc). `plan workflow` writes the body; the service's gate reads it.
struct WorkflowLaunch {
  std::string workflow = "LCM Provisioning";
  std::string identity;   // the "identityName" input
  std::string plan;       // the "plan" input's value
  std::string plan_type;  // its "type" ("" detects from the text)
};

// What the gate decided about one LaunchedWorkflows body (Engine::GateWorkflowLaunch).
struct GateVerdict {
  bool launches_plan = false;  // false: no plan input, nothing to check (forward it)
  bool allowed = true;         // false: answer `status` with `body` and never forward
  int status = 200;            // 403 (violations) or the check's error status
  std::string body;            // the SCIM Error resource when refused
  size_t violations = 0;
};

struct PlanScratch;

class Engine {
 public:
  static absl::StatusOr<std::shared_ptr<const Engine>> Load(const std::vector<std::string>& paths,
                                                            const EngineOptions& options = {});
  // For in-tree callers that built a snapshot themselves (tests, benchmarks).
  Engine(std::shared_ptr<const Snapshot> snapshot, Limits limits = {}, bool allow_partial = false);

  // The CheckedPolicyViolations request body in, the response resource out. Every failure
  // inside the request is 400 invalidValue, as IdentityIQ answers it (a budget stays tooMany).
  absl::StatusOr<std::string> CheckJson(std::string_view request_body, const RequestOptions& options = {}) const;
  // The same response written as events into `response` (nothing written on failure).
  absl::Status CheckJson(std::string_view request_body, const RequestOptions& options, JsonSink& response) const;
  // A request body a face has read into its fields itself (the Python module, from a dict):
  // checked exactly as CheckJson checks the body those fields came from (options.explain
  // rules over request.explain).
  absl::StatusOr<std::string> CheckRequestJson(CheckRequest request, const RequestOptions& options = {}) const;
  absl::Status CheckRequestJson(CheckRequest request, const RequestOptions& options, JsonSink& response) const;
  absl::StatusOr<std::string> CheckFieldsJson(const CheckFields& fields, const RequestOptions& options = {}) const;
  absl::Status CheckFieldsJson(const CheckFields& fields, const RequestOptions& options, JsonSink& response) const;
  // Many bodies in one call: one result per body, in order. The call itself fails only
  // when the batch exceeds max_batch_requests (BatchBudget, for faces running their own).
  absl::StatusOr<std::vector<absl::StatusOr<std::string>>> CheckBatchJson(
      const std::vector<std::string>& request_bodies, const RequestOptions& options = {}) const;
  absl::Status BatchBudget(size_t requests) const;

  // `plan compile`: the compiled plan and the projected pre and post states.
  absl::StatusOr<std::string> CompileJson(std::string_view identity, std::string_view plan_text,
                                          std::string_view plan_type = "", int indent = 0) const;
  // The gate in front of IdentityIQ's LaunchedWorkflows: a body that launches a workflow with
  // a `plan` input is checked for its identity; a plan that would create a violation (or a
  // launch that cannot be checked: unknown identity, bad plan, not JSON) is refused, fail-closed.
  GateVerdict GateWorkflowLaunch(std::string_view launched_workflow_body) const;

  // A SCIM ListResponse.
  absl::StatusOr<std::string> QueryJson(const QueryParams& params) const;
  // One resource by id (kNoSuchResource, HTTP 404, when absent), projected like a query's resources.
  absl::StatusOr<std::string> ResourceJson(std::string_view resource_type, std::string_view id,
                                           const std::vector<std::string>& attributes = {},
                                           const std::vector<std::string>& excluded_attributes = {}) const;
  // `snapshot stats`: counts, memory, load time per pass, diagnostics.
  std::string StatsJson(int indent = 0) const;
  // `snapshot compile`: this engine's snapshot as a compiled image at `path`, which Load
  // opens (mapped, no parsing) when given as the only path. Back: {"image","bytes",
  // "formatVersion","sourceHash","identities","policies","loadErrors","partial"}.
  absl::StatusOr<std::string> WriteImage(const std::string& path, int indent = 0) const;
  // The load diagnostics as a JSON array.
  std::string DiagnosticsJson(int indent = 0) const;

  // Every current violation of the selected identities, streamed to `sink` in
  // identity order; the summary JSON back (counts per policy and constraint).
  absl::StatusOr<std::string> Scan(const ScanParams& params, const TextSink& sink) const;
  // The violations and detected roles each identity gains or loses with `changes`
  // (none: nothing), or the new violations of `plan` per identity. Summary JSON back.
  absl::StatusOr<std::string> Impact(const ImpactParams& params, const TextSink& sink) const;
  // The snapshot with `changes` applied (objects replaced by name, or added) and the
  // `activate` policies made active, read again from this engine's sources: the `after`
  // of an impact, which a caller running many impact slices can keep.
  absl::StatusOr<std::shared_ptr<const Engine>> WithChanges(const std::vector<std::string>& changes,
                                                            const std::vector<std::string>& activate) const;
  // The impact of going from this engine's snapshot to `after`'s (plan fields ignored).
  absl::StatusOr<std::string> ImpactTo(const Engine& after, const ScanParams& params, const TextSink& sink) const;
  // How many identities `filter` selects (for partitioning a scan).
  absl::StatusOr<size_t> CountIdentities(std::string_view filter) const;

  const EngineInfo& info() const { return info_; }
  // OK, or the error every call of this engine now fails with: its image (opened with
  // image_verify "lazy") failed its background verification.
  absl::Status Health() const;
  // "full" (verified at open, or loaded from exports), "verifying", "verified" or
  // "failed": the state of an image opened with image_verify "lazy".
  std::string_view ImageVerification() const;
  const Limits& limits() const { return limits_; }
  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  // `plans`: the calling thread's decoded plan and its buffers (engine/codecs/plan_codec.h).
  absl::Status CheckUnguarded(CheckRequest& request, const RequestOptions& options, JsonSink& response,
                              PlanScratch& plans) const;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::string> paths_;  // the sources, for Impact's changed snapshot
  Limits limits_;
  EngineInfo info_;
};

// Holds the current engine; readers take a reference-counted copy, so a Swap never blocks
// or invalidates a call in progress.
class SharedEngine {
 public:
  explicit SharedEngine(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
  std::shared_ptr<const Engine> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return engine_;
  }
  // The old engine is released outside the lock (its last reader may be elsewhere).
  void Swap(std::shared_ptr<const Engine> engine) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      engine_.swap(engine);
    }
  }

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for
  // ThreadSanitizer, which then cannot see its locking.
  mutable std::mutex mu_;
  std::shared_ptr<const Engine> engine_;
};

// --- Operations that need no snapshot.

// Decodes a plan (from: "xml", "json", "map", a media type, or "" to detect) and encodes it
// as `to` ("xml" or "json").
absl::StatusOr<std::string> ConvertPlan(std::string_view text, std::string_view to, std::string_view from = "",
                                        int indent = 0, const Limits& limits = DefaultLimits());
// "xml", "json", "map", or "" when the text's form cannot be told.
std::string_view DetectPlanFormatName(std::string_view text);

// `plan workflow`: the LaunchedWorkflows request body (schemas LaunchedWorkflow and
// TaskResult, workflowName, input: identityName and the plan as IdentityIQ XML text).
absl::StatusOr<std::string> PlanWorkflowJson(const WorkflowLaunch& launch, int indent = 0,
                                             const Limits& limits = DefaultLimits());
// Reads a LaunchedWorkflows body: the launch when it carries a `plan` input, nullopt when not.
absl::StatusOr<std::optional<WorkflowLaunch>> ReadWorkflowLaunch(std::string_view body,
                                                                 const Limits& limits = DefaultLimits());

// A SCIM filter's AST in the S-expression notation of tests/corpus/scim-filter/SOURCES.md.
absl::StatusOr<std::string> FilterSexpr(std::string_view filter, const Limits& limits = DefaultLimits());
// The AST as JSON: {"kind","op","path","uri","name","sub","valueKind","valueText","span",
// "sexpr","text","children"}.
absl::StatusOr<std::string> FilterAstJson(std::string_view filter, const Limits& limits = DefaultLimits());
// A PATCH path's S-expression.
absl::StatusOr<std::string> PathSexpr(std::string_view path, const Limits& limits = DefaultLimits());
// true/false for one JSON resource.
absl::StatusOr<bool> EvalFilter(std::string_view filter, std::string_view resource_json,
                                const Limits& limits = DefaultLimits());
// A file's text, or standard input for "-" (kNotFound when it cannot be read).
absl::StatusOr<std::string> ReadInput(const std::string& path);
// "a, b,c" (the wire form of attributes / excludedAttributes) as trimmed names.
std::vector<std::string> SplitAttributeList(std::string_view list);

// The library's version ("0.1.0"). ScimErrorJson and HttpStatusOf, errors on the wire, come
// with this header from engine/wire/scim_error.h.
std::string_view Version();

}  // namespace preflight
