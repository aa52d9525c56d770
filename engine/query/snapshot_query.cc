#include "engine/query/snapshot_query.h"

#include <algorithm>
#include <array>
#include <memory>
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

// The resources of one type, in query order: the texts of the SCIM exports, then the
// objects read from IdentityIQ XML, rendered in IdentityIQ's SCIM shapes. Their documents
// are kept while they fit the cache budget (QueryOptions::cache_bytes); past it, each query
// makes the documents it reads again, one at a time, so memory stays bounded at any size
// (a million identities' User documents are ~20 GB) at the cost of rendering per query.
struct QueryState {
  ResourceSchema schema;
  std::vector<uint32_t> texts;   // positions in Snapshot::Resources(type), those that read
  std::vector<Index> objects;    // positions of the model's objects not read from SCIM
  std::vector<Doc> docs;         // every resource's document, or none (over the budget)
  // Resources by "id" (caseExact in RFC 7643) and, for Users, by ASCII-lower-cased
  // "userName" (caseExact false), in query order: the filters made of `id eq` / `userName
  // eq` terms (IndexCandidates), how clients fetch resources they know, read only these.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> by_id, by_user_name;
  size_t size() const { return texts.size() + objects.size(); }
  bool cached() const { return docs.size() == size(); }
};

std::string_view IdOf(const Doc& doc) {
  uint32_t node = doc.Find(doc.root(), "id");
  if (node == Doc::kNone || doc.node(node).type != DocType::kString) return {};
  return doc.str(doc.node(node));
}

std::string IdOr(std::string_view id, std::string_view name) { return std::string(id.empty() ? name : id); }

// The ids the model's objects are answered under: their "id", and what references to them hold.
std::string UserId(const Snapshot& s, const IdentityView& i) { return IdOr(s.str(i.id), s.str(i.name)); }
std::string AccountId(const Snapshot& s, Index a) {
  const AccountView acc = s.accounts()[a];
  if (!s.str(acc.id).empty()) return std::string(s.str(acc.id));
  // An account held by no identity (a hostile image's; the column allows none) has no owner's name.
  const bool owned = acc.identity < s.identities().size();
  return absl::StrCat(owned ? ToAbsl(s.str(s.identities()[acc.identity].name)) : "", ":", a);
}
std::string EntitlementId(const Snapshot& s, size_t e) {
  std::string_view id = s.str(s.entitlements()[e].id);
  return id.empty() ? absl::StrCat("entitlement-", e) : std::string(id);
}
std::string RoleId(const Snapshot& s, const Role& r) { return IdOr(r.id, s.str(r.name)); }
std::string ApplicationId(const Snapshot& s, const Application& a) { return IdOr(a.id, s.str(a.name)); }

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
  w.Field("id", UserId(s, i)).Field("userName", name);
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
    WriteRef(w, AccountId(s, a), s.str(acc.native_identity));
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
  w.Field("id", AccountId(s, index));
  w.Field("nativeIdentity", s.str(a.native_identity));
  if (a.display_name != kNoId) w.Field("displayName", s.str(a.display_name));
  if (a.instance != kNoId) w.Field("instance", s.str(a.instance));
  w.Key("identity");
  WriteRef(w, UserId(s, owner), s.str(owner.name));
  w.Key("application");
  WriteRef(w, ApplicationId(s, app), s.str(app.name));
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
  w.Field("id", RoleId(s, r)).Field("name", name);
  w.Field("displayableName", r.display_name.empty() ? name : r.display_name);
  w.Key("active").Bool(!r.disabled);
  if (!r.description.empty())
    w.Key("descriptions").BeginArray().BeginObject().Field("locale", "en_US").Field("value", r.description).EndObject().EndArray();
  w.Key("type").BeginObject().Field("name", s.str(r.type)).EndObject();
  auto refs = [&](std::string_view key, const std::vector<Index>& roles) {
    w.Key(key).BeginArray();
    for (Index x : roles) WriteRef(w, RoleId(s, s.roles()[x]), s.str(s.roles()[x].name));
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
  w.Field("id", EntitlementId(s, index));
  if (e.application != kNoIndex) {
    const Application& app = s.applications()[e.application];
    w.Key("application");
    WriteRef(w, ApplicationId(s, app), s.str(app.name));
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
  w.Field("id", ApplicationId(s, a)).Field("name", s.str(a.name));
  if (!a.type.empty()) w.Field("type", a.type);
  w.Key("meta").BeginObject().Field("resourceType", "Application").EndObject();
  w.EndObject();
  return w.Take();
}

size_t StateBytes(const QueryState& state) {
  size_t n = sizeof(QueryState) + state.docs.size() * sizeof(Doc);
  for (const Doc& d : state.docs) n += d.heap_bytes();
  n += (state.texts.size() + state.objects.size()) * sizeof(uint32_t);
  for (const auto* map : {&state.by_id, &state.by_user_name}) {
    n += map->size() * (sizeof(std::pair<std::string, std::vector<uint32_t>>) + 1) * 8 / 7;
    for (const auto& [key, positions] : *map)
      n += (key.size() > 15 ? key.size() + 1 : 0) + positions.size() * sizeof(uint32_t);
  }
  return n;
}

// Resource `index` of type t read from the model (not from a SCIM export), as JSON.
std::string ObjectJson(const Snapshot& s, size_t t, Index index) {
  switch (t) {
    case 0: return UserJson(s, s.identities()[index]);
    case 1: return AccountJson(s, index);
    case 2: return EntitlementJson(s, s.entitlements()[index], index);
    case 3: return RoleJson(s, s.roles()[index]);
    default: return ApplicationJson(s, s.applications()[index]);
  }
}

// `texts`: a reader of s.Resources(kTypes[t]).
absl::StatusOr<Doc> MakeDoc(const Snapshot& s, size_t t, const QueryState& state, uint32_t position,
                            TextList::Reader& texts) {
  if (position < state.texts.size()) return DocFromJson(texts[state.texts[position]], kDocLimits);
  return DocFromJson(ObjectJson(s, t, state.objects[position - state.texts.size()]), kDocLimits);
}

// The model object at `index` of type t: its id, and for Users its userName.
std::pair<std::string, std::string_view> ObjectKeys(const Snapshot& s, size_t t, Index index) {
  switch (t) {
    case 0: return {UserId(s, s.identities()[index]), s.str(s.identities()[index].name)};
    case 1: return {AccountId(s, index), {}};
    case 2: return {EntitlementId(s, index), {}};
    case 3: return {RoleId(s, s.roles()[index]), {}};
    default: return {ApplicationId(s, s.applications()[index]), {}};
  }
}

// The resources of type t (see QueryState), indexed, their documents kept while they fit
// `cache_bytes`: the first kSample documents' size, times the resources, decides whether
// to keep them (so a type far past the budget is not rendered whole just to find out),
// and a type that grows past it anyway drops them. The texts were checked at load
// (queryDocuments); one that does not read (a hostile image) is left out, as it always was.
QueryState* BuildState(const Snapshot& s, size_t t, size_t cache_bytes) {
  constexpr size_t kSample = 256;
  auto state = std::make_unique<QueryState>();  // released when built (a corrupt image's record throws)
  state->schema = ResourceSchema::WithScimDefaults(kUrns[t]);
  auto from_model = [&](size_t count, auto from_scim) {
    for (Index i = 0; i < count; ++i)
      if (!from_scim(i)) state->objects.push_back(i);
  };
  switch (t) {
    case 0: from_model(s.identities().size(), [&](Index i) { return s.identities()[i].from_scim; }); break;
    case 1: from_model(s.accounts().size(), [&](Index i) { return s.accounts()[i].from_scim; }); break;
    case 2: from_model(s.entitlements().size(), [&](Index i) { return s.entitlements()[i].from_scim != 0; }); break;
    case 3: from_model(s.roles().size(), [&](Index i) { return s.roles()[i].from_scim; }); break;
    default: from_model(s.applications().size(), [&](Index i) { return s.applications()[i].from_scim; }); break;
  }
  const TextList list = s.Resources(kTypes[t]);
  TextList::Reader texts(list);
  const size_t total = list.size() + state->objects.size();
  auto index = [&](std::string_view id, std::string_view user_name, uint32_t position) {
    if (!id.empty()) state->by_id[std::string(id)].push_back(position);
    if (t == 0 && !user_name.empty()) state->by_user_name[absl::AsciiStrToLower(ToAbsl(user_name))].push_back(position);
  };
  std::vector<Doc> docs;
  size_t bytes = 0;
  bool keep = true;
  auto cache = [&](Doc doc) {
    bytes += sizeof(Doc) + doc.heap_bytes();
    if (docs.size() + 1 == kSample && bytes / kSample * total > cache_bytes) keep = false;
    if (bytes > cache_bytes) keep = false;
    if (keep) {
      docs.push_back(std::move(doc));
    } else {
      std::vector<Doc>().swap(docs);
    }
  };
  for (uint32_t i = 0; i < list.size(); ++i) {
    absl::StatusOr<Doc> doc = DocFromJson(texts[i], kDocLimits);
    if (!doc.ok()) continue;
    const uint32_t position = static_cast<uint32_t>(state->texts.size());
    state->texts.push_back(i);
    uint32_t name = t == 0 ? doc->Find(doc->root(), "username") : Doc::kNone;
    index(IdOf(*doc), name != Doc::kNone && doc->node(name).type == DocType::kString ? doc->str(doc->node(name)) : "",
          position);
    if (keep) cache(*std::move(doc));
  }
  for (uint32_t i = 0; i < state->objects.size(); ++i) {
    const uint32_t position = static_cast<uint32_t>(state->texts.size() + i);
    auto [id, user_name] = ObjectKeys(s, t, state->objects[i]);
    index(id, user_name, position);
    if (!keep) continue;
    absl::StatusOr<Doc> doc = DocFromJson(ObjectJson(s, t, state->objects[i]), kDocLimits);
    cache(doc.ok() ? *std::move(doc) : Doc());  // the model's objects always read
  }
  state->docs = std::move(docs);
  return state.release();
}

const QueryState& StateOf(const Snapshot& s, size_t t, size_t cache_bytes) {
  static_assert(kTypes.size() <= Snapshot::kQuerySlots);
  return s.LazyQueryState<QueryState>(t, [&] { return BuildState(s, t, cache_bytes); }, &StateBytes);
}

// Resources by position: the kept document, or one made again (and held until the next
// call; the texts' frame last read is held too, so reading in order decompresses each once).
class DocSource {
 public:
  DocSource(const Snapshot& s, size_t t, const QueryState& state)
      : s_(s), t_(t), state_(state), texts_(s.Resources(kTypes[t])) {}
  const Doc& operator()(uint32_t position) {
    if (state_.cached()) return state_.docs[position];
    absl::StatusOr<Doc> doc = MakeDoc(s_, t_, state_, position, texts_);
    scratch_ = doc.ok() ? *std::move(doc) : Doc();  // read once already: it reads again
    return scratch_;
  }

 private:
  const Snapshot& s_;
  size_t t_;
  const QueryState& state_;
  TextList::Reader texts_;
  Doc scratch_;
};

// The resources a filter made only of `id eq "..."` terms (and, for Users, `userName eq
// "..."` terms) joined by `or` can match, in query order; nullopt for any other filter. The
// filter still decides on each candidate: the index only narrows (userName by its ASCII
// lower case, the comparison caseExact=false makes, so it never leaves a match out).
std::optional<std::vector<uint32_t>> IndexCandidates(const QueryState& state, size_t t, const QueryOptions& options) {
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
        n->value.kind != LiteralKind::kString)
      return std::nullopt;
    const absl::flat_hash_map<std::string, std::vector<uint32_t>>* index = nullptr;
    std::string key = n->value.text;
    if (absl::EqualsIgnoreCase(ToAbsl(n->path.name), "id")) {
      index = &state.by_id;
    } else if (t == 0 && absl::EqualsIgnoreCase(ToAbsl(n->path.name), "userName")) {
      index = &state.by_user_name;
      absl::AsciiStrToLower(&key);
    } else {
      return std::nullopt;
    }
    if (auto it = index->find(key); it != index->end()) hits.insert(hits.end(), it->second.begin(), it->second.end());
  }
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  return hits;
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
  const QueryState& state = StateOf(snapshot, *t, options.cache_bytes);
  DocSource source(snapshot, *t, state);
  if (auto candidates = IndexCandidates(state, *t, options))
    return RunQuery(candidates->size(), [&](size_t i) -> const Doc& { return source((*candidates)[i]); },
                    state.schema, options);
  return RunQuery(state.size(), [&](size_t i) -> const Doc& { return source(static_cast<uint32_t>(i)); },
                  state.schema, options);
}

absl::StatusOr<std::string> SnapshotResource(const Snapshot& snapshot, std::string_view resource_type,
                                             std::string_view id, const std::vector<std::string>& attributes,
                                             const std::vector<std::string>& excluded_attributes,
                                             size_t cache_bytes) {
  auto t = TypeIndex(resource_type);
  if (!t.ok()) return t.status();
  const QueryState& state = StateOf(snapshot, *t, cache_bytes);
  if (auto it = state.by_id.find(ToAbsl(id)); it != state.by_id.end()) {
    DocSource source(snapshot, *t, state);
    return ProjectDoc(source(it->second.front()), state.schema, attributes, excluded_attributes);
  }
  return MakeError(ErrorCode::kNoSuchResource,
                   absl::StrCat("Resource ", ToAbsl(kTypes[*t]), "/", ToAbsl(id), " not found"));
}

}  // namespace preflight
