#include "engine/wire/check_response.h"

#include <cstring>
#include <type_traits>

#include "engine/policy/evaluate.h"
#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"
#include "engine/util/scim_urns.h"

namespace preflight {

namespace {

// Hundreds of violations name as many constraints, each a record of its own with its name
// and description in their own memory. Reads them all ahead of writing, in two passes
// (the records, then their texts) whose loads overlap their misses: prefetches a few
// violations ahead inside the writing loop still left it waiting on them (measured at
// 100,000 constraints). Loads, and what the violations' text will take, about (to reserve
// it at once: an answer of a thousand violations is a few hundred kilobytes).
size_t LoadConstraints(const Snapshot& s, const CheckResult& result) {
  std::span<const FoundViolation> found = result.violations;
  if (found.size() <= 16) return 0;
  auto constraint_of = [&](const FoundViolation& f) -> const Constraint* {
    return f.constraint == kNoIndex ? nullptr : &s.policies()[f.policy].constraints[f.constraint];
  };
  uintptr_t any = 0;
  size_t bytes = 0;
  for (const FoundViolation& f : found) {
    const Policy& policy = s.policies()[f.policy];
    bytes += 128 + policy.name.size() + policy.type.size() + 64 * f.term_count;
    if (const Constraint* c = constraint_of(f)) {
      any ^= reinterpret_cast<uintptr_t>(c->name.data()) ^ c->description.has_value();
      bytes += c->name.size() + (c->description ? c->description->size() : 0);
    }
  }
  for (const FoundViolation& f : found)
    if (const Constraint* c = constraint_of(f)) {
      if (!c->name.empty()) any ^= static_cast<unsigned char>(c->name[0]);
      if (c->description && !c->description->empty()) any ^= static_cast<unsigned char>((*c->description)[0]);
    }
  bytes += 32 * result.bundles.size();  // a role's name, quoted (not read here: an estimate)
  asm volatile("" : : "r"(any));  // the loads are the point: keep them
  return bytes;
}

// The violation's constraintName (ViolationName): the constraint's own name, not copied, or
// one generated from its bundle lists into `generated`.
bool NameOf(const Snapshot& s, const CheckResult& result, const FoundViolation& v, std::string& generated,
            std::string_view* name) {
  if (v.constraint != kNoIndex) {
    const Constraint& c = s.policies()[v.policy].constraints[v.constraint];
    if (c.has_name) {
      *name = c.name;
      return true;
    }
  }
  if (!ViolationName(s, v.policy, v.constraint, result.LeftBundles(v), result.RightBundles(v), &generated))
    return false;
  *name = generated;
  return true;
}

// A violation's object as WriteResponse writes it through a sink's calls (the same text,
// compact), appended to `out` in one piece: a slow answer at 100,000 constraints has a
// thousand violations, a dozen calls each, and its writing cost several times its check. It
// is put together in a buffer that holds its largest text (on the stack, or in `scratch`
// for a large one), then appended at once.
void AppendViolationJson(const Snapshot& s, const CheckResult& result, const FoundViolation& v, std::string& generated,
                         std::string& scratch, std::string& out) {
  const Policy& policy = s.policies()[v.policy];
  std::string_view name;
  const bool named = NameOf(s, result, v, generated, &name);
  const std::string* description = ViolationDescription(s, v.policy, v.constraint);
  auto role_name = [&](Index r) { return s.str(s.roles()[r].name); };
  auto bound = [](std::string_view t) { return JsonWriter::EscapedBound(t.size()); };
  size_t size = 128 + bound(policy.name) + bound(policy.type) + bound(name) + (description ? bound(*description) : 0);
  for (Index r : result.LeftBundles(v)) size += 1 + bound(role_name(r));
  for (Index r : result.RightBundles(v)) size += 1 + bound(role_name(r));
  for (const MatchTerm* t : result.Terms(v))
    size += 48 + bound(t->application_name) + bound(t->name_text) + bound(t->value_text);
  char stack[4096];
  char* const buf = size <= sizeof stack ? stack : (scratch.resize(size), scratch.data());
  char* d = buf;
  auto literal = [&](std::string_view t) {
    std::memcpy(d, t.data(), t.size());
    d += t.size();
  };
  auto text = [&](std::string_view t) { d = JsonWriter::WriteEscaped(d, t); };
  auto names = [&](std::span<const Index> roles) {
    for (size_t i = 0; i < roles.size(); ++i) {
      if (i > 0) *d++ = ',';
      text(role_name(roles[i]));
    }
  };
  using namespace std::string_view_literals;
  literal("{\"policyName\":"sv);
  text(policy.name);
  if (named) {
    literal(",\"constraintName\":"sv);
    text(name);
  }
  if (description) {
    literal(",\"description\":"sv);
    text(*description);
  }
  literal(",\"leftBundles\":["sv);
  names(result.LeftBundles(v));
  literal("],\"policyType\":"sv);
  text(policy.type);
  literal(",\"entitlements\":["sv);
  auto terms = result.Terms(v);
  for (size_t i = 0; i < terms.size(); ++i) {
    const MatchTerm* t = terms[i];
    literal(i > 0 ? ",{\"application\":"sv : "{\"application\":"sv);
    if (!t->application_name.empty()) text(t->application_name);
    else literal("null"sv);
    literal(",\"attribute\":"sv);
    text(t->name_text);
    literal(",\"value\":"sv);
    text(t->value_text);
    *d++ = '}';
  }
  literal("],\"rightBundles\":["sv);
  names(result.RightBundles(v));
  literal("]}"sv);
  out.append(buf, static_cast<size_t>(d - buf));
}

// The answer through `w`: a JsonSink, or the JsonWriter itself, whose calls are then direct
// (a slow answer writes a thousand violations, a dozen calls each).
template <typename Sink>
void WriteResponse(Sink& w, const CheckRequest& req, const CheckResult& result, const CheckOptions& options) {
  w.BeginObject();
  // Every name is written from the snapshot here, not copied into the result.
  const Snapshot* snapshot = result.snapshot;
  std::string generated;  // a constraint name generated from bundle lists, a reason's name
  std::string_view name;
  std::string scratch;  // a large violation's text
  if (!result.violations.empty() || options.empty_violations_as_array) {
    w.Key("violations").BeginArray();
    const auto& found = result.violations;
    const size_t bytes = LoadConstraints(*snapshot, result);
    if constexpr (std::is_same_v<Sink, JsonWriter>) {
      // The violations, then the rest (the plan echoed, escaped): one allocation.
      if (bytes) w.Reserve(w.str().size() + bytes + req.plan_value.size() + req.plan_value.size() / 4 + 512);
    }
    for (size_t i = 0; i < found.size(); ++i) {
      const FoundViolation& v = found[i];
      if constexpr (std::is_same_v<Sink, JsonWriter>) {
        if (w.indent() == 0) {
          w.RawWith([&](std::string& out) { AppendViolationJson(*snapshot, result, v, generated, scratch, out); });
          continue;
        }
      }
      const Policy& policy = snapshot->policies()[v.policy];
      w.BeginObject();
      w.Field("policyName", policy.name);
      if (NameOf(*snapshot, result, v, generated, &name)) w.Field("constraintName", name);
      if (const std::string* description = ViolationDescription(*snapshot, v.policy, v.constraint))
        w.Field("description", *description);
      auto bundles = [&](const char* key, std::span<const Index> roles) {
        w.Key(key).BeginArray();
        for (Index r : roles) w.String(snapshot->str(snapshot->roles()[r].name));
        w.EndArray();
      };
      bundles("leftBundles", result.LeftBundles(v));
      w.Field("policyType", policy.type);
      w.Key("entitlements").BeginArray();
      for (const MatchTerm* t : result.Terms(v)) {
        w.BeginObject();
        w.Key("application");
        if (!t->application_name.empty()) w.String(t->application_name);
        else w.Null();
        w.Field("attribute", t->name_text).Field("value", t->value_text);
        w.EndObject();
      }
      w.EndArray();
      bundles("rightBundles", result.RightBundles(v));
      w.EndObject();
    }
    w.EndArray();
  }
  w.Field("identity", req.identity);
  bool extension = !result.diagnostics.empty() || req.explain;
  w.Key("schemas").BeginArray().String(urn::kCheckedPolicyViolation);
  if (extension) w.String(urn::kCheckExtension);
  w.EndArray();
  w.Key("plan").BeginObject().Field("value", req.plan_value).Field("type", req.plan_type).EndObject();
  if (req.policies) {
    w.Key("policies").BeginArray();
    for (const auto& p : *req.policies) w.String(p);
    w.EndArray();
  }
  w.Key("meta").BeginObject().Field("resourceType", "CheckedPolicyViolation").EndObject();
  if (extension) {
    w.Key(urn::kCheckExtension).BeginObject();
    if (req.explain) {
      w.Key("explanations").BeginArray();
      for (const FoundViolation& v : result.violations) {
        w.BeginObject().Field("policyName", snapshot->policies()[v.policy].name);
        if (NameOf(*snapshot, result, v, generated, &name)) w.Field("constraintName", name);  // as in the violation
        w.Key("reasons").BeginArray();
        for (const ReasonRef& r : result.Reasons(v)) {
          ReasonWords words = ReasonText(*snapshot, r, &generated);
          w.BeginObject().Field("side", words.side).Field("kind", words.kind).Field("name", generated);
          if (!words.via.empty()) w.Field("via", words.via);
          w.Field("source", words.source).EndObject();
        }
        w.EndArray().EndObject();
      }
      w.EndArray();
    }
    WriteDiagnostics(w, "diagnostics", result.diagnostics);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

void WriteCheckResponse(JsonSink& w, const CheckRequest& req, const CheckResult& result, const CheckOptions& options) {
  if (auto* text = dynamic_cast<JsonWriter*>(&w)) return WriteResponse(*text, req, result, options);
  WriteResponse(w, req, result, options);
}

std::string CheckResponseJson(const CheckRequest& req, const CheckResult& result, const CheckOptions& options) {
  JsonWriter w(options.indent);
  // The plan is echoed (escaped, its quotes grow) and the rest is small: one allocation.
  w.Reserve(req.plan_value.size() + req.plan_value.size() / 4 + 512);
  WriteCheckResponse(w, req, result, options);
  return w.Take();
}

}  // namespace preflight
