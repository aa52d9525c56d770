#include "engine/wire/check_response.h"

#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"
#include "engine/util/scim_urns.h"

namespace preflight {

void WriteCheckResponse(JsonSink& w, const CheckRequest& req, const CheckResult& result, const CheckOptions& options) {
  w.BeginObject();
  if (!result.violations.empty() || options.empty_violations_as_array) {
    w.Key("violations").BeginArray();
    for (const ViolationReport& v : result.violations) {
      w.BeginObject();
      w.Field("policyName", v.policy_name);
      if (v.has_constraint_name) w.Field("constraintName", v.constraint_name);
      if (v.description) w.Field("description", *v.description);
      w.Key("leftBundles").BeginArray();
      for (const auto& b : v.left_bundles) w.String(b);
      w.EndArray();
      w.Field("policyType", v.policy_type);
      w.Key("entitlements").BeginArray();
      for (const auto& e : v.entitlements) {
        w.BeginObject();
        w.Key("application");
        if (e.application) w.String(*e.application);
        else w.Null();
        w.Field("attribute", e.attribute).Field("value", e.value);
        w.EndObject();
      }
      w.EndArray();
      w.Key("rightBundles").BeginArray();
      for (const auto& b : v.right_bundles) w.String(b);
      w.EndArray();
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
      for (const ViolationReport& v : result.violations) {
        w.BeginObject().Field("policyName", v.policy_name);
        if (v.has_constraint_name) w.Field("constraintName", v.constraint_name);  // as in the violation
        w.Key("reasons").BeginArray();
        for (const Reason& r : v.reasons) {
          w.BeginObject().Field("side", r.side).Field("kind", r.kind).Field("name", r.name);
          if (!r.via.empty()) w.Field("via", r.via);
          w.Field("source", r.source).EndObject();
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

std::string CheckResponseJson(const CheckRequest& req, const CheckResult& result, const CheckOptions& options) {
  JsonWriter w(options.indent);
  // The plan is echoed (escaped, its quotes grow) and the rest is small: one allocation.
  w.Reserve(req.plan_value.size() + req.plan_value.size() / 4 + 512);
  WriteCheckResponse(w, req, result, options);
  return w.Take();
}

}  // namespace preflight
