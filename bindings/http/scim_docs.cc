#include "bindings/http/scim_docs.h"

#include <array>
#include <cctype>

#include "bindings/http/cat.h"
#include "bindings/http/json_text.h"
#include "bindings/http/scim_json.h"

namespace preflight::http {
namespace {

constexpr char kListResponse[] = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

struct ResourceTypeInfo {
  std::string_view id;
  std::string_view endpoint;
  std::string_view description;
  std::string_view schema;
  std::array<std::string_view, 2> extensions;
};

constexpr std::array<ResourceTypeInfo, 6> kResourceTypes = {{
    {"User", "/Users", "Identities of the snapshot (read only).", "urn:ietf:params:scim:schemas:core:2.0:User",
     {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:sailpoint:1.0:User"}},
    {"Account", "/Accounts", "Accounts (links) of the snapshot (read only).",
     "urn:ietf:params:scim:schemas:sailpoint:1.0:Account", {}},
    {"Entitlement", "/Entitlements", "Entitlements (managed attributes) of the snapshot (read only).",
     "urn:ietf:params:scim:schemas:sailpoint:1.0:Entitlement", {}},
    {"Role", "/Roles", "Roles (bundles) of the snapshot (read only).", "urn:ietf:params:scim:schemas:sailpoint:1.0:Role",
     {}},
    {"Application", "/Applications", "Applications of the snapshot (read only).",
     "urn:ietf:params:scim:schemas:sailpoint:1.0:Application", {}},
    {"CheckedPolicyViolation", "/CheckedPolicyViolations",
     "The policy violations a ProvisioningPlan would newly cause (POST only; nothing is stored).",
     "urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation", {}},
}};

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string ResourceType(const DiscoveryFacts& facts, const ResourceTypeInfo& t) {
  std::string out = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":)";
  AppendJsonString(out, t.id);
  out += ",\"name\":";
  AppendJsonString(out, t.id);
  out += ",\"endpoint\":";
  AppendJsonString(out, t.endpoint);
  out += ",\"description\":";
  AppendJsonString(out, t.description);
  out += ",\"schema\":";
  AppendJsonString(out, t.schema);
  out += ",\"schemaExtensions\":[";
  bool first = true;
  for (std::string_view e : t.extensions) {
    if (e.empty()) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"schema\":";
    AppendJsonString(out, e);
    out += ",\"required\":false}";
  }
  out += "],\"meta\":{\"resourceType\":\"ResourceType\",\"location\":";
  AppendJsonString(out, Cat(facts.base, "/ResourceTypes/", t.id));
  out += "}}";
  return out;
}

}  // namespace

std::string ServiceProviderConfigJson(const DiscoveryFacts& facts) {
  std::string out = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],)";
  out += R"("patch":{"supported":false},)";
  CatTo(out, R"("bulk":{"supported":true,"maxOperations":)", facts.bulk_max_operations,
                  R"(,"maxPayloadSize":)", facts.max_payload_bytes, "},");
  CatTo(out, R"("filter":{"supported":true,"maxResults":)", facts.max_results, "},");
  out += R"("changePassword":{"supported":false},"sort":{"supported":true},"etag":{"supported":false},)";
  out += R"("authenticationSchemes":[)";
  if (facts.basic)
    out += R"({"type":"httpbasic","name":"HTTP Basic","description":"Authentication with a user name and password from the server's credentials file.","primary":true})";
  if (facts.bearer) {
    if (facts.basic) out += ',';
    out += R"({"type":"oauthbearertoken","name":"Bearer token","description":"Authentication with a token from the server's token file."})";
  }
  out += R"(],"meta":{"resourceType":"ServiceProviderConfig","location":)";
  AppendJsonString(out, Cat(facts.base, "/ServiceProviderConfig"));
  out += "}}";
  return out;
}

std::string ResourceTypesJson(const DiscoveryFacts& facts) {
  std::string out = Cat(R"({"schemas":[")", kListResponse, R"("],"totalResults":)", kResourceTypes.size(),
                                 R"(,"itemsPerPage":)", kResourceTypes.size(), R"(,"startIndex":1,"Resources":[)");
  for (size_t i = 0; i < kResourceTypes.size(); ++i) {
    if (i) out += ',';
    out += ResourceType(facts, kResourceTypes[i]);
  }
  out += "]}";
  return out;
}

std::optional<std::string> ResourceTypeJson(const DiscoveryFacts& facts, std::string_view name) {
  for (const auto& t : kResourceTypes)
    if (EqualsNoCase(t.id, name)) return ResourceType(facts, t);
  return std::nullopt;
}

std::string SchemasJson() {
  return Cat(R"({"schemas":[")", kListResponse, R"("],"totalResults":)", SchemaCount(), R"(,"itemsPerPage":)",
                      SchemaCount(), R"(,"startIndex":1,"Resources":)",
                      std::string(kScimSchemasJson.data(), kScimSchemasJson.size()), "}");
}

std::optional<std::string> SchemaJson(std::string_view id) { return SchemaById(id); }

std::string_view QueryableType(std::string_view segment) {
  for (std::string_view t : {"Users", "Accounts", "Entitlements", "Roles", "Applications"})
    if (EqualsNoCase(t, segment)) return t;
  return "";
}

}  // namespace preflight::http
