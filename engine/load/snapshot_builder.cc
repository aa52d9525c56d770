#include "engine/load/snapshot_builder.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/load/role_semantics.h"
#include "engine/load/identity_flags.h"
#include "engine/util/file.h"

namespace preflight {
namespace {

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

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

// Role types whose defaults forbid detection (research/iiq-semantics.md 2.1).

}  // namespace

class BuildContext;
class BuildContext {
 public:
  BuildContext(Snapshot& s, SnapshotObjects& o) : snap(s), objects(o) {}

  Snapshot& snap;
  SnapshotObjects& objects;
  absl::flat_hash_map<std::string, Index> account_by_id;
  absl::flat_hash_map<std::string, Index> identity_by_id;
  absl::flat_hash_map<std::string, Index> role_by_id, role_by_display;

  Id Intern(std::string_view s) { return snap.pool_.Intern(s); }

  void Diag(Severity sev, ErrorCode code, std::string message, const Location& where, std::string object) {
    snap.diagnostics_.push_back({sev, code, std::move(message), where, std::move(object)});
  }

  Index App(const std::string& name, const Location& where, const std::string& object) {
    Id id = Intern(name);
    auto it = snap.app_by_name_.find(id);
    if (it != snap.app_by_name_.end()) return it->second;
    // An account or profile of an application the snapshot does not define: keep
    // the reference usable, and say so.
    Diag(Severity::kWarning, ErrorCode::kInvalidValue,
         absl::StrCat("application '", name, "' is not defined in the snapshot"), where, object);
    Index index = static_cast<Index>(snap.applications_.size());
    Application app;
    app.name = id;
    snap.applications_.push_back(std::move(app));
    snap.app_by_name_.emplace(id, index);
    return index;
  }

  Index Role(const std::string& name, const Location& where, const std::string& object) {
    Id id = snap.pool_.Find(name);
    if (id != kNoId) {
      auto it = snap.role_by_name_.find(id);
      if (it != snap.role_by_name_.end()) return it->second;
    }
    if (auto it = role_by_id.find(name); it != role_by_id.end()) return it->second;
    if (auto it = role_by_display.find(name); it != role_by_display.end()) return it->second;
    Diag(Severity::kError, ErrorCode::kInvalidValue, absl::StrCat("unknown role '", name, "'"), where, object);
    return kNoIndex;
  }

  std::vector<Index> Roles(const std::vector<std::string>& names, const Location& where, const std::string& object) {
    std::vector<Index> out;
    for (const auto& n : names) {
      Index r = Role(n, where, object);
      if (r != kNoIndex && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
    return out;
  }

  AttrValues Attr(const AttributeObject& a) {
    AttrValues v;
    v.name = Intern(a.name);
    v.multi = a.multi;
    v.values.reserve(a.values.size());
    for (const auto& s : a.values) v.values.push_back(Intern(s));
    return v;
  }

  std::vector<AttrValues> Attrs(const std::vector<AttributeObject>& attrs) {
    std::vector<AttrValues> out;
    out.reserve(attrs.size());
    for (const auto& a : attrs) {
      if (a.values.empty() && !a.multi) continue;  // null
      out.push_back(Attr(a));
    }
    std::sort(out.begin(), out.end(), [](const AttrValues& x, const AttrValues& y) { return x.name < y.name; });
    // Merge duplicate keys (repeated entries) into one multi-valued attribute.
    std::vector<AttrValues> merged;
    for (auto& v : out) {
      if (!merged.empty() && merged.back().name == v.name) {
        merged.back().multi = true;
        merged.back().values.insert(merged.back().values.end(), v.values.begin(), v.values.end());
      } else {
        merged.push_back(std::move(v));
      }
    }
    return merged;
  }

  Filter ConvertFilter(const FilterObject& f, const std::vector<Index>* compound_apps, const Location& where,
                       const std::string& object) {
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

  static bool FilterSupported(const Filter& f) {
    if (f.op == Filter::Op::kUnsupported) return false;
    for (const auto& c : f.children)
      if (!FilterSupported(c)) return false;
    return true;
  }

  static std::string UnsupportedOps(const Filter& f) {
    if (f.op == Filter::Op::kUnsupported) return f.unsupported_op;
    for (const auto& c : f.children) {
      std::string s = UnsupportedOps(c);
      if (!s.empty()) return s;
    }
    return {};
  }
};

absl::Status SnapshotBuilder::AddText(std::string_view text, std::string_view name) {
  auto t = Clock::now();
  timings_.files++;
  timings_.bytes += text.size();
  absl::Status status;
  switch (DetectSourceKind(text)) {
    case SourceKind::kIiqXml: status = ReadIiqXml(text, name, objects_, options_.limits); break;
    case SourceKind::kScimJson: status = ReadScimJson(text, name, objects_, options_.limits); break;
    case SourceKind::kUnknown:
      status = MakeError(ErrorCode::kInvalidValue, "neither IdentityIQ XML nor SCIM JSON", Location{std::string(name)});
  }
  timings_.parse_ms += MsSince(t);
  if (!status.ok()) {
    if (options_.strict) return status;
    Location where = LocationOf(status);
    objects_.diagnostics.push_back({Severity::kError, ErrorCodeOf(status), DetailOf(status), where, std::string(name)});
  }
  return absl::OkStatus();
}

absl::Status SnapshotBuilder::AddFile(const std::string& path) {
  auto t = Clock::now();
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  timings_.read_ms += MsSince(t);
  return AddText(*text, path);
}

absl::Status SnapshotBuilder::AddPath(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string ext = it->path().extension().string();
      if (ext == ".xml" || ext == ".json") files.push_back(it->path().string());
    }
    if (ec) return MakeError(ErrorCode::kNotFound, absl::StrCat("cannot list directory: ", ec.message()), Location{path});
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (auto s = AddFile(f); !s.ok()) return s;
    return absl::OkStatus();
  }
  return AddFile(path);
}

absl::StatusOr<std::shared_ptr<const Snapshot>> SnapshotBuilder::Build() {
  auto t = Clock::now();
  auto snap = std::make_shared<Snapshot>();
  BuildContext ctx(*snap, objects_);
  Snapshot& s = *snap;
  for (auto& d : objects_.diagnostics) s.diagnostics_.push_back(d);

  // Applications.
  for (const ApplicationObject& a : objects_.applications) {
    Id name = ctx.Intern(a.name);
    if (s.app_by_name_.contains(name)) {
      ctx.Diag(Severity::kWarning, ErrorCode::kInvalidValue, "application defined twice; the first definition is used",
               a.where, "Application[" + a.name + "]");
      continue;
    }
    Application app;
    app.name = name;
    app.case_insensitive = a.case_insensitive;
    app.has_account_schema = a.has_account_schema;
    app.identity_attribute = a.identity_attribute.empty() ? kNoId : ctx.Intern(a.identity_attribute);
    app.id = a.id;
    app.type = a.type;
    app.from_scim = a.from_scim;
    for (const auto& attr : a.account_schema) app.schema[ctx.Intern(attr.name)] = attr.multi;
    s.app_by_name_.emplace(name, static_cast<Index>(s.applications_.size()));
    s.applications_.push_back(std::move(app));
  }

  // Roles: names first (so references resolve in any order), then the bodies. When
  // the same role comes twice (XML and SCIM), the definition with profiles wins.
  std::vector<const RoleObject*> role_objects;
  for (const RoleObject& r : objects_.roles) {
    Id name = ctx.Intern(r.name);
    auto it = s.role_by_name_.find(name);
    if (it != s.role_by_name_.end()) {
      const RoleObject*& kept = role_objects[it->second];
      if (kept->profiles.empty() && !r.profiles.empty()) kept = &r;
      continue;
    }
    Index index = static_cast<Index>(role_objects.size());
    s.role_by_name_.emplace(name, index);
    role_objects.push_back(&r);
    if (!r.id.empty()) ctx.role_by_id.emplace(r.id, index);
    if (!r.display_name.empty()) ctx.role_by_display.emplace(r.display_name, index);
  }
  s.roles_.resize(role_objects.size());
  s.children_.resize(role_objects.size());
  for (Index i = 0; i < role_objects.size(); ++i) {
    const RoleObject& r = *role_objects[i];
    std::string object = "Bundle[" + r.name + "]";
    Role& role = s.roles_[i];
    role.name = ctx.Intern(r.name);
    role.id = r.id;
    role.description = r.description;
    role.from_scim = r.from_scim;
    role.type = ctx.Intern(r.type);
    role.display_name = r.display_name;
    role.disabled = r.disabled;
    role.or_profiles = r.or_profiles;
    role.inheritance = ctx.Roles(r.inheritance, r.where, object);
    if (std::find(role.inheritance.begin(), role.inheritance.end(), i) != role.inheritance.end()) {
      ctx.Diag(Severity::kError, ErrorCode::kInvalidValue,
               "role inheritance cycle: the role inherits from itself (IdentityIQ recurses on it without end)",
               r.where, object);
      role.inheritance.erase(std::remove(role.inheritance.begin(), role.inheritance.end(), i), role.inheritance.end());
    }
    role.requirements = ctx.Roles(r.requirements, r.where, object);
    role.permits = ctx.Roles(r.permits, r.where, object);
    for (const ProfileObject& p : r.profiles) {
      Profile profile;
      profile.application = p.application.empty() ? kNoIndex : ctx.App(p.application, r.where, object);
      for (const FilterObject& f : p.constraints) {
        Filter filter = ctx.ConvertFilter(f, nullptr, r.where, object);
        if (!BuildContext::FilterSupported(filter)) {
          role.profiles_supported = false;
          ctx.Diag(Severity::kUnsupported, ErrorCode::kUnsupported,
                   absl::StrCat("profile filter operation '", BuildContext::UnsupportedOps(filter),
                                "' is not supported; the role is never detected"),
                   r.where, object);
        }
        profile.constraints.push_back(std::move(filter));
      }
      for (const PermissionObject& perm : p.permissions) {
        Permission pm;
        pm.target = ctx.Intern(perm.target);
        for (const auto& right : perm.rights) pm.rights.push_back(ctx.Intern(right));
        profile.permissions.push_back(std::move(pm));
      }
      if (profile.application == kNoIndex) {
        role.profiles_supported = false;
        ctx.Diag(Severity::kUnsupported, ErrorCode::kUnsupported, "profile without an application", r.where, object);
      }
      role.profiles.push_back(std::move(profile));
    }
    role.detectable = !role.profiles.empty() && role.profiles_supported;  // reachability: ApplyRoleTypes
    for (Index super : role.inheritance) s.children_[super].push_back(i);
  }
  // Upward closure, iteratively, cycle-safe.
  for (Index i = 0; i < s.roles_.size(); ++i) {
    std::vector<Index> stack(s.roles_[i].inheritance.begin(), s.roles_[i].inheritance.end());
    std::vector<Index>& closure = s.roles_[i].supers_closure;
    while (!stack.empty()) {
      Index r = stack.back();
      stack.pop_back();
      if (r == i || std::find(closure.begin(), closure.end(), r) != closure.end()) continue;
      closure.push_back(r);
      for (Index up : s.roles_[r].inheritance) stack.push_back(up);
    }
  }
  ApplyRoleTypes(s, objects_);
  // Detection index: (application, attribute, value) -> roles whose profile needs it.
  for (Index i = 0; i < s.roles_.size(); ++i) {
    const Role& role = s.roles_[i];
    if (!role.detectable) continue;
    // One indexable leaf per profile: a top-level positive EQ / CONTAINS_ALL / IN.
    std::vector<std::vector<std::pair<Id, Id>>> keys_per_profile;
    bool all_indexable = true, any_indexable = false;
    for (const Profile& p : role.profiles) {
      std::vector<std::pair<Id, Id>> keys;
      for (const Filter& f : p.constraints) {
        if (f.ignore_case || f.values.empty()) continue;
        if (f.op == Filter::Op::kEq || f.op == Filter::Op::kContainsAll) {
          keys.push_back({f.property, f.values.front()});
          break;
        }
        if (f.op == Filter::Op::kIn) {
          for (Id v : f.values) keys.push_back({f.property, v});
          break;
        }
      }
      if (keys.empty()) all_indexable = false;
      else any_indexable = true;
      keys_per_profile.push_back(std::move(keys));
    }
    bool indexable = role.or_profiles ? all_indexable : any_indexable;
    if (!indexable) {
      s.unindexed_roles_.push_back(i);
      continue;
    }
    for (size_t p = 0; p < role.profiles.size(); ++p) {
      for (const auto& [attr, value] : keys_per_profile[p]) {
        auto& list = s.roles_by_value_[Snapshot::Key{role.profiles[p].application, attr, value}];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
      if (!role.or_profiles && !keys_per_profile[p].empty()) break;  // AND: one profile suffices
    }
  }

  // Which roles a change of the accounts can re-detect (incremental detection), in the
  // key space of the check's account changes:
  //  (app, attr, value)  a positive leaf (case-sensitive CONTAINS_ALL / IN) naming the value;
  //  (app, attr, -)      any other leaf reading the attribute;
  //  (app, -, -)         profiles that could match an account holding none of their
  //                      values (no positive leaf), or that need permissions.
  for (Index i = 0; i < s.roles_.size(); ++i) {
    const Role& role = s.roles_[i];
    auto add = [&](Index app, Id attr, Id value) {
      auto& list = s.roles_reading_[Snapshot::Key{app, attr, value}];
      if (list.empty() || list.back() != i) list.push_back(i);
    };
    for (const Profile& p : role.profiles) {
      bool positive = false;
      // (filter, under an AND chain from the profile root?)
      std::vector<std::pair<const Filter*, bool>> stack;
      for (const Filter& f : p.constraints) stack.push_back({&f, true});
      while (!stack.empty()) {
        auto [f, and_chain] = stack.back();
        stack.pop_back();
        bool composite = f->op == Filter::Op::kAnd || f->op == Filter::Op::kOr || f->op == Filter::Op::kNot;
        if (composite) {
          for (const Filter& c : f->children) stack.push_back({&c, and_chain && f->op == Filter::Op::kAnd});
          continue;
        }
        bool value_leaf = (f->op == Filter::Op::kContainsAll || f->op == Filter::Op::kIn) && !f->ignore_case &&
                          !f->values.empty();
        if (value_leaf) {
          for (Id v : f->values) add(p.application, f->property, v);
          positive = positive || and_chain;
          if (f->op == Filter::Op::kIn) add(p.application, f->property, kNoId);  // IN reads a single value
        } else {
          add(p.application, f->property, kNoId);
        }
      }
      if (!positive || !p.permissions.empty()) add(p.application, kNoId, kNoId);
      if (!p.permissions.empty()) s.any_permission_profiles_ = true;
    }
  }

  // Identities and their accounts.
  auto add_account = [&](const AccountObject& a, Index owner) {
    std::string object = "Link[" + a.native_identity + "]";
    Account acc;
    acc.id = a.id;
    acc.from_scim = a.from_scim;
    acc.application = ctx.App(a.application, a.where, object);
    acc.instance = a.instance.empty() ? kNoId : ctx.Intern(a.instance);
    acc.native_identity = ctx.Intern(a.native_identity);
    acc.display_name = a.display_name.empty() ? kNoId : ctx.Intern(a.display_name);
    acc.identity = owner;
    acc.attributes = ctx.Attrs(a.attributes);
    // Multi-valued per the application's schema, where the source lost the list.
    const Application& app = s.applications_[acc.application];
    for (AttrValues& v : acc.attributes)
      if (app.IsMulti(v.name)) v.multi = true;
    for (const PermissionObject& p : a.permissions) {
      Permission pm;
      pm.target = ctx.Intern(p.target);
      for (const auto& r : p.rights) pm.rights.push_back(ctx.Intern(r));
      acc.permissions.push_back(std::move(pm));
    }
    acc.disabled = a.disabled;
    acc.locked = a.locked;
    Index index = static_cast<Index>(s.accounts_.size());
    s.accounts_.push_back(std::move(acc));
    s.identities_[owner].accounts.push_back(index);
    if (!a.id.empty()) ctx.account_by_id.emplace(a.id, index);
    return index;
  };
  for (const IdentityObject& io : objects_.identities) {
    Id name = ctx.Intern(io.name);
    if (s.identity_by_name_.contains(name)) {
      ctx.Diag(Severity::kWarning, ErrorCode::kInvalidValue, "identity defined twice; the first definition is used",
               io.where, "Identity[" + io.name + "]");
      continue;
    }
    Index index = static_cast<Index>(s.identities_.size());
    s.identity_by_name_.emplace(name, index);
    if (!io.id.empty()) ctx.identity_by_id.emplace(io.id, index);
    Identity identity;
    identity.name = name;
    identity.id = io.id;
    identity.display_name = io.display_name;
    identity.from_scim = io.from_scim;
    identity.inactive = io.inactive;
    std::string object = "Identity[" + io.name + "]";
    identity.assigned_roles = ctx.Roles(io.assigned_roles, io.where, object);
    identity.detected_roles = ctx.Roles(io.detected_roles, io.where, object);
    identity.attributes = ctx.Attrs(io.attributes);
    s.identities_.push_back(std::move(identity));
    for (const AccountObject& a : io.accounts) add_account(a, index);
  }
  // Standalone accounts (SCIM Accounts, Links with an owner): attach by owner name or id.
  auto find_identity = [&](const std::string& name) -> Index {
    Id id = s.pool_.Find(name);
    auto it = id == kNoId ? s.identity_by_name_.end() : s.identity_by_name_.find(id);
    return it == s.identity_by_name_.end() ? kNoIndex : it->second;
  };
  absl::flat_hash_map<std::string, Index> owner_by_account_id;
  std::vector<bool> lists_account_ids(s.identities_.size());  // SCIM Users naming their Accounts
  for (const IdentityObject& io : objects_.identities) {
    Index owner = find_identity(io.name);
    for (const auto& id : io.account_ids) owner_by_account_id.emplace(id, owner);
    if (!io.account_ids.empty()) lists_account_ids[owner] = true;
  }
  absl::flat_hash_set<Index> identities_with_resources;
  for (const AccountObject& a : objects_.accounts) {
    Index owner = kNoIndex;
    if (auto it = owner_by_account_id.find(a.id); !a.id.empty() && it != owner_by_account_id.end()) owner = it->second;
    if (owner == kNoIndex) owner = find_identity(a.identity);
    if (owner == kNoIndex)
      if (auto it = ctx.identity_by_id.find(a.identity); it != ctx.identity_by_id.end()) owner = it->second;
    if (owner == kNoIndex) {
      ctx.Diag(Severity::kError, ErrorCode::kInvalidValue,
               absl::StrCat("account of unknown identity '", a.identity, "' is skipped"), a.where,
               "Account[" + a.native_identity + "]");
      continue;
    }
    if (identities_with_resources.insert(owner).second && lists_account_ids[owner]) {
      // Accounts synthesized from the User's entitlements give way to real Account resources.
      s.identities_[owner].accounts.clear();
    }
    add_account(a, owner);
  }

  // Populations and the identity configuration.
  for (const GroupDefinitionObject& g : objects_.populations) {
    Population pop;
    pop.name = g.name;
    pop.id = g.id;
    if (g.filter) {
      std::string object = "GroupDefinition[" + g.name + "]";
      pop.filter = ctx.ConvertFilter(*g.filter, nullptr, g.where, object);
      pop.has_filter = true;
      if (!BuildContext::FilterSupported(pop.filter))
        ctx.Diag(Severity::kUnsupported, ErrorCode::kUnsupported,
                 absl::StrCat("population filter operation '", BuildContext::UnsupportedOps(pop.filter),
                              "' is not supported; scans never match it"),
                 g.where, object);
    }
    s.populations_.push_back(std::move(pop));
  }
  s.has_identity_config_ = objects_.has_identity_config;
  for (const IdentityAttributeObject& a : objects_.identity_attributes) s.identity_attribute_defs_[ctx.Intern(a.name)] = a.multi;

  // Policies.
  for (const PolicyObject& po : objects_.policies) {
    std::string object = "Policy[" + po.name + "]";
    Id name = ctx.Intern(po.name);
    if (s.policy_by_name_.contains(name)) {
      ctx.Diag(Severity::kWarning, ErrorCode::kInvalidValue, "policy defined twice; the first definition is used",
               po.where, object);
      continue;
    }
    Policy p;
    p.name = po.name;
    p.id = po.id;
    p.type = po.type;
    p.executor = po.executor;
    p.active = po.state == "Active";
    p.violation_rule = po.violation_rule;
    for (const ConstraintObject& co : po.constraints)
      if (p.violation_rule.empty() && !co.disabled) p.violation_rule = co.violation_rule;
    std::string_view executor = po.executor;
    if (absl::EndsWith(ToAbsl(executor), "EffectiveEntitlementSODPolicyExecutor") || (executor.empty() && po.type == "EffectiveEntitlementSOD"))
      p.unsupported = "EffectiveEntitlementSOD needs the effective-access index";
    else if (absl::EndsWith(ToAbsl(executor), ".SODPolicyExecutor") || (executor.empty() && po.type == "SOD"))
      p.kind = Policy::Kind::kRoleSod;
    else if (absl::EndsWith(ToAbsl(executor), ".EntitlementSODPolicyExecutor") || (executor.empty() && po.type == "EntitlementSOD"))
      p.kind = Policy::Kind::kEntitlementSod;
    else if (absl::EndsWith(ToAbsl(executor), ".GenericPolicyExecutor") || (executor.empty() && po.type == "Advanced"))
      p.kind = Policy::Kind::kAdvanced;
    else if (absl::EndsWith(ToAbsl(executor), ".AccountPolicyExecutor") || (executor.empty() && po.type == "Account"))
      p.kind = Policy::Kind::kAccount;
    else if (absl::EndsWith(ToAbsl(executor), ".RiskPolicyExecutor") || (executor.empty() && po.type == "Risk"))
      p.kind = Policy::Kind::kRisk;
    else if (absl::EndsWith(ToAbsl(executor), ".ActivityPolicyExecutor") || (executor.empty() && po.type == "Activity"))
      p.kind = Policy::Kind::kActivity;
    else
      p.unsupported = absl::StrCat("policy type '", po.type, "' (executor '", po.executor,
                                   "') cannot be evaluated on a simulated plan");
    if (p.kind == Policy::Kind::kUnsupported)
      ctx.Diag(Severity::kUnsupported, ErrorCode::kUnsupported, p.unsupported, po.where, object);
    for (const ConstraintObject& co : po.constraints) {
      Constraint c;
      c.id = co.id;
      c.disabled = co.disabled;
      c.description = co.description;
      c.name = co.name;
      c.has_name = co.has_name;
      std::string cobject = co.where.pointer.empty() ? object : co.where.pointer;
      // Account policies read no constraint (the first GenericConstraint only names their
      // violations); Risk and Activity policies cannot produce a new violation in a check.
      bool evaluated = p.kind == Policy::Kind::kRoleSod || p.kind == Policy::Kind::kEntitlementSod ||
                       p.kind == Policy::Kind::kAdvanced || p.kind == Policy::Kind::kUnsupported;
      if (!evaluated) {
        c.kind = co.kind == ConstraintObject::Kind::kGeneric ? Constraint::Kind::kGeneric : Constraint::Kind::kUnsupported;
        if (p.kind == Policy::Kind::kAccount && c.kind == Constraint::Kind::kGeneric && p.account_constraint == kNoIndex)
          p.account_constraint = static_cast<Index>(p.constraints.size());
        p.constraints.push_back(std::move(c));
        continue;
      }
      if (co.kind == ConstraintObject::Kind::kRoleSod) {
        c.kind = Constraint::Kind::kRoleSod;
        c.left = ctx.Roles(co.left_roles, co.where, cobject);
        c.right = ctx.Roles(co.right_roles, co.where, cobject);
      } else if (co.kind == ConstraintObject::Kind::kGeneric) {
        c.kind = Constraint::Kind::kGeneric;
        for (const SelectorObject& so : co.selectors) {
          Selector sel;
          sel.unsupported = so.unsupported;
          if (so.population) {
            sel.has_population = true;
            for (Index pi = 0; pi < s.populations_.size() && sel.population == kNoIndex; ++pi)
              if (s.populations_[pi].name == *so.population) sel.population = pi;
            if (sel.population == kNoIndex)
              ctx.Diag(Severity::kWarning, ErrorCode::kInvalidValue,
                       absl::StrCat("population '", *so.population,
                                    "' is not in the snapshot; taken as one with a filter, which never matches in a check"),
                       co.where, cobject);
          }
          sel.has_match_expression = so.has_match_expression;
          sel.match_and = so.match_and;
          std::function<MatchTerm(const MatchTermObject&)> term = [&](const MatchTermObject& t) {
            MatchTerm m;
            std::string app_name = t.application;
            if (app_name.empty() && !t.container) {
              app_name = so.match_application;
              m.inherited_application = !app_name.empty();
            }
            if (!app_name.empty()) m.application = ctx.App(app_name, co.where, cobject);
            m.application_name = t.application;  // the term's own, for the response
            if (t.type.empty() || t.type == "Entitlement") m.type = MatchTerm::Type::kEntitlement;
            else if (t.type == "Permission") m.type = MatchTerm::Type::kPermission;
            else if (t.type == "IdentityAttribute") m.type = MatchTerm::Type::kIdentityAttribute;
            else if (t.type == "RoleAttribute") m.type = MatchTerm::Type::kRoleAttribute;
            else if (t.type == "EntitlementAttribute") m.type = MatchTerm::Type::kEntitlementAttribute;
            else m.type = MatchTerm::Type::kTargetPermission;
            if (m.type == MatchTerm::Type::kRoleAttribute || m.type == MatchTerm::Type::kEntitlementAttribute ||
                m.type == MatchTerm::Type::kTargetPermission)
              sel.unsupported.push_back(absl::StrCat("match term type '", t.type, "'"));
            if (t.check_effective) sel.unsupported.push_back("checkEffective (effective-access index)");
            m.name = ctx.Intern(t.name);
            m.name_text = t.name;
            m.value_null = !t.value.has_value();
            m.value = t.value ? ctx.Intern(*t.value) : kNoId;
            m.value_text = t.value.value_or("");
            m.container = t.container;
            m.and_op = t.and_op;
            m.negative = t.negative;
            m.check_effective = t.check_effective;
            for (const auto& child : t.children) m.children.push_back(term(child));
            return m;
          };
          for (const auto& t : so.terms) sel.terms.push_back(term(t));
          sel.has_compound_filter = so.has_compound_filter;
          if (so.has_compound_filter) {
            std::vector<Index> apps;
            for (const auto& a : so.compound_applications) apps.push_back(ctx.App(a, co.where, cobject));
            for (const auto& f : so.compound_filter) {
              Filter filter = ctx.ConvertFilter(f, &apps, co.where, cobject);
              if (!BuildContext::FilterSupported(filter))
                sel.unsupported.push_back(absl::StrCat("filter operation '", BuildContext::UnsupportedOps(filter), "'"));
              sel.compound_filter.push_back(std::move(filter));
            }
          }
          c.selectors.push_back(std::move(sel));
        }
        if (c.selectors.empty() || c.selectors.size() > 2) {
          c.kind = Constraint::Kind::kUnsupported;
          c.unsupported = absl::StrCat("invalid constraint: ", c.selectors.size(), " selectors (IdentityIQ skips it)");
        }
        for (const Selector& sel : c.selectors)
          for (const auto& why : sel.unsupported) c.unsupported += (c.unsupported.empty() ? "" : "; ") + why;
      } else {
        c.kind = Constraint::Kind::kUnsupported;
        c.unsupported = absl::StrCat("<", co.element, "> constraints need activity data");
      }
      if (!c.unsupported.empty() && !c.disabled)
        ctx.Diag(Severity::kUnsupported, ErrorCode::kUnsupported, c.unsupported, co.where, cobject);
      p.constraints.push_back(std::move(c));
    }
    Index index = static_cast<Index>(s.policies_.size());
    s.policy_by_name_.emplace(name, index);
    if (!po.id.empty()) s.policy_by_id_.emplace(ctx.Intern(po.id), index);
    if (p.active) s.any_active_policy_ = true;
    s.policies_.push_back(std::move(p));
  }

  // The constraint index (see Snapshot::ConstraintsNamingRole).
  s.constraints_by_role_.resize(s.roles_.size());
  s.unsupported_constraints_.resize(s.policies_.size());
  for (Index pi = 0; pi < s.policies_.size(); ++pi) {
    const Policy& p = s.policies_[pi];
    IndexConstraintIdentity(s, pi);
    if (p.kind == Policy::Kind::kAccount || p.kind == Policy::Kind::kRisk || p.kind == Policy::Kind::kActivity) continue;
    for (Index ci = 0; ci < p.constraints.size(); ++ci) {
      const Constraint& c = p.constraints[ci];
      ConstraintRef ref{pi, ci};
      if (c.disabled) continue;
      if (!c.unsupported.empty()) {
        s.unsupported_constraints_[pi].push_back(ci);
        continue;
      }
      if (c.kind == Constraint::Kind::kRoleSod) {
        for (const auto* side : {&c.left, &c.right})
          for (Index r : *side) {
            auto& list = s.constraints_by_role_[r];
            if (list.empty() || !(list.back() == ref)) list.push_back(ref);
          }
        continue;
      }
      bool always = false;
      std::vector<Snapshot::Key> keys;
      std::function<void(const MatchTerm&)> visit = [&](const MatchTerm& t) {
        if (t.container) {
          for (const MatchTerm& child : t.children) visit(child);
          return;
        }
        if (t.application == kNoIndex) {
          // Identity attributes: a plan changes them only through the identity configuration.
          always = always || s.has_identity_config_;
          return;
        }
        if (t.type == MatchTerm::Type::kPermission) {
          always = true;
          return;
        }
        // A positive term changes only when its value comes or goes (an account created
        // or deleted brings its values along); a negative or null term also when the
        // attribute or the application's accounts change at all.
        if (t.negative || t.value_null) {
          keys.push_back({t.application, kNoId, kNoId});
          keys.push_back({t.application, t.name, kNoId});
        }
        if (!t.value_null) keys.push_back({t.application, t.name, t.value});
      };
      // An unnamed generic constraint without an id is never constraint-equal to its pre
      // violation: every post violation of it is new.
      if (!c.has_name && c.id.empty()) always = true;
      for (const Selector& sel : c.selectors) {
        if (sel.has_compound_filter) always = true;
        for (const MatchTerm& t : sel.terms) visit(t);
      }
      if (always) {
        s.always_constraints_.push_back(ref);
        continue;
      }
      for (const auto& k : keys) {
        auto& list = s.constraints_by_value_[k];
        if (list.empty() || !(list.back() == ref)) list.push_back(ref);
      }
    }
  }

  for (Index i = 0; i < s.policies_.size(); ++i)
    if (s.policies_[i].active) s.active_by_name_.push_back(i);
  std::sort(s.active_by_name_.begin(), s.active_by_name_.end(),
            [&](Index a, Index b) { return s.policies_[a].name < s.policies_[b].name; });

  s.entitlement_count_ = objects_.entitlements.size();
  for (const EntitlementObject& e : objects_.entitlements) {
    EntitlementRecord r;
    r.application = e.application.empty() ? kNoIndex : ctx.App(e.application, e.where, e.where.pointer);
    r.attribute = ctx.Intern(e.attribute);
    r.value = ctx.Intern(e.value);
    r.id = e.id;
    r.display_name = e.display_name;
    r.type = e.type;
    r.requestable = e.requestable;
    r.from_scim = e.from_scim;
    s.entitlements_.push_back(std::move(r));
  }
  for (auto& [type, json] : objects_.scim_documents) s.resources_[type].push_back(std::move(json));
  objects_.scim_documents.clear();

  if (options_.strict) {
    for (const Diagnostic& d : s.diagnostics_)
      if (d.severity == Severity::kError)
        return MakeError(d.code, absl::StrCat(d.object.empty() ? "" : d.object + ": ", d.message), d.where);
  }
  objects_ = SnapshotObjects();
  // Text-keyed lookups for the finished snapshot.
  auto by_text = [&](absl::flat_hash_map<Id, Index>& ids, Snapshot::NameMap& out) {
    out.reserve(ids.size());
    for (const auto& [id, index] : ids) out.emplace(s.pool_.Get(id), index);
    absl::flat_hash_map<Id, Index>().swap(ids);
  };
  by_text(s.identity_by_name_, s.identity_lookup_);
  by_text(s.role_by_name_, s.role_lookup_);
  by_text(s.app_by_name_, s.app_lookup_);
  by_text(s.policy_by_name_, s.policy_lookup_);
  by_text(s.policy_by_id_, s.policy_id_lookup_);
  PrecomputeIdentityFlags(s);
  timings_.build_ms = MsSince(t);
  s.timings_ = timings_;
#ifdef __GLIBC__
  // The loaders' temporary objects leave the heap fragmented; give the holes back so
  // checks do not pay for coalescing them.
  malloc_trim(0);
#endif
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> LoadSnapshot(const std::vector<std::string>& paths,
                                                             const LoadOptions& options) {
  SnapshotBuilder builder(options);
  for (const auto& p : paths)
    if (auto s = builder.AddPath(p); !s.ok()) return s;
  return builder.Build();
}

}  // namespace preflight
