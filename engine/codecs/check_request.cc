#include "engine/codecs/check_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/codecs/json_strict.h"
#include "engine/util/error.h"
#include "simdjson.h"

namespace preflight {
namespace {

absl::Status Invalid(std::string detail, std::string pointer = {}) {
  Location where;
  where.pointer = std::move(pointer);
  return MakeError(ErrorCode::kInvalidValue, detail, where);
}

}  // namespace

std::vector<std::string> SplitPolicyNames(std::string_view list) {
  std::vector<std::string> names;
  for (absl::string_view part : absl::StrSplit(ToAbsl(list), ',', absl::SkipWhitespace()))
    names.emplace_back(absl::StripAsciiWhitespace(part));
  return names;
}

absl::StatusOr<CheckRequest> ParseCheckRequest(std::string_view json, const Limits& limits) {
  CheckRequest req;
  if (absl::Status s = ParseCheckRequestInto(json, limits, req); !s.ok()) return s;
  return req;
}

absl::Status ParseCheckRequestInto(std::string_view json, const Limits& limits, CheckRequest& req) {
  if (json.size() > limits.max_input_bytes)
    return MakeError(ErrorCode::kTooMany, absl::StrCat("request body of ", json.size(), " bytes exceeds the limit of ",
                                                       limits.max_input_bytes));
  // One reading: a leading BOM is skipped, nesting is bounded, a repeated key is an error.
  const size_t bom = json_strict::BomLength(json);
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = json_strict::Parse(parser, json.substr(bom), limits.max_nesting_depth, root))
    return json_strict::ParseError(err, "request body", json, bom, limits.max_nesting_depth);
  if (auto dup = json_strict::FirstDuplicateKey(root)) {
    return Invalid(absl::StrCat("duplicate key \"", dup->key, "\" in the request body: each key may appear once"),
                   dup->pointer);
  }
  if (!root.is_object()) return Invalid("request body must be a JSON object");
  req.explain = false;
  simdjson::dom::element e;
  if (root["identity"].get(e) || e.is_null()) return Invalid("Identity name is required.", "/identity");
  std::string_view sv;
  if (e.get_string().get(sv)) return Invalid("identity must be a string", "/identity");
  req.identity.assign(sv);
  if (req.identity.empty()) return Invalid("Identity name is required.", "/identity");
  simdjson::dom::element plan;
  if (root["plan"].get(plan) || plan.is_null()) return Invalid("Either a project or plan is required.", "/plan");
  if (!plan.is_object()) return Invalid("plan must be an object with value and type", "/plan");
  if (plan["value"].get(e) || e.is_null()) return Invalid("plan.value is required", "/plan/value");
  if (e.get_string().get(sv)) return Invalid("plan.value must be a string", "/plan/value");
  req.plan_value.assign(sv);
  if (plan["type"].get(e) || e.is_null()) return Invalid("plan.type is required", "/plan/type");
  if (e.get_string().get(sv)) return Invalid("plan.type must be a string", "/plan/type");
  req.plan_type.assign(sv);
  if (root["policies"].get(e) || e.is_null()) {
    req.policies.reset();
  } else {
    // The names go into the list (and strings) the last request left, keeping their memory.
    std::vector<std::string>& names = req.policies ? *req.policies : req.policies.emplace();
    if (e.is_string()) {  // a plain string is split as CSV
      names = SplitPolicyNames(e.get_string().value_unsafe());
    } else if (e.is_array()) {
      size_t i = 0;
      for (simdjson::dom::element item : e.get_array()) {
        if (item.get_string().get(sv))
          return Invalid("Invalid list element value, expecting policy name", absl::StrCat("/policies/", i));
        if (i < names.size()) names[i].assign(sv);
        else names.emplace_back(sv);
        ++i;
      }
      names.resize(i);
    } else {
      return Invalid("policies must be a list of policy names", "/policies");
    }
  }
  return absl::OkStatus();
}

}  // namespace preflight
