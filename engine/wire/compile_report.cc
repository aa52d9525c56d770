#include "engine/wire/compile_report.h"

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/plan/compiler.h"
#include "engine/util/error.h"
#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"

namespace preflight {
namespace {

void WriteState(JsonWriter& w, const Snapshot& s, const ValueIds& ids, const IdentityState& st) {
  w.BeginObject();
  w.Key("assignedRoles").BeginArray();
  for (Index r : st.assigned_roles) w.String(s.str(s.roles()[r].name));
  w.EndArray();
  w.Key("detectedRoles").BeginArray();
  for (Index r : st.detected_roles) w.String(s.str(s.roles()[r].name));
  w.EndArray();
  w.Key("accounts").BeginArray();
  for (const AccountState& a : st.accounts) {
    w.BeginObject().Field("application", s.str(s.applications()[a.application].name));
    w.Field("nativeIdentity", ids.Text(a.native_identity));
    if (a.instance != kNoId) w.Field("instance", ids.Text(a.instance));
    w.Key("attributes").BeginObject();
    a.ForEachAttribute([&](const AttrView& v) {
      w.Key(ids.Text(v.name));
      if (v.multi) {
        w.BeginArray();
        for (Id x : v.values) w.String(ids.Text(x));
        w.EndArray();
      } else {
        w.String(v.values.empty() ? "" : ids.Text(v.values[0]));
      }
    });
    w.EndObject();
    if (!a.permissions().empty()) {
      w.Key("permissions").BeginArray();
      for (PermissionView p : a.permissions()) {
        std::string rights;
        for (Id r : p.rights) absl::StrAppend(&rights, rights.empty() ? "" : ",", ToAbsl(ids.Text(r)));
        w.BeginObject().Field("target", ids.Text(p.target)).Field("rights", rights).EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

absl::StatusOr<std::string> CompileReportJson(const Snapshot& s, std::string_view identity,
                                              const ProvisioningPlan& plan, int indent) {
  Index who = s.FindIdentity(identity);
  if (who == kNoIndex)
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("Identity '", ToAbsl(identity), "' not found in the snapshot"));
  ValueIds ids(s.pool());
  auto projection = Project(s, who, plan, ids);
  if (!projection.ok()) return projection.status();

  // The compiled plan: the request plus the Add requests its role assignments expand to.
  ProvisioningPlan compiled = plan;
  for (const Expansion& e : projection->plan_expansions) {
    AccountRequest* target = nullptr;
    std::string app(s.str(s.applications()[e.application].name));
    for (AccountRequest& a : compiled.accounts)
      if (a.application == app && a.args.size() == 1 && a.args[0].first == "preflightExpansion") target = &a;
    if (!target) {
      AccountRequest a;
      a.application = app;
      a.op = AccountOp::kModify;
      a.args.push_back({"preflightExpansion", Value::Boolean(true)});
      compiled.accounts.push_back(std::move(a));
      target = &compiled.accounts.back();
    }
    AttributeRequest ar;
    ar.name = std::string(ids.Text(e.attribute));
    ar.op = AttributeOp::kAdd;
    ar.value = Value::String(std::string(ids.Text(e.value)));
    ar.args.push_back({"assignment", Value::Boolean(true)});
    ar.args.push_back({"sourceRole", Value::String(std::string(s.str(s.roles()[e.role].name)))});
    target->attributes.push_back(std::move(ar));
  }
  JsonWriter w(indent);
  w.BeginObject().Field("identity", identity);
  w.Key("plan").Raw(EncodePlanJson(compiled));
  w.Key("expansions").BeginArray();
  for (const Expansion& e : projection->plan_expansions) {
    w.BeginObject().Field("role", s.str(s.roles()[e.role].name)).Field("via", s.str(s.roles()[e.via].name));
    w.Field("application", s.str(s.applications()[e.application].name));
    w.Field("attribute", ids.Text(e.attribute)).Field("value", ids.Text(e.value)).EndObject();
  }
  w.EndArray();
  w.Key("pre");
  WriteState(w, s, ids, projection->pre);
  w.Key("post");
  WriteState(w, s, ids, projection->post);
  WriteDiagnostics(w, "diagnostics", projection->diagnostics);
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
