#include "engine/load/build_context.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace preflight {
namespace {

Filter::Op ParseFilterOp(std::string_view op) {
  static const std::pair<std::string_view, Filter::Op> kOps[] = {
      {"EQ", Filter::Op::kEq},       {"NE", Filter::Op::kNe},         {"LT", Filter::Op::kLt},
      {"GT", Filter::Op::kGt},       {"LE", Filter::Op::kLe},         {"GE", Filter::Op::kGe},
      {"IN", Filter::Op::kIn},       {"CONTAINS_ALL", Filter::Op::kContainsAll},
      {"LIKE", Filter::Op::kLike},   {"NOTNULL", Filter::Op::kNotNull}, {"ISNULL", Filter::Op::kIsNull},
      {"ISEMPTY", Filter::Op::kIsEmpty}, {"AND", Filter::Op::kAnd},   {"OR", Filter::Op::kOr},
      {"NOT", Filter::Op::kNot}};
  for (const auto& [name, value] : kOps)
    if (absl::EqualsIgnoreCase(ToAbsl(op), ToAbsl(name))) return value;
  return Filter::Op::kUnsupported;
}

Filter::MatchMode ParseMatchMode(std::string_view m) {
  if (m == "START") return Filter::MatchMode::kStart;
  if (m == "END") return Filter::MatchMode::kEnd;
  if (m == "ANYWHERE") return Filter::MatchMode::kAnywhere;
  return Filter::MatchMode::kExact;
}

constexpr LoadPass kPasses[] = {
    {"applications", &BuildContext::ResolveApplications},
    {"roles", &BuildContext::ResolveRoles},
    {"roleIndexes", &BuildContext::IndexRoles},
    {"identities", &BuildContext::ResolveIdentities},
    {"populations", &BuildContext::ResolvePopulations},
    {"policies", &BuildContext::ResolvePolicies},
    {"constraintIndex", &BuildContext::IndexConstraints},
    {"entitlements", &BuildContext::ResolveEntitlements},
    {"queryDocuments", &BuildContext::BuildQueryDocuments},
    {"lookups", &BuildContext::BuildLookups},
    {"identityFlags", &BuildContext::ComputeIdentityFlags},
};

}  // namespace

std::span<const LoadPass> LoadPasses() { return kPasses; }

Index BuildContext::App(std::string_view name, const Location& where, const std::string& object) {
  Id id = Intern(name);
  auto it = snap.app_by_name_.find(id);
  if (it != snap.app_by_name_.end()) return it->second;
  // An account or profile of an application the snapshot does not define: keep
  // the reference usable, and say so.
  Diag(Severity::kWarning, ErrorCode::kInvalidValue,
       absl::StrCat("application '", ToAbsl(name), "' is not defined in the snapshot"), where, object);
  Index index = static_cast<Index>(snap.applications_.size());
  Application app;
  app.name = id;
  snap.applications_.push_back(std::move(app));
  snap.app_by_name_.emplace(id, index);
  return index;
}

Index BuildContext::FindRole(std::string_view name) {
  Id id = snap.pool_.Find(name);
  if (id != kNoId) {
    auto it = snap.role_by_name_.find(id);
    if (it != snap.role_by_name_.end()) return it->second;
  }
  if (auto it = role_by_id.find(ToAbsl(name)); it != role_by_id.end()) return it->second;
  if (auto it = role_by_display.find(ToAbsl(name)); it != role_by_display.end()) return it->second;
  return kNoIndex;
}

Index BuildContext::Role(std::string_view name, const Location& where, const std::string& object) {
  if (Index role = FindRole(name); role != kNoIndex) return role;
  Diag(Severity::kError, ErrorCode::kInvalidValue, absl::StrCat("unknown role '", ToAbsl(name), "'"), where, object);
  return kNoIndex;
}

Permission BuildContext::ConvertPermission(const PermissionObject& p) {
  Permission pm;
  pm.target = Intern(p.target);
  for (const auto& right : p.rights) pm.rights.push_back(Intern(right));
  return pm;
}

namespace {
Range Append(std::vector<Id>& arena, std::span<const Id> values) {
  Range r{static_cast<uint32_t>(arena.size()), static_cast<uint32_t>(values.size())};
  arena.insert(arena.end(), values.begin(), values.end());
  return r;
}
}  // namespace

Range BuildContext::Store(const std::vector<Permission>& permissions) {
  std::vector<PermissionRecord>& records = snap.population_.permissions.Build();
  Range r{static_cast<uint32_t>(records.size()), static_cast<uint32_t>(permissions.size())};
  for (const Permission& p : permissions) records.push_back({p.target, Append(snap.population_.rights.Build(), p.rights)});
  return r;
}

Range BuildContext::Store(std::span<const Index> list, Column<Index>& column) {
  return Append(column.Build(), list);
}

Filter BuildContext::ConvertFilter(const FilterObject& f, const std::vector<Index>* compound_apps,
                                   const Location& where, const std::string& object) {
  Filter out;
  out.op = ParseFilterOp(f.op);
  if (out.op == Filter::Op::kUnsupported) out.unsupported_op = f.op.empty() ? "(none)" : f.op;
  std::string property = f.property;
  if (compound_apps) {
    // CompoundFilter: "N:attr" or "AppName:attr" addresses an account attribute.
    size_t colon = property.find(':');
    if (colon != std::string::npos) {
      std::string prefix = property.substr(0, colon);
      property = property.substr(colon + 1);
      out.compound_account = true;
      bool numeric = !prefix.empty() && std::all_of(prefix.begin(), prefix.end(), absl::ascii_isdigit);
      if (numeric) {
        size_t i = std::stoul(prefix);
        if (i < compound_apps->size()) out.application = (*compound_apps)[i];
      } else {
        out.application = App(prefix, where, object);
      }
      if (out.application == kNoIndex) {
        out.op = Filter::Op::kUnsupported;
        out.unsupported_op = "application index " + prefix + " out of range";
      }
    }
  }
  out.property = Intern(property);
  out.has_value = f.has_value;
  out.value_is_list = f.value_is_list;
  out.ignore_case = f.ignore_case;
  out.match_mode = ParseMatchMode(f.match_mode);
  for (const auto& v : f.values) out.values.push_back(Intern(v));
  for (const auto& c : f.children) out.children.push_back(ConvertFilter(c, compound_apps, where, object));
  return out;
}

bool BuildContext::FilterSupported(const Filter& f) {
  if (f.op == Filter::Op::kUnsupported) return false;
  for (const auto& c : f.children)
    if (!FilterSupported(c)) return false;
  return true;
}

std::string BuildContext::UnsupportedOps(const Filter& f) {
  if (f.op == Filter::Op::kUnsupported) return f.unsupported_op;
  for (const auto& c : f.children) {
    std::string s = UnsupportedOps(c);
    if (!s.empty()) return s;
  }
  return {};
}

}  // namespace preflight
