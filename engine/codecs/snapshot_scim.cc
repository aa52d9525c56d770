// IdentityIQ SCIM JSON exports -> SnapshotObjects (docs/semantics.md section 6).

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "engine/util/scim_urns.h"
#include "simdjson.h"

namespace preflight {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string Str(element e, std::string_view key) {
  std::string_view s;
  if (e.is_object() && !e[key].get_string().get(s)) return std::string(s);
  return {};
}

std::string ScalarText(element e) {
  switch (e.type()) {
    case element_type::STRING: return std::string(std::string_view(e.get_string()));
    case element_type::INT64: return std::to_string(int64_t(e.get_int64()));
    case element_type::UINT64: return std::to_string(uint64_t(e.get_uint64()));
    case element_type::DOUBLE: return simdjson::to_string(e);
    case element_type::BOOL: return bool(e.get_bool()) ? "true" : "false";
    default: return {};
  }
}

// A JSON value -> attribute values; objects are kept by their "value" member.
AttributeObject ToAttribute(std::string_view name, element v) {
  AttributeObject a;
  a.name = std::string(name);
  if (v.is_array()) {
    a.multi = true;
    for (element item : v.get_array()) {
      if (item.is_object()) {
        std::string s = Str(item, "value");
        if (!s.empty()) a.values.push_back(std::move(s));
      } else if (!item.is_null()) {
        a.values.push_back(ScalarText(item));
      }
    }
  } else if (v.is_object()) {
    std::string s = Str(v, "value");
    if (!s.empty()) a.values.push_back(std::move(s));
  } else if (!v.is_null()) {
    a.values.push_back(ScalarText(v));
  }
  return a;
}

// Which resource a SCIM object is, by its schemas (falling back to meta.resourceType).
std::string ResourceType(element r) {
  simdjson::dom::array schemas;
  if (!r["schemas"].get_array().get(schemas)) {
    for (element s : schemas) {
      std::string_view urn;
      if (s.get_string().get(urn)) continue;
      if (urn == urn::kUser) return "Users";
      if (absl::StartsWith(ToAbsl(urn), ToAbsl(urn::kSailPointPrefix))) {
        std::string_view rest = urn.substr(urn::kSailPointPrefix.size());
        if (rest == "Account") return "Accounts";
        if (rest == "Entitlement") return "Entitlements";
        if (rest == "Role") return "Roles";
        if (rest == "Application") return "Applications";
      }
    }
  }
  element meta;
  std::string type;
  if (!r["meta"].get(meta)) type = Str(meta, "resourceType");
  if (type == "User") return "Users";
  if (type == "Account") return "Accounts";
  if (type == "Entitlement") return "Entitlements";
  if (type == "Role") return "Roles";
  if (type == "Application") return "Applications";
  return {};
}

std::string RefName(element r, std::string_view key) {
  element ref;
  if (r[key].get(ref) || !ref.is_object()) return {};
  std::string name = Str(ref, "displayName");
  return name.empty() ? Str(ref, "value") : name;
}

std::vector<std::string> RefNames(element r, std::string_view key) {
  std::vector<std::string> out;
  simdjson::dom::array arr;
  if (r[key].get_array().get(arr)) return out;
  for (element item : arr) {
    std::string name = Str(item, "displayName");
    if (name.empty()) name = Str(item, "display");
    if (name.empty()) name = Str(item, "value");
    if (!name.empty()) out.push_back(std::move(name));
  }
  return out;
}

struct Reader {
  std::string file;
  SnapshotObjects& out;
  int index = 0;

  Location Where(std::string pointer) const {
    Location l;
    l.file = file;
    l.pointer = std::move(pointer);
    return l;
  }

  void ReadUser(element r, const std::string& pointer) {
    IdentityObject id;
    id.from_scim = true;
    id.name = Str(r, "userName");
    id.id = Str(r, "id");
    id.display_name = Str(r, "displayName");
    id.where = Where(pointer);
    if (id.name.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "User without a userName is skipped",
                                 id.where, "User[" + id.id + "]"});
      return;
    }
    bool active = true;
    if (!r["active"].get_bool().get(active)) id.inactive = !active;
    for (auto [key, value] : r.get_object()) {
      if (key == "schemas" || key == "meta" || key == urn::kSailPointUser) continue;
      if (value.is_object() && key != "name") continue;
      if (key == "name") {
        if (!value.is_object()) {  // RFC 7643 says complex; keep a scalar as it came
          id.attributes.push_back(ToAttribute(key, value));
          continue;
        }
        for (auto [sub, v] : value.get_object())
          id.attributes.push_back(ToAttribute(absl::StrCat("name.", ToAbsl(sub)), v));
        continue;
      }
      id.attributes.push_back(ToAttribute(key, value));
    }
    element ext;
    if (!r[urn::kSailPointUser].get(ext) && ext.is_object()) {
      for (auto [key, value] : ext.get_object()) {
        if (key == "roles") {
          simdjson::dom::array roles;
          if (value.get_array().get(roles)) continue;
          for (element role : roles) {
            std::string name = Str(role, "display");
            if (name.empty()) continue;
            std::string acquired = Str(role, "acquired");
            std::string kind = Str(role, "value");
            bool detected = acquired == "Detected" || (acquired.empty() && kind == "detectedRoles");
            (detected ? id.detected_roles : id.assigned_roles).push_back(std::move(name));
          }
        } else if (key == "accounts") {
          simdjson::dom::array accounts;
          if (value.get_array().get(accounts)) continue;
          for (element a : accounts) {
            std::string v = Str(a, "value");
            if (!v.empty()) id.account_ids.push_back(std::move(v));
          }
        } else if (key == "entitlements") {
          // value = attribute name, display = the entitlement value: one account per
          // (application, accountName). Used when no Account resource is linked.
          simdjson::dom::array ents;
          if (value.get_array().get(ents)) continue;
          for (element e : ents) {
            std::string app = Str(e, "application"), account = Str(e, "accountName");
            std::string attr = Str(e, "value"), val = Str(e, "display");
            if (app.empty() || attr.empty()) continue;
            AccountObject* target = nullptr;
            for (auto& acc : id.accounts)
              if (acc.application == app && acc.native_identity == account) target = &acc;
            if (!target) {
              id.accounts.push_back({});
              target = &id.accounts.back();
              target->from_scim = true;  // queried through its User, not as an Account
              target->application = app;
              target->native_identity = account;
              target->where = Where(pointer);
            }
            AttributeObject* attribute = nullptr;
            for (auto& at : target->attributes)
              if (at.name == attr) attribute = &at;
            if (!attribute) {
              target->attributes.push_back({attr, {}, true});
              attribute = &target->attributes.back();
            }
            attribute->values.push_back(val);
          }
        } else {
          id.attributes.push_back(ToAttribute(key, value));
        }
      }
    }
    out.identities.push_back(std::move(id));
  }

  void ReadAccount(element r, const std::string& pointer) {
    AccountObject a;
    a.from_scim = true;
    a.id = Str(r, "id");
    a.native_identity = Str(r, "nativeIdentity");
    a.display_name = Str(r, "displayName");
    a.instance = Str(r, "instance");
    a.application = RefName(r, "application");
    element identity;
    if (!r["identity"].get(identity) && identity.is_object()) {
      a.identity = Str(identity, "displayName");
      if (a.identity.empty()) a.identity = Str(identity, "value");
    }
    a.where = Where(pointer);
    bool flag = false;
    if (!r["locked"].get_bool().get(flag)) a.locked = flag;
    if (!r["active"].get_bool().get(flag)) a.disabled = !flag;
    for (auto [key, value] : r.get_object()) {
      if (!absl::StartsWith(ToAbsl(key), ToAbsl(urn::kAccountSchemaPrefix)) || !value.is_object()) continue;
      for (auto [attr, v] : value.get_object()) a.attributes.push_back(ToAttribute(attr, v));
    }
    if (a.application.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "Account without an application is skipped",
                                 a.where, "Account[" + a.id + "]"});
      return;
    }
    out.accounts.push_back(std::move(a));
  }

  void ReadEntitlement(element r, const std::string& pointer) {
    EntitlementObject e;
    e.from_scim = true;
    e.id = Str(r, "id");
    e.application = RefName(r, "application");
    e.attribute = Str(r, "attribute");
    e.value = Str(r, "value");
    e.display_name = Str(r, "displayableName");
    e.type = Str(r, "type");
    bool requestable = true;
    if (!r["requestable"].get_bool().get(requestable)) e.requestable = requestable;
    e.where = Where(pointer);
    out.entitlements.push_back(std::move(e));
  }

  void ReadRole(element r, const std::string& pointer) {
    RoleObject role;
    role.from_scim = true;
    role.name = Str(r, "name");
    role.id = Str(r, "id");
    role.display_name = Str(r, "displayableName");
    role.where = Where(pointer);
    element type;
    if (!r["type"].get(type)) role.type = type.is_object() ? Str(type, "name") : ScalarText(type);
    bool active = true;
    if (!r["active"].get_bool().get(active)) role.disabled = !active;
    role.inheritance = RefNames(r, "inheritance");
    role.requirements = RefNames(r, "requirements");
    role.permits = RefNames(r, "permits");
    if (role.name.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "Role without a name is skipped",
                                 role.where, "Role[" + role.id + "]"});
      return;
    }
    out.roles.push_back(std::move(role));
  }

  void ReadApplication(element r, const std::string& pointer) {
    ApplicationObject app;
    app.from_scim = true;
    app.name = Str(r, "name");
    app.id = Str(r, "id");
    app.type = Str(r, "type");
    app.where = Where(pointer);
    if (app.name.empty()) return;
    out.applications.push_back(std::move(app));
  }

  void ReadResource(element r, const std::string& pointer) {
    if (!r.is_object()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "a SCIM resource must be a JSON object",
                                 Where(pointer), ""});
      return;
    }
    std::string type = ResourceType(r);
    if (type.empty()) {
      out.diagnostics.push_back({Severity::kWarning, ErrorCode::kUnsupported,
                                 "JSON object is not a SCIM resource Preflight reads (no known schema)",
                                 Where(pointer), ""});
      return;
    }
    out.scim_documents.emplace_back(type, simdjson::minify(r));
    if (type == "Users") ReadUser(r, pointer);
    else if (type == "Accounts") ReadAccount(r, pointer);
    else if (type == "Entitlements") ReadEntitlement(r, pointer);
    else if (type == "Roles") ReadRole(r, pointer);
    else if (type == "Applications") ReadApplication(r, pointer);
  }
};

}  // namespace

absl::Status ReadScimJson(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits) {
  simdjson::dom::parser parser;
  return snapshot_sources_internal::ReadScimJson(parser, text, file, out, limits, false);
}

static_assert(kSourcePadding >= simdjson::SIMDJSON_PADDING);

absl::Status snapshot_sources_internal::ReadScimJson(simdjson::dom::parser& parser, std::string_view text,
                                                     std::string_view file, SnapshotObjects& out,
                                                     const Limits& limits, bool padded) {
  const size_t depth = static_cast<size_t>(limits.max_nesting_depth);
  if ((parser.capacity() < text.size() + 64 || parser.max_depth() != depth) &&
      parser.allocate(text.size() + 64, depth)) {
    return MakeError(ErrorCode::kTooMany, "cannot allocate the JSON parser", Location{std::string(file)});
  }
  element root;
  if (auto err = parser.parse(text.data(), text.size(), !padded).get(root)) {
    ErrorCode code = err == simdjson::DEPTH_ERROR ? ErrorCode::kTooMany : ErrorCode::kInvalidSyntax;
    return MakeError(code, absl::StrCat("malformed JSON: ", simdjson::error_message(err)), Location{std::string(file)});
  }
  Reader reader{std::string(file), out};
  simdjson::dom::array resources;
  if (root.is_array()) {
    size_t i = 0;
    for (element r : root.get_array()) reader.ReadResource(r, absl::StrCat("/", i++));
  } else if (root.is_object() && !root["Resources"].get_array().get(resources)) {
    size_t i = 0;
    for (element r : resources) reader.ReadResource(r, absl::StrCat("/Resources/", i++));
  } else {
    reader.ReadResource(root, "");
  }
  return absl::OkStatus();
}

}  // namespace preflight
