#include "engine/plan/compiler.h"

#include <algorithm>
#include <span>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/plan/detection.h"
#include "engine/state/match.h"

namespace preflight {
namespace {

bool SameValue(const ValueIds& ids, Id a, Id b, bool case_insensitive) {
  return a == b || (case_insensitive && absl::EqualsIgnoreCase(ToAbsl(ids.Text(a)), ToAbsl(ids.Text(b))));
}

// A plan's values are compared pairwise with an attribute's (the usual plan: a few values
// against dozens, no allocation) until that is more than kPairwiseLimit comparisons; past it
// a hash set keeps a plan with 100,000 values on one attribute linear (issue 14).
constexpr size_t kPairwiseLimit = 4096;

// Membership under SameValue through a hash: ids, or ASCII-folded text when the
// application compares case-insensitively.
class HashedValues {
 public:
  HashedValues(const ValueIds& ids, bool case_insensitive) : ids_(ids), ci_(case_insensitive) {}
  bool Contains(Id x) const {
    return ci_ ? folded_.contains(absl::AsciiStrToLower(ToAbsl(ids_.Text(x)))) : exact_.contains(x);
  }
  // Adds x; false when an equal value was already in.
  bool Insert(Id x) {
    return ci_ ? folded_.insert(absl::AsciiStrToLower(ToAbsl(ids_.Text(x)))).second : exact_.insert(x).second;
  }

 private:
  const ValueIds& ids_;
  bool ci_;
  absl::flat_hash_set<Id> exact_;
  absl::flat_hash_set<std::string> folded_;
};

class Compiler {
 public:
  Compiler(const Snapshot& s, ValueIds& ids, Projection& out, const RoleFacts* facts, bool group_expansions)
      : s_(s), ids_(ids), out_(out), facts_(facts), group_expansions_(group_expansions) {
    removed_.clear();
  }

  void Warn(std::string message, std::string object = {}) {
    out_.diagnostics.push_back({Severity::kWarning, ErrorCode::kInvalidValue, std::move(message), {}, std::move(object)});
  }

  // What assigning a role provisions (ExpandRole), from the facts when they kept it.
  void Expand(Index assigned, std::vector<Expansion>& out) {
    if (facts_)
      if (auto kept = facts_->Expanded(assigned)) {
        out.insert(out.end(), kept->begin(), kept->end());
        return;
      }
    ExpandRole(s_, assigned, scratch_.queue, out);
  }

  AccountState* FirstAccount(IdentityState& st, Index app, Id instance) {
    for (AccountState& a : st.accounts)
      if (a.application == app && (instance == kNoId || a.instance == instance)) return &a;
    return nullptr;
  }

  AccountState& AccountFor(IdentityState& st, Index app) {
    if (AccountState* a = FirstAccount(st, app, kNoId)) return *a;
    return AddAccount(st, app, kNoId, ids_.Get("???"));
  }

  // A new account of the plan's at the end of `st` (a spare one, with its memory).
  AccountState& AddAccount(IdentityState& st, Index app, Id instance, Id native_identity) {
    ResizeAccounts(st.accounts, st.accounts.size() + 1, &st == &out_.pre ? scratch_.spare_pre : scratch_.spare_post);
    AccountState& a = st.accounts.back();
    a.ShareFrom(AccountView{});
    a.application = app;
    a.instance = instance;
    a.native_identity = native_identity;
    a.display_name = kNoId;
    a.source = kNoIndex;
    a.key = next_key_++;
    a.disabled = false;
    a.locked = false;
    return a;
  }

  // Each mutation first checks whether it changes anything, so an account the plan
  // leaves as it was keeps sharing the snapshot's attributes.
  // `run`: the values are a run of role expansions (ApplyExpansions), compared pairwise
  // while each one alone would be, as when they were added one at a time.
  void AddValues(AccountState& acc, Id attr, std::span<const Id> values, bool force_multi, bool run = false) {
    const Application& app = s_.applications()[acc.application];
    std::optional<AttrView> cur = acc.Find(attr);
    const bool schema_multi = app.IsMulti(attr);
    bool multi = force_multi || schema_multi || (cur && cur->multi) || !app.has_account_schema;
    if (!multi) {  // Add on a single-valued attribute replaces
      if (values.empty()) return;
      if (cur && cur->values.size() == 1 && cur->values[0] == values[0]) return;
      AttrValues* v = acc.FindOrAdd(attr);
      v->values.assign(1, values[0]);
      v->multi = false;
      return;
    }
    const size_t held = cur ? cur->values.size() : 0;
    const bool becomes_multi = cur && !cur->multi && schema_multi;
    AttrValues* v = nullptr;
    const size_t comparisons = run ? held + values.size() : (held + values.size()) * values.size();
    if (comparisons <= kPairwiseLimit) {
      auto present = [&](std::span<const Id> in, Id x) {
        if (!app.case_insensitive) return std::find(in.begin(), in.end(), x) != in.end();  // SameValue is ==
        return std::any_of(in.begin(), in.end(), [&](Id y) { return SameValue(ids_, x, y, true); });
      };
      // The values neither held nor equal to one before them, found in one pass over
      // the held values each: what the account gains, in the plan's order.
      std::span<const Id> held_values = cur ? cur->values : std::span<const Id>();
      std::vector<Id>& fresh = scratch_.fresh_values;
      fresh.clear();
      for (Id x : values)
        if (!present(held_values, x) && !present(fresh, x)) fresh.push_back(x);
      if (fresh.empty() && !becomes_multi) return;
      v = acc.FindOrAdd(attr);  // holds cur's values (none when cur is null)
      v->values.insert(v->values.end(), fresh.begin(), fresh.end());
    } else {
      HashedValues present(ids_, app.case_insensitive);
      if (cur)
        for (Id y : cur->values) present.Insert(y);
      bool changes = std::any_of(values.begin(), values.end(), [&](Id x) { return !present.Contains(x); });
      if (!changes && !becomes_multi) return;
      v = acc.FindOrAdd(attr);
      for (Id x : values)
        if (present.Insert(x)) v->values.push_back(x);
    }
    // Without a schema, one value stays a scalar (as IIQ stores it) unless it was a list.
    v->multi = v->multi || schema_multi || v->values.size() > 1;
    if (v->values.empty()) acc.Erase(attr);
  }
  void RemoveValues(AccountState& acc, Id attr, std::span<const Id> values) {
    const Application& app = s_.applications()[acc.application];
    std::optional<AttrView> cur = acc.Find(attr);
    if (!cur) return;
    if (cur->values.size() * values.size() <= kPairwiseLimit) {
      auto removed = [&](Id y) {
        return std::any_of(values.begin(), values.end(), [&](Id x) { return SameValue(ids_, x, y, app.case_insensitive); });
      };
      EraseValues(acc, attr, removed);
      return;
    }
    HashedValues removing(ids_, app.case_insensitive);
    for (Id x : values) removing.Insert(x);
    EraseValues(acc, attr, [&](Id y) { return removing.Contains(y); });
  }
  template <typename Removed>
  void EraseValues(AccountState& acc, Id attr, Removed removed) {
    std::optional<AttrView> cur = acc.Find(attr);
    if (!cur || std::none_of(cur->values.begin(), cur->values.end(), removed)) return;
    AttrValues* v = acc.FindOrAdd(attr);
    std::erase_if(v->values, removed);
    if (v->values.empty()) acc.Erase(attr);  // an emptied list becomes null
  }

  void SetValues(AccountState& acc, Id attr, std::span<const Id> values, bool is_list) {
    if (values.empty()) {
      acc.Erase(attr);
      return;
    }
    bool multi = is_list || s_.applications()[acc.application].IsMulti(attr);
    std::optional<AttrView> cur = acc.Find(attr);
    if (cur && SameIds(cur->values, values) && cur->multi == multi) return;
    AttrValues* v = acc.FindOrAdd(attr);
    v->values.assign(values.begin(), values.end());
    v->multi = multi;
  }

  // Role expansion lands like any attribute request: an attribute the application's
  // account schema does not define is dropped (warned about for the plan's roles).
  // On a multi-valued attribute (or one without a schema), a run of expansions adding
  // to the same attribute of the same application is one AddValues of the run's values:
  // the same account and the same values in the same order as one at a time, with the
  // account, the attribute and its held values looked up once.
  void ApplyExpansions(IdentityState& st, const std::vector<Expansion>& ex, bool warn) {
    std::vector<Id>& run = scratch_.run_values;
    for (size_t i = 0; i < ex.size();) {
      const Expansion& e = ex[i];
      if (e.application == kNoIndex) {
        ++i;
        continue;
      }
      const Application& app = s_.applications()[e.application];
      AccountState& acc = AccountFor(st, e.application);  // the request creates the account
      if (app.has_account_schema && !app.schema.contains(e.attribute)) {
        if (warn)
          Warn(absl::StrCat("role '", ToAbsl(s_.str(s_.roles()[e.via].name)), "' provisions attribute '",
                            ToAbsl(ids_.Text(e.attribute)), "', which is not in the account schema of '",
                            ToAbsl(s_.str(app.name)), "'; ignored, as IdentityIQ does"));
        ++i;
        continue;
      }
      size_t end = i + 1;
      if (group_expansions_ && (!app.has_account_schema || app.IsMulti(e.attribute)))
        while (end < ex.size() && ex[end].application == e.application && ex[end].attribute == e.attribute) ++end;
      run.clear();
      for (size_t k = i; k < end; ++k) run.push_back(ex[k].value);
      AddValues(acc, e.attribute, run, false, true);
      i = end;
    }
  }

  absl::Status ApplyAccountRequest(IdentityState& st, const AccountRequest& req, size_t index) {
    // Names for messages, built only when one is needed.
    auto object = [index] { return absl::StrCat("AccountRequest[", index, "]"); };
    if (req.result && req.result->status == "failed") {
      Warn("request has ProvisioningResult status 'failed' and is not applied", object());
      return absl::OkStatus();
    }
    if (req.is_iiq()) return ApplyIiqRequest(st, req, index);
    if (!req.application || req.application->empty())
      return MakeError(ErrorCode::kInvalidValue, absl::StrCat(object(), ": application is required"));
    Index app = s_.FindApplication(*req.application);
    if (app == kNoIndex) {
      return MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat(object(), ": unknown application '", *req.application, "'"));
    }
    Id instance = req.instance && !req.instance->empty() ? ids_.Get(*req.instance) : kNoId;
    size_t acc_index = FindAccount(st, app, instance, req.native_identity);
    AccountOp op = req.effective_op();
    if (op == AccountOp::kDelete) {
      if (acc_index != kNoAccount) st.accounts.erase(st.accounts.begin() + static_cast<long>(acc_index));
      return absl::OkStatus();
    }
    bool needs_account = !req.attributes.empty() || !req.permissions.empty() || op == AccountOp::kDisable ||
                         op == AccountOp::kEnable || op == AccountOp::kLock || op == AccountOp::kUnlock;
    AccountState* acc = acc_index == kNoAccount ? nullptr : &st.accounts[acc_index];
    if (!acc) {
      if (!needs_account) return absl::OkStatus();
      acc = &CreateAccount(st, req, app, instance);
    }
    switch (op) {
      case AccountOp::kDisable: acc->disabled = true; SetValues(*acc, ids_.Get("IIQDisabled"), True(), false); break;
      case AccountOp::kEnable: acc->disabled = false; acc->Erase(ids_.Get("IIQDisabled")); break;
      case AccountOp::kLock: acc->locked = true; SetValues(*acc, ids_.Get("IIQLocked"), True(), false); break;
      case AccountOp::kUnlock: acc->locked = false; acc->Erase(ids_.Get("IIQLocked")); break;
      default: break;
    }
    if (auto status = ApplyAttributeRequests(*acc, req, s_.applications()[app], index); !status.ok()) return status;
    ApplyPermissionRequests(*acc, req);
    return absl::OkStatus();
  }

  // The one value "true" (IIQDisabled, IIQLocked).
  std::span<const Id> True() {
    true_ = ids_.Get("true");
    return {&true_, 1};
  }

  // Identity.getLink(app, instance, nativeIdentity): null nativeIdentity means the
  // first account; otherwise case-insensitive, then the display name exactly.
  static constexpr size_t kNoAccount = SIZE_MAX;
  size_t FindAccount(const IdentityState& st, Index app, Id instance, const std::optional<std::string>& native) {
    // The same text has the same id: an account whose native identity is the plan's
    // string, as the pool knows it, matches without its text being read.
    const Id native_id = native ? ids_.Resolved(*native) : kNoId;
    for (size_t i = 0; i < st.accounts.size(); ++i) {
      const AccountState& a = st.accounts[i];
      if (a.application != app || (instance != kNoId && a.instance != instance)) continue;
      if (!native || a.native_identity == native_id ||
          absl::EqualsIgnoreCase(ToAbsl(ids_.Text(a.native_identity)), ToAbsl(*native)))
        return i;
    }
    if (native) {
      for (size_t i = 0; i < st.accounts.size(); ++i) {
        const AccountState& a = st.accounts[i];
        if (a.application == app && a.display_name != kNoId && ids_.Text(a.display_name) == *native) return i;
      }
    }
    return kNoAccount;
  }

  // A request for an account the identity does not have creates it; its native identity
  // is the request's, else the identity attribute's requested value, else "???".
  AccountState& CreateAccount(IdentityState& st, const AccountRequest& req, Index app, Id instance) {
    const Application& application = s_.applications()[app];
    std::string_view native = req.native_identity ? std::string_view(*req.native_identity) : std::string_view();
    if (native.empty() && application.identity_attribute != kNoId) {
      for (const AttributeRequest& a : req.attributes)
        if (a.name == ids_.Text(application.identity_attribute) && a.value.kind == Value::Kind::kString)
          native = a.value.str;
    }
    return AddAccount(st, app, instance, ids_.Get(native.empty() ? "???" : native));
  }

  absl::Status ApplyAttributeRequests(AccountState& acc, const AccountRequest& req, const Application& application,
                                      size_t index) {
    for (size_t i = 0; i < req.attributes.size(); ++i) {
      const AttributeRequest& ar = req.attributes[i];
      auto aobject = [&] { return absl::StrCat("AccountRequest[", index, "]/AttributeRequest[", i, "]"); };
      if (ar.result && ar.result->status == "failed") continue;
      if (ar.name.empty()) return MakeError(ErrorCode::kInvalidValue, absl::StrCat(aobject(), ": name is required"));
      // Requests for the identity attribute only rename the account.
      if (application.identity_attribute != kNoId && ar.name == ids_.Text(application.identity_attribute)) {
        if (ar.value.kind == Value::Kind::kString) acc.native_identity = ids_.Get(ar.value.str);
        continue;
      }
      Id attr = ids_.Get(ar.name);
      bool special = ar.name == "IIQDisabled" || ar.name == "IIQLocked" || ar.name == "directPermissions";
      if (application.has_account_schema && !special && !application.schema.contains(attr)) {
        // IIQ drops requests for attributes the account schema does not define.
        Warn(absl::StrCat("attribute '", ar.name, "' is not in the account schema of '", *req.application,
                          "' and is ignored, as IdentityIQ does"),
             aobject());
        continue;
      }
      std::vector<Id>& values = scratch_.values;
      values.clear();
      ar.value.ForEachString([&](std::string_view v) { values.push_back(ids_.Get(v)); });
      switch (ar.effective_op()) {
        case AttributeOp::kAdd: AddValues(acc, attr, values, ar.value.is_list() && values.size() > 1); break;
        case AttributeOp::kRemove:
        case AttributeOp::kRevoke: RemoveValues(acc, attr, values); break;
        case AttributeOp::kSet:
        case AttributeOp::kRetain: SetValues(acc, attr, values, ar.value.is_list()); break;
      }
    }
    return absl::OkStatus();
  }

  void ApplyPermissionRequests(AccountState& acc, const AccountRequest& req) {
    for (const PermissionRequest& pr : req.permissions) {
      Id target = ids_.Get(pr.target);
      std::vector<Id>& rights = scratch_.rights;
      rights.clear();
      for (absl::string_view r : absl::StrSplit(ToAbsl(pr.rights), ',', absl::SkipWhitespace()))
        rights.push_back(ids_.Get(ToStd(absl::StripAsciiWhitespace(r))));
      auto& permissions = acc.mutable_permissions();
      auto it = std::find_if(permissions.begin(), permissions.end(),
                             [&](const Permission& p) { return p.target == target; });
      AttributeOp pop = pr.op.value_or(AttributeOp::kSet);
      if (pop == AttributeOp::kRemove || pop == AttributeOp::kRevoke) {
        if (it != permissions.end()) {
          std::erase_if(it->rights, [&](Id r) { return std::find(rights.begin(), rights.end(), r) != rights.end(); });
          if (it->rights.empty()) permissions.erase(it);
        }
      } else if (pop == AttributeOp::kAdd && it != permissions.end()) {
        for (Id r : rights)
          if (std::find(it->rights.begin(), it->rights.end(), r) == it->rights.end()) it->rights.push_back(r);
      } else if (it != permissions.end()) {
        it->rights = rights;
      } else if (!rights.empty()) {
        permissions.push_back({target, rights});
      }
    }
  }

  // application="IIQ": assignedRoles Add / Remove / Revoke / Set. detectedRoles
  // requests provision the role's entitlements; detection then decides.
  absl::Status ApplyIiqRequest(IdentityState& st, const AccountRequest& req, size_t index) {
    for (size_t i = 0; i < req.attributes.size(); ++i) {
      const AttributeRequest& ar = req.attributes[i];
      if (ar.result && ar.result->status == "failed") continue;
      if (ar.name != "assignedRoles" && ar.name != "detectedRoles") {
        ApplyIdentityAttribute(st, ar, index, i);
        continue;
      }
      std::vector<Index>& roles = scratch_.roles;
      roles.clear();
      std::string_view unknown;
      bool any_unknown = false;
      ar.value.ForEachString([&](std::string_view name) {
        Index r = s_.FindRole(name);
        if (r == kNoIndex && !any_unknown) {
          any_unknown = true;
          unknown = name;
        }
        roles.push_back(r);
      });
      if (any_unknown)
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("AccountRequest[", index, "]/AttributeRequest[", i, "]: unknown role '", ToAbsl(unknown), "'"));
      AttributeOp op = ar.effective_op();
      if (ar.name == "detectedRoles") {
        if (op == AttributeOp::kAdd || op == AttributeOp::kSet)
          for (Index r : roles) Expand(r, out_.plan_expansions);
        continue;
      }
      auto& assigned = st.assigned_roles;
      if (op == AttributeOp::kSet) {
        for (Index r : assigned)
          if (std::find(roles.begin(), roles.end(), r) == roles.end()) removed_.push_back(r);
        assigned.clear();
        op = AttributeOp::kAdd;  // a Set role operation becomes Add for the entitlements
      }
      if (op == AttributeOp::kAdd || op == AttributeOp::kRetain) {
        for (Index r : roles) {
          if (std::find(assigned.begin(), assigned.end(), r) == assigned.end()) assigned.push_back(r);
          Expand(r, out_.plan_expansions);
        }
      } else {  // Remove, Revoke
        for (Index r : roles) {
          auto it = std::find(assigned.begin(), assigned.end(), r);
          if (it != assigned.end()) {
            assigned.erase(it);
            removed_.push_back(r);
          }
        }
      }
    }
    return absl::OkStatus();
  }

  // IIQEvaluator.processIIQPlan: names it handles itself (none changes what a policy
  // reads here), `manager` (set to the named identity, or cleared), and otherwise
  // processIdentityAttribute: an attribute ObjectConfig Identity defines changes the
  // identity (Add appends, Remove drops the first equal value, Set replaces, a missing
  // op changes nothing); any other name is ignored.
  void ApplyIdentityAttribute(IdentityState& st, const AttributeRequest& ar, size_t index, size_t i) {
    static constexpr std::string_view kHandled[] = {
        "links", "capabilities", "activityConfig", "workgroups", "controlledScopes", "assignedScope", "scope",
        "history", "snapshots", "events", "provisioningRequests", "password", "controlsAssignedScope", "forward",
        "forwardStartDate", "forwardEndDate", "useBy", "protected", "needsRefresh"};
    if (std::find(std::begin(kHandled), std::end(kHandled), std::string_view(ar.name)) != std::end(kHandled)) return;
    auto object = [&] { return absl::StrCat("AccountRequest[", index, "]/AttributeRequest[", i, "]"); };
    bool manager = ar.name == "manager";
    Id name = ids_.Get(ar.name);
    auto def = s_.identity_attribute_defs().find(name);
    if (!manager && def == s_.identity_attribute_defs().end()) {
      Warn(s_.has_identity_config()
               ? absl::StrCat("identity attribute '", ar.name,
                              "' is not defined in ObjectConfig Identity and is ignored, as IdentityIQ does")
               : absl::StrCat("identity attribute '", ar.name,
                              "' is ignored: the snapshot has no ObjectConfig Identity to say whether it is defined"),
           object());
      return;
    }
    if (!st.own_attributes) {
      st.attributes = s_.identities()[st.identity].attributes.ToVector();
      st.own_attributes = true;
    }
    auto& attrs = st.attributes;
    auto it = std::lower_bound(attrs.begin(), attrs.end(), name, [](const AttrValues& a, Id id) { return a.name < id; });
    if (it == attrs.end() || it->name != name) {
      AttrValues v;
      v.name = name;
      it = attrs.insert(it, std::move(v));
    }
    std::vector<Id> values;
    ar.value.ForEachString([&](std::string_view v) { values.push_back(ids_.Get(v)); });
    if (manager) {
      // setManager(getObjectByName(Identity, value)): the manager's name, or none.
      if (values.size() == 1 && s_.FindIdentity(ids_.Text(values[0])) != kNoIndex) {
        it->values = values;
        it->multi = false;
      } else {
        it->values.clear();
      }
    } else if (!ar.op) {
      // processIdentityAttribute handles Add, Remove and Set only.
    } else if (*ar.op == AttributeOp::kAdd || *ar.op == AttributeOp::kRemove) {
      for (Id v : values) {
        if (*ar.op == AttributeOp::kAdd) {
          it->values.push_back(v);
        } else if (auto at = std::find(it->values.begin(), it->values.end(), v); at != it->values.end()) {
          it->values.erase(at);
        }
      }
      it->multi = true;  // the new value is a List
    } else if (*ar.op == AttributeOp::kSet) {
      it->values = values;
      // A multi-valued attribute takes a list; a single-valued one its one value (a
      // longer list is kept as it is, with an error in IdentityIQ's log).
      it->multi = def->second || values.size() > 1 || (ar.value.is_list() && def->second);
    }
    if (it->values.empty()) attrs.erase(it);
  }

  // De-assigned roles take back the entitlements no remaining assigned role provides.
  void Deprovision(IdentityState& st) {
    if (removed_.empty()) return;
    std::vector<Expansion>& removed = scratch_.removed_expansions;
    std::vector<Expansion>& kept = scratch_.kept_expansions;
    removed.clear();
    kept.clear();
    for (Index r : removed_) Expand(r, removed);
    for (Index r : st.assigned_roles) Expand(r, kept);
    for (const Expansion& e : removed) {
      bool still = std::any_of(kept.begin(), kept.end(), [&](const Expansion& k) {
        return k.application == e.application && k.attribute == e.attribute && k.value == e.value;
      });
      if (still || e.application == kNoIndex) continue;
      for (AccountState& a : st.accounts)
        if (a.application == e.application) RemoveValues(a, e.attribute, {&e.value, 1});
    }
  }

 private:
  const Snapshot& s_;
  ValueIds& ids_;
  Projection& out_;
  const RoleFacts* facts_;
  bool group_expansions_;
  ProjectionScratch& scratch_ = out_.scratch;
  std::vector<Index>& removed_ = scratch_.removed;  // roles the plan de-assigns
  Id true_ = kNoId;

 public:
  uint32_t next_key_ = 0;
};

}  // namespace

void ResizeAccounts(std::vector<AccountState>& accounts, size_t n, std::vector<AccountState>& spare) {
  while (accounts.size() > n) {
    spare.push_back(std::move(accounts.back()));
    accounts.pop_back();
  }
  while (accounts.size() < n) {
    if (spare.empty()) {
      accounts.emplace_back();
      continue;
    }
    accounts.push_back(std::move(spare.back()));
    spare.pop_back();
  }
}

void CopyState(IdentityState& to, const IdentityState& from, std::vector<AccountState>& spare) {
  to.identity = from.identity;
  ResizeAccounts(to.accounts, from.accounts.size(), spare);
  std::copy(from.accounts.begin(), from.accounts.end(), to.accounts.begin());
  to.assigned_roles = from.assigned_roles;
  to.detected_roles = from.detected_roles;
  to.own_attributes = from.own_attributes;
  to.attributes = from.attributes;
}

void DiffAccounts(const IdentityState& pre, const IdentityState& post, std::vector<Change>& out) {
  out.clear();
  auto all = [&](Index app, const AttrView& v) {
    out.push_back({app, v.name, kNoId});
    for (Id x : v.values) out.push_back({app, v.name, x});
  };
  auto whole = [&](const AccountState& a) {
    out.push_back({a.application, kNoId, kNoId});
    a.ForEachAttribute([&](const AttrView& v) { all(a.application, v); });
  };
  // One attribute that may differ: what each side holds.
  auto compare = [&](Index app, Id name, const std::optional<AttrView>& x, const std::optional<AttrView>& y) {
    if (!x && !y) return;
    if (!x || !y) return all(app, x ? *x : *y);
    if (*x == *y) return;
    out.push_back({app, name, kNoId});
    // A plan appends and erases values in place: past the common prefix, which both
    // hold, are the few that can differ (each looked up in the whole other list).
    const auto [px, py] = std::mismatch(x->values.begin(), x->values.end(), y->values.begin(), y->values.end());
    for (auto v = px; v != x->values.end(); ++v)
      if (std::find(y->values.begin(), y->values.end(), *v) == y->values.end()) out.push_back({app, name, *v});
    for (auto v = py; v != y->values.end(); ++v)
      if (std::find(x->values.begin(), x->values.end(), *v) == x->values.end()) out.push_back({app, name, *v});
  };
  auto find = [](const IdentityState& st, uint32_t key) -> const AccountState* {
    for (const AccountState& a : st.accounts)
      if (a.key == key) return &a;
    return nullptr;
  };
  for (const AccountState& a : pre.accounts)
    if (!find(post, a.key)) whole(a);
  for (const AccountState& b : post.accounts) {
    const AccountState* a = find(pre, b.key);
    if (!a) {
      whole(b);
      continue;
    }
    const PermissionList pa = a->permissions(), pb = b.permissions();
    if ((!pa.SameAs(pb) && pa != pb) || a->disabled != b.disabled || a->locked != b.locked)
      out.push_back({b.application, kNoId, kNoId});
    if (a->base_attributes().SameAs(b.base_attributes())) {
      // Same base: only the attributes either overlay names can differ.
      const auto& x = a->overlay();
      const auto& y = b.overlay();
      size_t i = 0, j = 0;
      while (i < x.size() || j < y.size()) {
        Id name = j == y.size() || (i < x.size() && x[i].name < y[j].name) ? x[i].name : y[j].name;
        compare(b.application, name, a->Find(name), b.Find(name));
        if (i < x.size() && x[i].name == name) ++i;
        if (j < y.size() && y[j].name == name) ++j;
      }
    } else {
      a->ForEachAttribute([&](const AttrView& v) { compare(b.application, v.name, v, b.Find(v.name)); });
      b.ForEachAttribute([&](const AttrView& v) {
        if (!a->Find(v.name)) all(b.application, v);
      });
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

namespace {

// The pre state, then (with a plan) the post state. Without a plan only `pre` and
// `pre_expansions` are filled: what a scan of stored identities reads.
absl::Status ProjectStates(const Snapshot& s, Index identity, const ProvisioningPlan* plan_or_null, ValueIds& ids,
                           Projection& out, DetectScope scope, const RoleFacts* facts, ProjectShortcuts shortcuts) {
  out.pre_expansions.clear();
  out.plan_expansions.clear();
  out.diagnostics.clear();
  out.change_indexes.clear();
  const IdentityView idn = s.identities()[identity];
  // The identity's lists live in separate arenas: requested together, their cache
  // misses overlap instead of following one another as each is copied or read.
  for (const void* list : {static_cast<const void*>(idn.assigned_roles.data()), static_cast<const void*>(idn.detected_roles.data()),
                           static_cast<const void*>(idn.accounts.data()), idn.attributes.data()})
    __builtin_prefetch(list);
  IdentityState& pre = out.pre;
  pre.identity = identity;
  pre.own_attributes = false;
  pre.attributes.clear();
  pre.assigned_roles.assign(idn.assigned_roles.begin(), idn.assigned_roles.end());
  pre.detected_roles.assign(idn.detected_roles.begin(), idn.detected_roles.end());
  // Every account record first, in a loop that does nothing else, and a request for each
  // one's attribute records (every later step reads them): their cache misses overlap
  // instead of coming one after the other.
  std::vector<AccountView>& stored = out.scratch.stored_accounts;
  stored.clear();
  for (Index ai : idn.accounts) stored.push_back(s.accounts()[ai]);
  for (const AccountView& a : stored) __builtin_prefetch(a.attributes.data());
  ResizeAccounts(pre.accounts, idn.accounts.size(), out.scratch.spare_pre);
  for (size_t i = 0; i < idn.accounts.size(); ++i) {
    const Index ai = idn.accounts[i];
    const AccountView& a = stored[i];
    AccountState& st = pre.accounts[i];
    st.application = a.application;
    st.instance = a.instance;
    st.native_identity = a.native_identity;
    st.display_name = a.display_name;
    st.source = ai;
    st.key = static_cast<uint32_t>(i);
    st.disabled = a.disabled;
    st.locked = a.locked;
    st.ShareFrom(a);
  }
  Compiler compiler(s, ids, out, facts, shortcuts.group_expansions);
  compiler.next_key_ = static_cast<uint32_t>(pre.accounts.size());
  if (!(idn.flags & IdentityView::kExpansionNoop)) {
    for (Index r : pre.assigned_roles) compiler.Expand(r, out.pre_expansions);
    compiler.ApplyExpansions(pre, out.pre_expansions, false);
  }

  out.changes.clear();
  if (plan_or_null == nullptr) return absl::OkStatus();
  const ProvisioningPlan& plan = *plan_or_null;
  CopyState(out.post, pre, out.scratch.spare_post);
  for (size_t i = 0; i < plan.accounts.size(); ++i)
    if (auto st = compiler.ApplyAccountRequest(out.post, plan.accounts[i], i); !st.ok()) return st;
  compiler.ApplyExpansions(out.post, out.plan_expansions, true);
  compiler.Deprovision(out.post);
  DiffAccounts(out.pre, out.post, out.changes);
  // Detection and then the check read each change's entries in the snapshot's indexes
  // by value: found here for every change, in a loop whose lookups do not wait for one
  // another, each once for both readers.
  if (shortcuts.prefetch)
    for (const Change& c : out.changes) out.change_indexes.push_back(s.FindValueIndexes(c.application, c.attr, c.value));
  if (idn.flags & IdentityView::kDetectionConsistent)
    DetectChangedRoles(s, ids, out.changes, out.post, out.scratch.detection, scope, facts, out.change_indexes);
  else
    DetectRoles(s, ids, out.post, out.scratch.detection, scope, facts);
  return absl::OkStatus();
}

}  // namespace

void ExpectPlanStrings(const ProvisioningPlan& plan, ValueIds& ids) {
  for (const AccountRequest& req : plan.accounts) {
    if (req.is_iiq()) continue;  // role names are found in the snapshot's role table
    if (req.instance) ids.Expect(*req.instance);
    if (req.native_identity) ids.Expect(*req.native_identity);
    for (const AttributeRequest& ar : req.attributes) {
      ids.Expect(ar.name);
      if (ar.value.kind == Value::Kind::kString) ids.Expect(ar.value.str);
      for (const Value& v : ar.value.list)
        if (v.kind == Value::Kind::kString) ids.Expect(v.str);
    }
    for (const PermissionRequest& pr : req.permissions) ids.Expect(pr.target);
  }
}

absl::Status ProjectInto(const Snapshot& s, Index identity, const ProvisioningPlan& plan, ValueIds& ids,
                         Projection& out, DetectScope scope, const RoleFacts* facts, ProjectShortcuts shortcuts) {
  return ProjectStates(s, identity, &plan, ids, out, scope, facts, shortcuts);
}

absl::Status ProjectPreInto(const Snapshot& s, Index identity, ValueIds& ids, Projection& out) {
  return ProjectStates(s, identity, nullptr, ids, out, DetectScope::kAll, nullptr, {});
}

absl::StatusOr<Projection> Project(const Snapshot& s, Index identity, const ProvisioningPlan& plan, ValueIds& ids) {
  Projection out;
  if (auto st = ProjectInto(s, identity, plan, ids, out); !st.ok()) return st;
  return out;
}

}  // namespace preflight
