#pragma once
// The typed ProvisioningPlan model (docs/semantics.md section 5). Every form
// (IIQ XML, the toMap JSON, the Map.toString text) decodes to this and encodes from it.
// Optional fields are std::optional so that "absent" and "empty" stay distinct and
// round trips are exact. What a form carries that the model does not name is kept in
// `extra` (unknown XML attributes and elements, unknown JSON keys), never dropped.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/value.h"

namespace preflight {

enum class AccountOp { kCreate, kModify, kDelete, kEnable, kDisable, kUnlock, kLock };
enum class AttributeOp { kSet, kAdd, kRemove, kRevoke, kRetain };

// Names exactly as IIQ spells them (Enum.valueOf is case-sensitive).
std::string_view AccountOpName(AccountOp op);
std::string_view AttributeOpName(AttributeOp op);
std::optional<AccountOp> ParseAccountOp(std::string_view name);
std::optional<AttributeOp> ParseAttributeOp(std::string_view name);

// What a form carried that the model has no field for.
struct Extra {
  std::vector<std::pair<std::string, std::string>> xml_attributes;  // unknown XML attributes, in order
  std::vector<std::string> xml_elements;  // unknown XML child elements, serialized verbatim
  AttributeMap json_fields;               // unknown JSON/map keys, in order
  bool empty() const { return xml_attributes.empty() && xml_elements.empty() && json_fields.empty(); }
  friend bool operator==(const Extra&, const Extra&) = default;
};

// <ProvisioningResult status="committed|queued|retry|failed"> with its messages.
struct ProvisioningResult {
  std::optional<std::string> status;
  std::vector<std::string> errors;    // <Errors><Message key=.. or text>
  std::vector<std::string> warnings;  // <Warnings><Message>
  Extra extra;
  friend bool operator==(const ProvisioningResult&, const ProvisioningResult&) = default;
};

struct AttributeRequest {
  std::string name;
  std::optional<AttributeOp> op;  // absent means Set
  Value value;                    // null, a string, a list of strings, or another Value
  std::optional<std::string> display_value;
  std::optional<std::string> assignment_id;
  std::optional<std::string> tracking_id;
  AttributeMap args;  // <Attributes><Map> / "args"
  std::optional<ProvisioningResult> result;
  Extra extra;

  AttributeOp effective_op() const { return op.value_or(AttributeOp::kSet); }
  friend bool operator==(const AttributeRequest&, const AttributeRequest&) = default;
};

struct PermissionRequest {
  std::string target;
  std::string rights;  // CSV, as IIQ stores it
  std::optional<AttributeOp> op;
  AttributeMap args;
  std::optional<ProvisioningResult> result;
  Extra extra;
  friend bool operator==(const PermissionRequest&, const PermissionRequest&) = default;
};

struct AccountRequest {
  std::optional<std::string> application;  // "IIQ" / "IdentityIQ" target the identity itself
  std::optional<std::string> instance;
  std::optional<std::string> native_identity;
  std::optional<AccountOp> op;  // absent means Modify
  std::optional<std::string> target_integration;
  std::optional<std::string> tracking_id;
  std::optional<std::string> source_role;
  std::optional<std::string> assignment_ids;
  std::vector<AttributeRequest> attributes;
  std::vector<PermissionRequest> permissions;
  AttributeMap args;
  std::optional<ProvisioningResult> result;
  Extra extra;

  AccountOp effective_op() const { return op.value_or(AccountOp::kModify); }
  bool is_iiq() const { return application && (*application == "IIQ" || *application == "IdentityIQ"); }
  friend bool operator==(const AccountRequest&, const AccountRequest&) = default;
};

// Group / ManagedAttribute requests. They have no effect on identity SoD, but are kept.
struct ObjectRequest {
  std::optional<std::string> type;  // "group"
  std::optional<std::string> application;
  std::optional<std::string> instance;
  std::optional<std::string> native_identity;
  std::optional<std::string> op;  // ObjectOperation: Create, Modify, Delete, Set...
  std::vector<AttributeRequest> attributes;
  std::vector<PermissionRequest> permissions;
  AttributeMap args;
  std::optional<ProvisioningResult> result;
  Extra extra;
  friend bool operator==(const ObjectRequest&, const ObjectRequest&) = default;
};

struct ProvisioningPlan {
  std::optional<std::string> native_identity;  // XML @nativeIdentity, JSON "identity"
  std::optional<std::string> target_integration;
  std::optional<std::string> tracking_id;
  std::vector<AccountRequest> accounts;
  std::vector<ObjectRequest> objects;
  AttributeMap args;  // <Attributes><Map>, JSON "args" (or legacy "integrationData")
  std::optional<ProvisioningResult> result;
  Extra extra;  // XML: Requesters, ProvisioningTargets, QuestionHistory... kept verbatim
  friend bool operator==(const ProvisioningPlan&, const ProvisioningPlan&) = default;
};

}  // namespace preflight
