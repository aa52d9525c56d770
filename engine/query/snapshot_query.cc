#include "engine/query/snapshot_query.h"

#include <algorithm>
#include <array>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/util/json_writer.h"
#include "grammar/scim_filter.h"
#include "engine/util/scim_urns.h"

namespace preflight {
namespace {

constexpr const auto& kTypes = kResourceTypes;  // the types a snapshot keeps texts of
constexpr std::array<std::string_view, 5> kUrns = {urn::kUser, urn::kAccount, urn::kEntitlement, urn::kRole, urn::kApplication};

const Limits kDocLimits{.max_input_bytes = SIZE_MAX, .max_nesting_depth = kQueryDocumentDepth};

// The documents of one resource type.
struct QueryState {
  std::vector<Doc> docs;
  ResourceSchema schema;
  // Documents by their "id" (caseExact in RFC 7643), in document order: one resource by id,
  // and the filters that name ids (IdCandidates), read it instead of every document.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> by_id;
};

std::string_view IdOf(const Doc& doc) {
  uint32_t node = doc.Find(doc.root(), "id");
  if (node == Doc::kNone || doc.node(node).type != DocType::kString) return {};
  return doc.str(doc.node(node));
}

std::string IdOr(std::string_view id, std::string_view name) { return std::string(id.empty() ? name : id); }

void WriteValues(JsonWriter& w, const Snapshot& s, const AttrView& v) {
  if (v.multi) {
    w.BeginArray();
    for (Id x : v.values) w.String(s.str(x));
    w.EndArray();
  } else {
    w.String(v.values.empty() ? "" : s.str(v.values[0]));
  }
}

void WriteRef(JsonWriter& w, std::string_view id, std::string_view name) {
  w.BeginObject().Field("value", id).Field("displayName", name).EndObject();
}

std::string UserJson(const Snapshot& s, const IdentityView& i) {
  JsonWriter w;
  std::string name(s.str(i.name));
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kUser).String(urn::kSailPointUser).EndArray();
  w.Field("id", IdOr(s.str(i.id), name)).Field("userName", name);
  if (!s.str(i.display_name).empty()) w.Field("displayName", s.str(i.display_name));
  w.Key("active").Bool(!i.inactive);
  w.Key(urn::kSailPointUser).BeginObject();
  for (AttrView v : i.attributes) {
    w.Key(s.str(v.name));
    WriteValues(w, s, v);
  }
  w.Key("accounts").BeginArray();
  for (Index a : i.accounts) {
    const AccountView acc = s.accounts()[a];
    WriteRef(w, IdOr(s.str(acc.id), absl::StrCat(name, ":", a)), s.str(acc.native_identity));
  }
  w.EndArray();
  w.Key("roles").BeginArray();
  auto role = [&](Index r, bool assigned) {
    const Role& role = s.roles()[r];
    w.BeginObject().Field("value", assigned ? "assignedRoles" : "detectedRoles");
    w.Field("display", role.display_name.empty() ? s.str(role.name) : std::string_view(role.display_name));
    w.Field("type", s.str(role.type)).Field("acquired", assigned ? "Assigned" : "Detected").EndObject();
  };
  for (Index r : i.assigned_roles) role(r, true);
  for (Index r : i.detected_roles) role(r, false);
  w.EndArray();
  w.Key("entitlements").BeginArray();
  for (Index a : i.accounts) {
    const AccountView acc = s.accounts()[a];
    const Application& app = s.applications()[acc.application];
    for (AttrView v : acc.attributes) {
      bool entitlement = app.schema.empty() ? v.multi : app.IsMulti(v.name);
      if (!entitlement) continue;
      for (Id x : v.values)
        w.BeginObject().Field("value", s.str(v.name)).Field("display", s.str(x)).Field("type", "Entitlement")
            .Field("application", s.str(app.name)).Field("accountName", s.str(acc.native_identity)).EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  w.Key("meta").BeginObject().Field("resourceType", "User").EndObject();
  w.EndObject();
  return w.Take();
}

std::string AccountJson(const Snapshot& s, Index index) {
  const AccountView a = s.accounts()[index];
  const IdentityView owner = s.identities()[a.identity];
  const Application& app = s.applications()[a.application];
  JsonWriter w;
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kAccount).EndArray();
  w.Field("id", IdOr(s.str(a.id), absl::StrCat(ToAbsl(s.str(owner.name)), ":", index)));
  w.Field("nativeIdentity", s.str(a.native_identity));
  if (a.display_name != kNoId) w.Field("displayName", s.str(a.display_name));
  if (a.instance != kNoId) w.Field("instance", s.str(a.instance));
  w.Key("identity");
  WriteRef(w, IdOr(s.str(owner.id), s.str(owner.name)), s.str(owner.name));
  w.Key("application");
  WriteRef(w, IdOr(app.id, s.str(app.name)), s.str(app.name));
  w.Key("active").Bool(!a.disabled).Key("locked").Bool(a.locked);
  w.Key(absl::StrCat(ToAbsl(urn::kAccountSchemaPrefix), ToAbsl(s.str(app.name)), ":account")).BeginObject();
  for (AttrView v : a.attributes) {
    w.Key(s.str(v.name));
    WriteValues(w, s, v);
  }
  w.EndObject();
  w.Key("meta").BeginObject().Field("resourceType", "Account").EndObject();
  w.EndObject();
  return w.Take();
}

std::string RoleJson(const Snapshot& s, const Role& r) {
  JsonWriter w;
  std::string name(s.str(r.name));
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kRole).EndArray();
  w.Field("id", IdOr(r.id, name)).Field("name", name);
  w.Field("displayableName", r.display_name.empty() ? name : r.display_name);
  w.Key("active").Bool(!r.disabled);
  if (!r.description.empty())
    w.Key("descriptions").BeginArray().BeginObject().Field("locale", "en_US").Field("value", r.description).EndObject().EndArray();
  w.Key("type").BeginObject().Field("name", s.str(r.type)).EndObject();
  auto refs = [&](std::string_view key, const std::vector<Index>& roles) {
    w.Key(key).BeginArray();
    for (Index x : roles) WriteRef(w, IdOr(s.roles()[x].id, s.str(s.roles()[x].name)), s.str(s.roles()[x].name));
    w.EndArray();
  };
  refs("inheritance", r.inheritance);
  refs("requirements", r.requirements);
  refs("permits", r.permits);
  w.Key("meta").BeginObject().Field("resourceType", "Role").EndObject();
  w.EndObject();
  return w.Take();
}

std::string EntitlementJson(const Snapshot& s, const EntitlementRecord& e, size_t index) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kEntitlement).EndArray();
  w.Field("id", s.str(e.id).empty() ? absl::StrCat("entitlement-", index) : std::string(s.str(e.id)));
  if (e.application != kNoIndex) {
    const Application& app = s.applications()[e.application];
    w.Key("application");
    WriteRef(w, IdOr(app.id, s.str(app.name)), s.str(app.name));
  }
  w.Field("attribute", s.str(e.attribute)).Field("value", s.str(e.value));
  w.Field("displayableName", s.str(e.display_name).empty() ? s.str(e.value) : s.str(e.display_name));
  w.Field("type", s.str(e.type).empty() ? "Entitlement" : s.str(e.type));
  w.Key("requestable").Bool(e.requestable);
  w.Key("meta").BeginObject().Field("resourceType", "Entitlement").EndObject();
  w.EndObject();
  return w.Take();
}

std::string ApplicationJson(const Snapshot& s, const Application& a) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kApplication).EndArray();
  w.Field("id", IdOr(a.id, s.str(a.name))).Field("name", s.str(a.name));
  if (!a.type.empty()) w.Field("type", a.type);
  w.Key("meta").BeginObject().Field("resourceType", "Application").EndObject();
  w.EndObject();
  return w.Take();
}

size_t StateBytes(const QueryState& state) {
  size_t n = sizeof(QueryState) + state.docs.size() * sizeof(Doc);
  for (const Doc& d : state.docs) n += d.heap_bytes();
  n += state.by_id.size() * (sizeof(std::pair<std::string, std::vector<uint32_t>>) + 1) * 8 / 7;
  for (const auto& [id, positions] : state.by_id)
    n += (id.size() > 15 ? id.size() + 1 : 0) + positions.size() * sizeof(uint32_t);
  return n;
}

// The documents of resource type t: the exported SCIM texts, then the objects read from XML
// rendered in IdentityIQ's SCIM shapes. The texts were checked at load (queryDocuments).
QueryState* BuildState(const Snapshot& s, size_t t) {
  auto* state = new QueryState;
  state->schema = ResourceSchema::WithScimDefaults(kUrns[t]);
  auto add = [&](std::string_view json) {
    if (auto doc = DocFromJson(json, kDocLimits); doc.ok()) state->docs.push_back(*std::move(doc));
  };
  for (std::string_view json : s.Resources(kTypes[t])) add(json);
  switch (t) {
    case 0:
      for (IdentityView i : s.identities())
        if (!i.from_scim) add(UserJson(s, i));
      break;
    case 1:
      for (Index a = 0; a < s.accounts().size(); ++a)
        if (!s.accounts()[a].from_scim) add(AccountJson(s, a));
      break;
    case 2:
      for (size_t e = 0; e < s.entitlements().size(); ++e)
        if (!s.entitlements()[e].from_scim) add(EntitlementJson(s, s.entitlements()[e], e));
      break;
    case 3:
      for (const Role& r : s.roles())
        if (!r.from_scim) add(RoleJson(s, r));
      break;
    case 4:
      for (const Application& a : s.applications())
        if (!a.from_scim) add(ApplicationJson(s, a));
      break;
  }
  for (uint32_t d = 0; d < state->docs.size(); ++d)
    if (std::string_view id = IdOf(state->docs[d]); !id.empty()) state->by_id[std::string(id)].push_back(d);
  return state;
}

const QueryState& StateOf(const Snapshot& s, size_t t) {
  static_assert(kTypes.size() <= Snapshot::kQuerySlots);
  return s.LazyQueryState<QueryState>(t, &BuildState, &StateBytes);
}

// The documents a filter made only of `id eq "..."` terms joined by `or` can match (how a
// client fetches resources it knows, snapshot pull's refresh among them), in document order;
// nullopt for any other filter. The filter still decides on each candidate.
std::optional<std::vector<const Doc*>> IdCandidates(const QueryState& state, const QueryOptions& options) {
  if (options.filter.empty()) return std::nullopt;
  auto ast = ParseScimFilter(options.filter, options.parse);
  if (!ast.ok()) return std::nullopt;  // RunQuery reports it
  std::vector<uint32_t> hits;
  std::vector<const FilterNode*> todo = {&ast->root};
  while (!todo.empty()) {
    const FilterNode* n = todo.back();
    todo.pop_back();
    if (n->kind == FilterKind::kOr) {
      for (const FilterNode& c : n->children) todo.push_back(&c);
      continue;
    }
    if (n->kind != FilterKind::kCompare || n->op != CompareOp::kEq || !n->path.uri.empty() || !n->path.sub.empty() ||
        !absl::EqualsIgnoreCase(ToAbsl(n->path.name), "id") || n->value.kind != LiteralKind::kString)
      return std::nullopt;
    if (auto it = state.by_id.find(n->value.text); it != state.by_id.end())
      hits.insert(hits.end(), it->second.begin(), it->second.end());
  }
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  std::vector<const Doc*> docs;
  docs.reserve(hits.size());
  for (uint32_t d : hits) docs.push_back(&state.docs[d]);
  return docs;
}


absl::StatusOr<size_t> TypeIndex(std::string_view resource_type) {
  size_t t = 0;
  while (t < kTypes.size() && !absl::EqualsIgnoreCase(ToAbsl(kTypes[t]), ToAbsl(resource_type))) ++t;
  if (t == kTypes.size())
    return MakeError(ErrorCode::kInvalidValue,
                     absl::StrCat("unknown resource type '", ToAbsl(resource_type),
                                  "': expected Users, Accounts, Entitlements, Roles or Applications"));
  return t;
}

}  // namespace

absl::Status CheckQueryDocument(std::string_view json) { return DocFromJson(json, kDocLimits).status(); }

absl::StatusOr<QueryPage> QuerySnapshot(const Snapshot& snapshot, std::string_view resource_type,
                                          const QueryOptions& options) {
  auto t = TypeIndex(resource_type);
  if (!t.ok()) return t.status();
  const QueryState& state = StateOf(snapshot, *t);
  if (auto candidates = IdCandidates(state, options))
    return RunQuery(std::span<const Doc* const>(*candidates), state.schema, options);
  return RunQuery(std::span<const Doc>(state.docs), state.schema, options);
}

absl::StatusOr<std::string> SnapshotResource(const Snapshot& snapshot, std::string_view resource_type,
                                             std::string_view id, const std::vector<std::string>& attributes,
                                             const std::vector<std::string>& excluded_attributes) {
  auto t = TypeIndex(resource_type);
  if (!t.ok()) return t.status();
  const QueryState& state = StateOf(snapshot, *t);
  if (auto it = state.by_id.find(ToAbsl(id)); it != state.by_id.end())
    return ProjectDoc(state.docs[it->second.front()], state.schema, attributes, excluded_attributes);
  return MakeError(ErrorCode::kNoSuchResource,
                   absl::StrCat("Resource ", ToAbsl(kTypes[*t]), "/", ToAbsl(id), " not found"));
}

}  // namespace preflight
