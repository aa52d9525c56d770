#include "engine/model/plan.h"

#include <array>

namespace preflight {
namespace {
constexpr std::array<std::pair<AccountOp, std::string_view>, 7> kAccountOps{{
    {AccountOp::kCreate, "Create"}, {AccountOp::kModify, "Modify"}, {AccountOp::kDelete, "Delete"},
    {AccountOp::kEnable, "Enable"}, {AccountOp::kDisable, "Disable"}, {AccountOp::kUnlock, "Unlock"},
    {AccountOp::kLock, "Lock"}}};
constexpr std::array<std::pair<AttributeOp, std::string_view>, 5> kAttributeOps{{
    {AttributeOp::kSet, "Set"}, {AttributeOp::kAdd, "Add"}, {AttributeOp::kRemove, "Remove"},
    {AttributeOp::kRevoke, "Revoke"}, {AttributeOp::kRetain, "Retain"}}};
}  // namespace

std::string_view AccountOpName(AccountOp op) {
  for (const auto& [o, n] : kAccountOps)
    if (o == op) return n;
  return "Modify";
}
std::string_view AttributeOpName(AttributeOp op) {
  for (const auto& [o, n] : kAttributeOps)
    if (o == op) return n;
  return "Set";
}
std::optional<AccountOp> ParseAccountOp(std::string_view name) {
  for (const auto& [o, n] : kAccountOps)
    if (n == name) return o;
  return std::nullopt;
}
std::optional<AttributeOp> ParseAttributeOp(std::string_view name) {
  for (const auto& [o, n] : kAttributeOps)
    if (n == name) return o;
  return std::nullopt;
}

}  // namespace preflight
