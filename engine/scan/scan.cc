#include "engine/scan/scan.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/plan/compiler.h"
#include "engine/plan/detection.h"
#include "engine/policy/evaluate.h"
#include "engine/query/snapshot_query.h"
#include "simdjson.h"

namespace preflight {
namespace {

// The policies a check with the same `policies` member evaluates (check.cc's selection).
std::vector<Index> SelectPolicies(const Snapshot& s, const std::optional<std::vector<std::string>>& names) {
  if (!names || names->empty()) return s.ActivePoliciesByName();
  std::vector<Index> out;
  for (const std::string& name : *names) {
    Index p = s.FindPolicy(name);
    if (p != kNoIndex) out.push_back(p);
  }
  return out;
}

// What a scan cannot evaluate, once per run (a check reports it on every answer).
void PolicyDiagnostics(const Snapshot& s, const std::vector<Index>& policies, std::vector<Diagnostic>& out) {
  for (Index p : policies) {
    const Policy& policy = s.policies()[p];
    std::string object = "Policy[" + policy.name + "]";
    if (policy.kind == Policy::Kind::kUnsupported) {
      out.push_back({Severity::kUnsupported, ErrorCode::kUnsupported, policy.unsupported, {}, object});
      continue;
    }
    if (!policy.violation_rule.empty())
      out.push_back({Severity::kUnsupported, ErrorCode::kUnsupported,
                     absl::StrCat("violation rule '", policy.violation_rule,
                                  "' (BeanShell) is not run; IdentityIQ may rewrite this policy's violations"),
                     {}, object});
    if (policy.kind == Policy::Kind::kRisk || policy.kind == Policy::Kind::kActivity)
      out.push_back({Severity::kUnsupported, ErrorCode::kUnsupported,
                     "risk and activity policies read scorecards and activity logs the snapshot does not hold; "
                     "not evaluated",
                     {}, object});
    for (Index c : s.UnsupportedConstraints(p))
      out.push_back({Severity::kUnsupported, ErrorCode::kUnsupported, policy.constraints[c].unsupported, {},
                     absl::StrCat(object, "/", policy.constraints[c].name)});
  }
}

// One identity's current violations, evaluated with the check's constraint evaluation
// on the state the check's compiler builds (per thread; reused across identities).
class StateEvaluator {
 public:
  StateEvaluator(const Snapshot& s, const std::vector<Index>& policies, bool trust_flags = true)
      : s_(s), ids_(s.pool()), policies_(policies), selected_(s.policies().size(), false), trust_flags_(trust_flags) {
    for (Index p : policies) selected_[p] = true;
    // Generic constraints are evaluated on every identity; a role SoD constraint can
    // fire only when the identity holds a role on its sides (found through the index).
    for (Index p : policies) {
      const Policy& policy = s.policies()[p];
      if (policy.kind == Policy::Kind::kAccount || policy.kind == Policy::Kind::kRisk ||
          policy.kind == Policy::Kind::kActivity || policy.kind == Policy::Kind::kUnsupported)
        continue;
      for (Index c = 0; c < policy.constraints.size(); ++c) {
        const Constraint& constraint = policy.constraints[c];
        if (constraint.disabled || !constraint.unsupported.empty()) continue;
        if (constraint.kind == Constraint::Kind::kRoleSod) continue;
        if (!Gate({p, c}, constraint)) generic_.push_back({p, c});
      }
    }
  }

  // `refreshed`: IT roles re-detected (the post state of an empty plan), else the
  // stored pre state a check compares against. `detected` gets the state's detected roles.
  void Evaluate(Index identity, bool refreshed, std::vector<ViolationReport>& out, std::vector<Index>* detected) {
    ids_.Clear();
    // An empty plan cannot fail to apply. The refreshed state is its post state.
    // When the load found the stored detected roles equal to a fresh detection
    // (kDetectionConsistent), the refreshed state is the pre state itself.
    if (refreshed && trust_flags_ && (s_.identities()[identity].flags & IdentityView::kDetectionConsistent))
      refreshed = false;
    if (refreshed) (void)ProjectInto(s_, identity, empty_plan_, ids_, projection_);
    else (void)ProjectPreInto(s_, identity, ids_, projection_);
    const IdentityState& state = refreshed ? projection_.post : projection_.pre;
    if (detected) *detected = state.detected_roles;
    if (!s_.any_active_policy()) return;  // IdentityIQ evaluates nothing then
    held_.Compute(s_, state);
    candidates_ = generic_;
    // Gated generic constraints: only when the identity holds one of the values.
    for (const AccountState& a : state.accounts)
      a.ForEachAttribute([&](const AttrView& attr) {
        for (Id v : attr.values) {
          auto it = gate_.find(GateKey{a.application, attr.name, v});
          if (it == gate_.end()) continue;
          for (ConstraintRef ref : it->second) candidates_.push_back(ref);
        }
      });
    HeldRoles::ForEachDifference(held_, none_, [&](Index r) {
      if (const auto* refs = s_.ConstraintsNamingRole(r))
        for (ConstraintRef ref : *refs)
          if (selected_[ref.policy]) candidates_.push_back(ref);
    });
    std::sort(candidates_.begin(), candidates_.end());
    candidates_.erase(std::unique(candidates_.begin(), candidates_.end()), candidates_.end());
    MatchContext ctx{s_, ids_, /*stored_identity=*/true};
    for (Index p : policies_) {
      const Policy& policy = s_.policies()[p];
      if (policy.kind == Policy::Kind::kAccount) {
        // AccountPolicyExecutor.evaluateUsingQuery: the stored links.
        account_.clear();
        const auto& stored = s_.identities()[identity].accounts;
        AccountViolations(p, policy.account_constraint, stored,
                          [&](Index a) { return std::pair(s_.accounts()[a].application, s_.accounts()[a].instance); },
                          keys_, account_);
        for (const Violation& v : account_) out.push_back(ReportViolation(s_, v));
        continue;
      }
      auto begin = std::lower_bound(candidates_.begin(), candidates_.end(), ConstraintRef{p, 0});
      for (auto it = begin; it != candidates_.end() && it->policy == p; ++it)
        if (EvaluateConstraint(ctx, p, it->constraint, state, held_, &violation_))
          out.push_back(ReportViolation(s_, violation_));
    }
  }

 private:
  // A generic constraint fires only when each selector matches. A MatchExpression whose
  // terms are all positive Entitlement leaves with a value (and containers of them)
  // matches only when some leaf does (the last evaluated term decides, and/or alike),
  // and a leaf matches only when an account on its application holds exactly that
  // attribute id and value id (selector terms compare ids, no ignoreCase). Such a
  // selector gates its constraint: it need only be evaluated for identities holding one
  // of its leaves' (application, attribute, value). Returns false when no selector gates.
  struct GateKey {
    Index application;
    Id attribute, value;
    friend bool operator==(const GateKey&, const GateKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const GateKey& k) {
      return H::combine(std::move(h), k.application, k.attribute, k.value);
    }
  };
  static bool Leaves(const MatchTerm& t, std::vector<GateKey>& keys) {
    if (t.negative) return false;
    if (t.container) {
      if (t.children.empty()) return false;
      for (const MatchTerm& c : t.children)
        if (!Leaves(c, keys)) return false;
      return true;
    }
    if (t.type != MatchTerm::Type::kEntitlement || t.application == kNoIndex || t.value_null ||
        t.name_text.empty())
      return false;
    keys.push_back({t.application, t.name, t.value});
    return true;
  }
  bool Gate(ConstraintRef ref, const Constraint& c) {
    for (const Selector& sel : c.selectors) {
      if (!sel.has_match_expression || sel.terms.empty()) continue;
      std::vector<GateKey> keys;
      bool ok = true;
      for (const MatchTerm& t : sel.terms) ok = ok && Leaves(t, keys);
      if (!ok) continue;
      for (const GateKey& k : keys) {
        auto& list = gate_[k];
        if (list.empty() || !(list.back() == ref)) list.push_back(ref);
      }
      return true;
    }
    return false;
  }

  const Snapshot& s_;
  absl::flat_hash_map<GateKey, std::vector<ConstraintRef>> gate_;
  ValueIds ids_;
  const std::vector<Index>& policies_;
  std::vector<bool> selected_;
  bool trust_flags_;
  std::vector<ConstraintRef> generic_, candidates_;
  ProvisioningPlan empty_plan_;
  Projection projection_;
  HeldRoles held_, none_;
  Violation violation_;
  std::vector<Violation> account_;
  std::vector<std::pair<Index, Id>> keys_;
};

// Runs work(worker, begin, end, rows) over [0, n) in chunks on a pool of threads and
// hands each chunk's rows to the sink in order. At most `window` chunks are in flight or
// waiting, so memory is bounded whatever the population.
using ChunkWork = std::function<absl::Status(size_t worker, size_t begin, size_t end, std::vector<ScanRow>& rows)>;

absl::Status RunChunks(size_t n, const ScanOptions& options, int threads, const ChunkWork& work,
                       const ScanSink& sink) {
  const size_t chunk = std::max<size_t>(1, options.chunk_identities);
  const size_t chunks = (n + chunk - 1) / chunk;
  auto range = [&](size_t k) { return std::pair(k * chunk, std::min(n, (k + 1) * chunk)); };
  auto report = [&](size_t k) {
    if (options.progress) options.progress(range(k).second, n);
  };
  if (threads <= 1 || chunks <= 1) {
    std::vector<ScanRow> rows;
    for (size_t k = 0; k < chunks; ++k) {
      rows.clear();
      auto [b, e] = range(k);
      if (auto st = work(0, b, e, rows); !st.ok()) return st;
      if (!sink(rows)) return absl::CancelledError("the row sink stopped the run");
      report(k);
    }
    return absl::OkStatus();
  }
  const size_t window = 4 * static_cast<size_t>(threads);
  std::vector<std::vector<ScanRow>> slots(window);
  std::vector<char> ready(window, 0);
  std::mutex mu;
  std::condition_variable cv_ready, cv_space;
  size_t next = 0, emitted = 0;
  bool stop = false;
  absl::Status failure;
  auto run = [&](size_t w) {
    std::vector<ScanRow> rows;
    for (;;) {
      size_t k;
      {
        std::unique_lock lock(mu);
        cv_space.wait(lock, [&] { return stop || next >= chunks || next < emitted + window; });
        if (stop || next >= chunks) return;
        k = next++;
      }
      rows.clear();
      auto [b, e] = range(k);
      absl::Status st;
      try {
        st = work(w, b, e, rows);
      } catch (const CorruptRecord& corrupt) {  // a lazily verified image's bad record: the run fails
        st = corrupt.status();
      }
      std::lock_guard lock(mu);
      if (!st.ok()) {
        if (failure.ok()) failure = st;
        stop = true;
        cv_space.notify_all();
      }
      slots[k % window] = std::move(rows);
      rows = {};
      ready[k % window] = 1;
      cv_ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) pool.emplace_back(run, static_cast<size_t>(w));
  std::vector<ScanRow> rows;
  for (size_t k = 0; k < chunks; ++k) {
    {
      std::unique_lock lock(mu);
      cv_ready.wait(lock, [&] { return stop || ready[k % window]; });
      if (stop) break;
      rows = std::move(slots[k % window]);
      slots[k % window] = {};
      ready[k % window] = 0;
    }
    bool go_on = sink(rows);
    std::lock_guard lock(mu);
    if (!go_on) {
      stop = true;
      if (failure.ok()) failure = absl::CancelledError("the row sink stopped the run");
      cv_space.notify_all();
      break;
    }
    emitted = k + 1;
    cv_space.notify_all();
    report(k);
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    cv_space.notify_all();
  }
  for (auto& t : pool) t.join();
  return failure;
}

int ThreadCount(const ScanOptions& options) {
  if (options.threads > 0) return options.threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Counts per (policy, constraint, change, kind), sorted, for the summary.
class Counter {
 public:
  void Add(std::span<const ScanRow> rows) {
    for (const ScanRow& r : rows) {
      if (r.kind == ScanRow::Kind::kRole) ++counts_[{r.role, "", r.change, "role"}];
      else ++counts_[{r.violation.policy_name, r.violation.constraint_name, r.change, "violation"}];
    }
    total_ += rows.size();
  }
  void Into(ScanSummary& summary) const {
    summary.rows = total_;
    for (const auto& [key, n] : counts_) {
      const auto& [policy, constraint, change, kind] = key;
      summary.counts.push_back({policy, constraint, change, kind, n});
    }
  }

 private:
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> counts_;
  size_t total_ = 0;
};

template <typename MakeWork>
absl::StatusOr<ScanSummary> Drive(const ScanOptions& options, const std::vector<Index>& identities,
                                  MakeWork make_work, const ScanSink& sink, ScanSummary summary) {
  auto start = std::chrono::steady_clock::now();
  // No more threads (and per-thread evaluators) than chunks to share out.
  const size_t chunks = (identities.size() + std::max<size_t>(1, options.chunk_identities) - 1) /
                        std::max<size_t>(1, options.chunk_identities);
  int threads = static_cast<int>(std::clamp<size_t>(chunks, 1, static_cast<size_t>(ThreadCount(options))));
  Counter counter;
  ChunkWork work = make_work(threads);
  ScanSink counted = [&](std::span<const ScanRow> rows) {
    counter.Add(rows);
    return sink(rows);
  };
  if (auto st = RunChunks(identities.size(), options, threads, work, counted); !st.ok()) return st;
  summary.identities = identities.size();
  counter.Into(summary);
  summary.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

// A canonical text of a violation, to compare two runs' violations.
std::string ViolationKey(const ViolationReport& v) {
  std::string k = absl::StrCat(v.policy_name, "\x1f", v.has_constraint_name ? "1" : "0", v.constraint_name, "\x1f",
                               v.policy_type, "\x1f", v.description.value_or(""), "\x1e");
  for (const auto& b : v.left_bundles) absl::StrAppend(&k, b, "\x1f");
  k += "\x1e";
  for (const auto& b : v.right_bundles) absl::StrAppend(&k, b, "\x1f");
  k += "\x1e";
  for (const auto& e : v.entitlements)
    absl::StrAppend(&k, e.application ? "1" + *e.application : "0", "\x1d", e.attribute, "\x1d", e.value, "\x1f");
  return k;
}

}  // namespace

absl::StatusOr<std::vector<Index>> SelectIdentities(const Snapshot& s, const ScanOptions& options) {
  std::vector<Index> all;
  if (options.filter.empty()) {
    all.resize(s.identities().size());
    for (Index i = 0; i < all.size(); ++i) all[i] = i;
  } else {
    QueryOptions q;
    q.filter = options.filter;
    q.attributes = {"userName"};
    q.parse.max_length = options.limits.max_filter_length;
    q.parse.max_depth = options.limits.max_filter_depth;
    auto list = QuerySnapshot(s, "Users", q);
    if (!list.ok()) return list.status();
    simdjson::dom::parser parser;
    for (const std::string& resource : list->resources) {
      simdjson::dom::element r;
      std::string_view name;
      if (parser.parse(resource).get(r) || r["userName"].get_string().get(name)) continue;
      Index i = s.FindIdentity(name);
      if (i != kNoIndex) all.push_back(i);
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
  }
  size_t begin = std::min(options.start, all.size());
  size_t end = std::min(std::max(options.stop, begin), all.size());
  return std::vector<Index>(all.begin() + begin, all.begin() + end);
}

absl::StatusOr<ScanSummary> Scan(const Snapshot& s, const ScanOptions& options, const ScanSink& sink) {
  auto identities = SelectIdentities(s, options);
  if (!identities.ok()) return identities.status();
  const std::vector<Index> policies = SelectPolicies(s, options.policies);
  ScanSummary summary;
  PolicyDiagnostics(s, policies, summary.diagnostics);
  std::vector<std::unique_ptr<StateEvaluator>> evaluators;
  auto make_work = [&](int threads) -> ChunkWork {
    for (int i = 0; i < threads; ++i) evaluators.push_back(std::make_unique<StateEvaluator>(s, policies));
    return [&](size_t w, size_t begin, size_t end, std::vector<ScanRow>& rows) {
      std::vector<ViolationReport> found;
      for (size_t i = begin; i < end; ++i) {
        Index id = (*identities)[i];
        found.clear();
        evaluators[w]->Evaluate(id, false, found, nullptr);
        for (ViolationReport& v : found) {
          ScanRow& row = rows.emplace_back();
          row.identity = id;
          row.identity_name = std::string(s.str(s.identities()[id].name));
          row.violation = std::move(v);
        }
      }
      return absl::OkStatus();
    };
  };
  return Drive(options, *identities, make_work, sink, std::move(summary));
}

absl::StatusOr<ScanSummary> ImpactChange(const Snapshot& before, const Snapshot& after, const ScanOptions& options,
                                         const ScanSink& sink) {
  auto identities = SelectIdentities(after, options);
  if (!identities.ok()) return identities.status();
  const std::vector<Index> policies_after = SelectPolicies(after, options.policies);
  const std::vector<Index> policies_before = SelectPolicies(before, options.policies);
  ScanSummary summary;
  PolicyDiagnostics(after, policies_after, summary.diagnostics);
  struct Pair {
    std::unique_ptr<StateEvaluator> before, after;
  };
  std::vector<Pair> evaluators;
  auto make_work = [&](int threads) -> ChunkWork {
    for (int i = 0; i < threads; ++i)
      evaluators.push_back({std::make_unique<StateEvaluator>(before, policies_before, options.trust_identity_flags),
                            std::make_unique<StateEvaluator>(after, policies_after, options.trust_identity_flags)});
    return [&](size_t w, size_t begin, size_t end, std::vector<ScanRow>& rows) {
      std::vector<ViolationReport> was, is;
      std::vector<Index> roles_was, roles_is;
      for (size_t i = begin; i < end; ++i) {
        Index id = (*identities)[i];
        const std::string name(after.str(after.identities()[id].name));
        was.clear();
        is.clear();
        roles_was.clear();
        evaluators[w].after->Evaluate(id, true, is, &roles_is);
        Index old = before.FindIdentity(name);
        if (old != kNoIndex) evaluators[w].before->Evaluate(old, true, was, &roles_was);
        // Violations: multiset difference by content.
        std::vector<std::pair<std::string, size_t>> a, b;
        for (size_t j = 0; j < was.size(); ++j) a.emplace_back(ViolationKey(was[j]), j);
        for (size_t j = 0; j < is.size(); ++j) b.emplace_back(ViolationKey(is[j]), j);
        std::vector<std::pair<std::string, size_t>> sa = a, sb = b;
        std::sort(sa.begin(), sa.end());
        std::sort(sb.begin(), sb.end());
        std::vector<bool> kept_was(was.size(), false), kept_is(is.size(), false);
        for (size_t x = 0, y = 0; x < sa.size() && y < sb.size();) {
          if (sa[x].first < sb[y].first) ++x;
          else if (sb[y].first < sa[x].first) ++y;
          else kept_was[sa[x++].second] = kept_is[sb[y++].second] = true;
        }
        auto emit = [&](ViolationReport& v, const char* change) {
          ScanRow& row = rows.emplace_back();
          row.identity = id;
          row.identity_name = name;
          row.change = change;
          row.violation = std::move(v);
        };
        for (size_t j = 0; j < is.size(); ++j)
          if (!kept_is[j]) emit(is[j], "gained");
        for (size_t j = 0; j < was.size(); ++j)
          if (!kept_was[j]) emit(was[j], "lost");
        // Detected roles, by name.
        std::vector<std::string_view> r_was, r_is;
        for (Index r : roles_was) r_was.push_back(before.str(before.roles()[r].name));
        for (Index r : roles_is) r_is.push_back(after.str(after.roles()[r].name));
        std::sort(r_was.begin(), r_was.end());
        std::sort(r_is.begin(), r_is.end());
        auto role_row = [&](std::string_view role, const char* change) {
          ScanRow& row = rows.emplace_back();
          row.identity = id;
          row.identity_name = name;
          row.kind = ScanRow::Kind::kRole;
          row.change = change;
          row.role = std::string(role);
        };
        std::vector<std::string_view> diff;
        std::set_difference(r_is.begin(), r_is.end(), r_was.begin(), r_was.end(), std::back_inserter(diff));
        for (auto r : diff) role_row(r, "gained");
        diff.clear();
        std::set_difference(r_was.begin(), r_was.end(), r_is.begin(), r_is.end(), std::back_inserter(diff));
        for (auto r : diff) role_row(r, "lost");
      }
      return absl::OkStatus();
    };
  };
  return Drive(options, *identities, make_work, sink, std::move(summary));
}

absl::StatusOr<ScanSummary> ImpactPlan(const Snapshot& s, const ProvisioningPlan& plan, const ScanOptions& options,
                                       const ScanSink& sink) {
  auto identities = SelectIdentities(s, options);
  if (!identities.ok()) return identities.status();
  ScanSummary summary;
  std::mutex diagnostics_mu;
  std::map<std::pair<std::string, std::string>, Diagnostic> diagnostics;  // (object, message) -> first
  auto make_work = [&](int) -> ChunkWork {
    return [&](size_t, size_t begin, size_t end, std::vector<ScanRow>& rows) {
      CheckRequest request;
      request.policies = options.policies;
      for (size_t i = begin; i < end; ++i) {
        Index id = (*identities)[i];
        request.identity = std::string(s.str(s.identities()[id].name));
        // The check itself, as `preflight check` runs it for this identity.
        auto result = Check(s, request, plan, CheckOptions{});
        if (!result.ok()) return result.status();
        for (size_t k = 0; k < result->violations.size(); ++k) {
          ScanRow& row = rows.emplace_back();
          row.identity = id;
          row.identity_name = request.identity;
          row.change = "new";
          row.violation = result->Report(k);
        }
        if (!result->diagnostics.empty()) {
          std::lock_guard lock(diagnostics_mu);
          for (Diagnostic& d : result->diagnostics)
            if (diagnostics.size() < 100) diagnostics.try_emplace({d.object, d.message}, std::move(d));
        }
      }
      return absl::OkStatus();
    };
  };
  auto out = Drive(options, *identities, make_work, sink, std::move(summary));
  if (out.ok())
    for (auto& [key, d] : diagnostics) out->diagnostics.push_back(std::move(d));
  return out;
}

}  // namespace preflight
