// IdentityIQ SCIM JSON exports -> SnapshotObjects (docs/semantics.md section 6).
//
// A file is read with simdjson On-Demand, one resource at a time: each resource is walked
// once, every value of it validated, into a small tree reused from one resource to the
// next (JsonTree), and the readers below take what they need from the tree (Users and
// Accounts written straight into an identity chunk, without an object each); the query
// document is the resource's own text, minified. Nothing of the file is kept but the
// objects and chunks, and no DOM of the whole file is built. A file the walk refuses
// (malformed anywhere, nested deeper than the budget, or anything else On-Demand does not
// accept) is read again with the DOM parser, whose verdict is the file's: the same refusal and
// message as a DOM-only reader, or, should the DOM accept it, the objects the same
// readers take from the same tree built from the DOM. Objects are only handed out once
// the whole file has been read.

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/codecs/scim_stream.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "engine/util/file.h"
#include "engine/util/scim_urns.h"
#include "simdjson.h"

namespace preflight {
namespace {

namespace ondemand = simdjson::ondemand;
using simdjson::error_code;

// One JSON value of a resource. The tree is in preorder: a container's members follow
// it, and `end` is the index just past its subtree.
struct JsonNode {
  enum class Type : uint8_t { kNull, kBool, kInt64, kUint64, kDouble, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  union {
    int64_t int64 = 0;
    uint64_t uint64;
    double number;
  };
  std::string_view key;   // its key, as a member of an object
  std::string_view text;  // a string's value
  uint32_t end = 0;
};

// A node of a JsonTree, or no node (a missing member): what the readers query.
class Json {
 public:
  using Type = JsonNode::Type;
  Json() = default;
  Json(const std::vector<JsonNode>& nodes, uint32_t at) : nodes_(&nodes), at_(at) {}

  bool exists() const { return nodes_ != nullptr; }
  Type type() const { return node().type; }
  bool is(Type t) const { return exists() && node().type == t; }
  bool is_object() const { return is(Type::kObject); }
  bool is_array() const { return is(Type::kArray); }
  bool is_null() const { return is(Type::kNull); }
  std::string_view key() const { return node().key; }
  const JsonNode& node() const { return (*nodes_)[at_]; }

  // The first member named `key` (as the DOM's lookup): none when there is none or this
  // is not an object.
  Json operator[](std::string_view key) const {
    if (!is_object()) return {};
    for (Json member : *this)
      if (member.key() == key) return member;
    return {};
  }
  // The value if it is a string / a boolean.
  bool GetString(std::string_view& out) const {
    if (!is(Type::kString)) return false;
    out = node().text;
    return true;
  }
  bool GetBool(bool& out) const {
    if (!is(Type::kBool)) return false;
    out = node().boolean;
    return true;
  }

  // The members of an object or the items of an array, in order.
  class Iterator {
   public:
    Iterator(const std::vector<JsonNode>* nodes, uint32_t at) : nodes_(nodes), at_(at) {}
    Json operator*() const { return Json(*nodes_, at_); }
    Iterator& operator++() {
      at_ = (*nodes_)[at_].end;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return at_ != o.at_; }

   private:
    const std::vector<JsonNode>* nodes_;
    uint32_t at_;
  };
  Iterator begin() const { return {nodes_, exists() ? at_ + 1 : 0}; }
  Iterator end() const { return {nodes_, exists() ? node().end : 0}; }

 private:
  const std::vector<JsonNode>* nodes_ = nullptr;
  uint32_t at_ = 0;
};

// The tree of one resource, built either by walking it with On-Demand (which validates
// every value on the way) or from the DOM. Strings are views of the parser's buffers.
class JsonTree {
 public:
  explicit JsonTree(int max_depth) : max_depth_(max_depth) {}
  void clear() { nodes_.clear(); }
  Json root() const { return Json(nodes_, 0); }

  // Adds `v` (a member named `key`) at nesting `depth` (the root container is 1).
  // Deeper than the parser's budget is an error here, whatever the DOM would say: the
  // DOM decides such a file.
  error_code Add(ondemand::value v, std::string_view key, int depth) {
    ondemand::json_type type;
    if (auto error = v.type().get(type)) return error;
    const uint32_t at = Open(key);
    switch (type) {
      case ondemand::json_type::object: {
        if (depth >= max_depth_) return simdjson::DEPTH_ERROR;
        ondemand::object object;
        if (auto error = v.get_object().get(object)) return error;
        nodes_[at].type = JsonNode::Type::kObject;
        if (auto error = AddMembers(object, depth)) return error;
        break;
      }
      case ondemand::json_type::array: {
        if (depth >= max_depth_) return simdjson::DEPTH_ERROR;
        ondemand::array array;
        if (auto error = v.get_array().get(array)) return error;
        nodes_[at].type = JsonNode::Type::kArray;
        for (auto item : array) {
          ondemand::value value;
          if (auto error = std::move(item).get(value)) return error;
          if (auto error = Add(value, {}, depth + 1)) return error;
        }
        break;
      }
      case ondemand::json_type::string: {
        nodes_[at].type = JsonNode::Type::kString;
        if (auto error = v.get_string().get(nodes_[at].text)) return error;
        break;
      }
      case ondemand::json_type::number: {
        ondemand::number number;
        if (auto error = v.get_number().get(number)) return error;
        switch (number.get_number_type()) {
          case ondemand::number_type::signed_integer:
            nodes_[at].type = JsonNode::Type::kInt64;
            nodes_[at].int64 = number.get_int64();
            break;
          case ondemand::number_type::unsigned_integer:
            nodes_[at].type = JsonNode::Type::kUint64;
            nodes_[at].uint64 = number.get_uint64();
            break;
          default:
            nodes_[at].type = JsonNode::Type::kDouble;
            nodes_[at].number = number.get_double();
            break;
        }
        break;
      }
      case ondemand::json_type::boolean: {
        nodes_[at].type = JsonNode::Type::kBool;
        if (auto error = v.get_bool().get(nodes_[at].boolean)) return error;
        break;
      }
      case ondemand::json_type::null: {
        bool null = false;
        if (auto error = v.is_null().get(null)) return error;
        if (!null) return simdjson::N_ATOM_ERROR;
        break;
      }
    }
    Close(at);
    return simdjson::SUCCESS;
  }

  // The members of `object`, a container at nesting `depth`.
  error_code AddMembers(ondemand::object object, int depth) {
    for (auto member : object) {
      ondemand::field field;
      std::string_view name;
      if (auto error = std::move(member).get(field)) return error;
      if (auto error = Key(field, name)) return error;
      if (auto error = Add(field.value(), name, depth + 1)) return error;
    }
    return simdjson::SUCCESS;
  }

  // A member's key: a view of the text itself when it has no escape (as most keys), else
  // unescaped into the parser's buffer. The text holds the key's closing quote (the
  // document's strings are checked before it is walked), and the text until it is the
  // key when no backslash comes first.
  static error_code Key(ondemand::field& field, std::string_view& key) {
    const char* const begin = field.key().raw();
    const char* end = begin;
    for (; *end != '"'; ++end)
      if (*end == '\\') return field.unescaped_key().get(key);
    key = std::string_view(begin, static_cast<size_t>(end - begin));
    return simdjson::SUCCESS;
  }

  // The same from a DOM element (which the DOM parser has validated).
  void Add(simdjson::dom::element e, std::string_view key) {
    using simdjson::dom::element_type;
    const uint32_t at = Open(key);
    switch (e.type()) {
      case element_type::OBJECT:
        nodes_[at].type = JsonNode::Type::kObject;
        for (auto [name, value] : e.get_object()) Add(value, name);
        break;
      case element_type::ARRAY:
        nodes_[at].type = JsonNode::Type::kArray;
        for (simdjson::dom::element item : e.get_array()) Add(item, {});
        break;
      case element_type::STRING:
        nodes_[at].type = JsonNode::Type::kString;
        nodes_[at].text = e.get_string().value_unsafe();
        break;
      case element_type::INT64:
        nodes_[at].type = JsonNode::Type::kInt64;
        nodes_[at].int64 = e.get_int64().value_unsafe();
        break;
      case element_type::UINT64:
        nodes_[at].type = JsonNode::Type::kUint64;
        nodes_[at].uint64 = e.get_uint64().value_unsafe();
        break;
      case element_type::DOUBLE:
        nodes_[at].type = JsonNode::Type::kDouble;
        nodes_[at].number = e.get_double().value_unsafe();
        break;
      case element_type::BOOL:
        nodes_[at].type = JsonNode::Type::kBool;
        nodes_[at].boolean = e.get_bool().value_unsafe();
        break;
      case element_type::NULL_VALUE: break;
    }
    Close(at);
  }

 // A node whose members are added by the caller, then Close(it).
  uint32_t Open(std::string_view key, JsonNode::Type type = JsonNode::Type::kNull) {
    nodes_.emplace_back();
    nodes_.back().key = key;
    nodes_.back().type = type;
    return static_cast<uint32_t>(nodes_.size() - 1);
  }
  void Close(uint32_t at) { nodes_[at].end = static_cast<uint32_t>(nodes_.size()); }

 private:

  std::vector<JsonNode> nodes_;
  int max_depth_;
};

using Type = JsonNode::Type;

// The string member `key` of `e`, or "" (a view of the tree's text).
std::string_view View(Json e, std::string_view key) {
  std::string_view s;
  if (e[key].GetString(s)) return s;
  return {};
}

std::string Str(Json e, std::string_view key) { return std::string(View(e, key)); }

// A scalar's text (a number as the DOM's serializer writes it, into `number`); "" for
// null, an object or an array.
std::string_view ScalarView(Json e, char (&number)[32]) {
  switch (e.type()) {
    case Type::kString: return e.node().text;
    case Type::kInt64: return {number, static_cast<size_t>(std::to_chars(number, number + 32, e.node().int64).ptr - number)};
    case Type::kUint64:
      return {number, static_cast<size_t>(std::to_chars(number, number + 32, e.node().uint64).ptr - number)};
    case Type::kDouble:
      return {number, static_cast<size_t>(simdjson::internal::to_chars(number, nullptr, e.node().number) - number)};
    case Type::kBool: return e.node().boolean ? "true" : "false";
    default: return {};
  }
}

std::string ScalarText(Json e) {
  char number[32];
  return std::string(ScalarView(e, number));
}

// Which resource a SCIM object is, by its schemas (falling back to meta.resourceType).
std::string ResourceType(Json r) {
  if (Json schemas = r["schemas"]; schemas.is_array()) {
    for (Json s : schemas) {
      std::string_view urn;
      if (!s.GetString(urn)) continue;
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
  std::string type = Str(r["meta"], "resourceType");
  if (type == "User") return "Users";
  if (type == "Account") return "Accounts";
  if (type == "Entitlement") return "Entitlements";
  if (type == "Role") return "Roles";
  if (type == "Application") return "Applications";
  return {};
}

std::string_view RefName(Json r, std::string_view key) {
  Json ref = r[key];
  if (!ref.is_object()) return {};
  std::string_view name = View(ref, "displayName");
  return name.empty() ? View(ref, "value") : name;
}

std::vector<std::string> RefNames(Json r, std::string_view key) {
  std::vector<std::string> out;
  Json arr = r[key];
  if (!arr.is_array()) return out;
  for (Json item : arr) {
    std::string name = Str(item, "displayName");
    if (name.empty()) name = Str(item, "display");
    if (name.empty()) name = Str(item, "value");
    if (!name.empty()) out.push_back(std::move(name));
  }
  return out;
}

// Where a resource is in its file: a JSON pointer, `prefix` followed by `index` (an
// array's item: "/Resources/<i>", "/<i>"), or `prefix` alone (index -1: "", the whole
// file). Made into text only for a diagnostic or an object that keeps it.
struct Pointer {
  std::string_view prefix;
  int64_t index = -1;
  std::string Text() const { return index < 0 ? std::string(prefix) : absl::StrCat(ToAbsl(prefix), index); }
};

// Users and Accounts are written straight into the reader's identity chunk as each is
// read (IdentityChunkBuilder: each string once per chunk, no object with a std::string
// per field), the rest into objects. A chunk holds what IdentityChunkBuilder::Add and
// Account would make of the objects the same resources read into: the same records,
// runs and lists in the same order.
struct Reader {
  using Run = IdentityChunk::Run;

  std::string file;
  SnapshotObjects& out;
  IdentityChunkBuilder builder;
  // A user's entitlements, (application, accountName, attribute, value), and its
  // accounts' records: reused from one user to the next.
  struct Grant {
    std::string_view application, account, attribute, value;
  };
  std::vector<Grant> grants;
  std::vector<IdentityChunk::Account> accounts;
  std::optional<IdentityChunkBuilder::AttributeWriter> attributes;  // of the object being written (Attributes())
  std::string member_name;  // a member of "name", as its attribute's name ("name.<member>")

  Reader(std::string_view f, SnapshotObjects& o) : file(f), out(o) {}

  Location Where(const Pointer& pointer) const {
    Location l;
    l.file = file;
    l.pointer = pointer.Text();
    return l;
  }
  // The chunk's place of a resource: its pointer made when asked for (the file's string
  // and the array's prefix added once a chunk), not a string of its own.
  IdentityChunk::Place Place(const Pointer& pointer) {
    if (pointer.index < 0) return builder.Place(file, pointer.prefix, 0, 0, -1);
    return builder.IndexedPlace(file, pointer.prefix, pointer.index);
  }

  // The chunk as it is so far into `out` (PackIdentities' chunk of the same objects).
  void Pack() { builder.Finish(out.identity_chunks); }
  // The chunk into `out`, and, unless `pack`, back into objects (this reader's are the
  // only ones in `out`).
  void Finish(bool pack) {
    Pack();
    if (!pack) UnpackIdentities(out);
  }

  // A JSON value as the attribute `name` (its values those of an array's items, or the
  // value); an object is kept by its "value" member, null as no value.
  void Attribute(std::string_view name, Json v) {
    const IdentityChunk::Str n = builder.S(name);
    IdentityChunkBuilder::AttributeWriter& values = attributes->Values();
    char number[32];
    auto add = [&](Json x) {
      if (x.is_object()) {
        if (std::string_view s = View(x, "value"); !s.empty()) values.emplace_back(s);
      } else if (!x.is_null()) {
        values.emplace_back(ScalarView(x, number));
      }
    };
    if (v.is_array()) {
      for (Json item : v) add(item);
    } else {
      add(v);
    }
    attributes->Add(n, v.is_array());
  }
  // The attributes `write()` writes (into `attributes`), as one run.
  template <typename Write>
  IdentityChunk::AttributeRun Attributes(Write&& write) {
    attributes.emplace(builder);
    write();
    IdentityChunk::AttributeRun run = attributes->run();
    attributes.reset();
    return run;
  }
  // An account record's strings (in IdentityChunkBuilder::Account's order), without its
  // place and flags; `attributes()` writes its attributes. No permissions: SCIM has none.
  template <typename Write>
  IdentityChunk::Account Account(std::string_view id, std::string_view identity, std::string_view application,
                                 std::string_view instance, std::string_view native_identity,
                                 std::string_view display_name, Write&& attributes) {
    IdentityChunk::Account k;
    k.id = builder.S(id);
    k.identity = builder.S(identity);
    k.application = builder.S(application);
    k.instance = builder.S(instance);
    k.native_identity = builder.S(native_identity);
    k.display_name = builder.S(display_name);
    k.attributes = Attributes(attributes);
    k.permissions = {static_cast<uint32_t>(builder.chunk().permissions.size()), 0};
    k.from_scim = true;
    return k;
  }

  void ReadUser(Json r, const Pointer& pointer) {
    std::string_view user_name = View(r, "userName"), id = View(r, "id");
    if (user_name.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "User without a userName is skipped",
                                 Where(pointer), absl::StrCat("User[", ToAbsl(id), "]")});
      return;
    }
    IdentityChunk::Identity i;
    i.from_scim = true;
    i.name = builder.S(user_name);
    i.id = builder.S(id);
    i.display_name = builder.S(View(r, "displayName"));
    bool active = true;
    if (r["active"].GetBool(active)) i.inactive = !active;
    Json ext = r[urn::kSailPointUser];
    if (!ext.is_object()) ext = {};
    // The extension's members of `key` that are arrays: f(item) for each of their items.
    auto each = [&](std::string_view key, auto&& f) {
      for (Json value : ext)
        if (value.key() == key && value.is_array())
          for (Json item : value) f(item);
    };
    i.attributes = Attributes([&] {
      for (Json value : r) {
        std::string_view key = value.key();
        if (key == "schemas" || key == "meta" || key == urn::kSailPointUser) continue;
        if (key == "name" && value.is_object()) {
          for (Json v : value) {
            member_name.assign("name.").append(v.key());
            Attribute(member_name, v);
          }
        } else if (!value.is_object()) {  // a "name" not complex (RFC 7643 says it is) is kept as it came
          Attribute(key, value);
        }
      }
      for (Json value : ext)
        if (std::string_view key = value.key(); key != "roles" && key != "accounts" && key != "entitlements")
          Attribute(key, value);
    });
    // Roles, assigned then detected, each in the order listed.
    auto roles = [&](bool detected) {
      IdentityChunkBuilder::ListWriter list(builder);
      each("roles", [&](Json role) {
        std::string_view name = View(role, "display");
        if (name.empty()) return;
        std::string_view acquired = View(role, "acquired");
        if ((acquired == "Detected" || (acquired.empty() && View(role, "value") == "detectedRoles")) == detected)
          list.emplace_back(name);
      });
      return list.run();
    };
    i.assigned_roles = roles(false);
    i.detected_roles = roles(true);
    IdentityChunkBuilder::ListWriter account_ids(builder);
    each("accounts", [&](Json a) {
      if (std::string_view v = View(a, "value"); !v.empty()) account_ids.emplace_back(v);
    });
    i.account_ids = account_ids.run();
    // Entitlements: value = attribute name, display = the entitlement value; one account
    // per (application, accountName), in the order first named, its attributes in the
    // order first named (multi-valued). Used when no Account resource is linked.
    grants.clear();
    each("entitlements", [&](Json e) {
      Grant g{View(e, "application"), View(e, "accountName"), View(e, "value"), View(e, "display")};
      if (!g.application.empty() && !g.attribute.empty()) grants.push_back(g);
    });
    auto same_account = [](const Grant& a, const Grant& b) {
      return a.application == b.application && a.account == b.account;
    };
    auto first = [&](size_t k, auto&& same) {  // no grant before k is the same as k
      for (size_t j = 0; j < k; ++j)
        if (same(grants[j], grants[k])) return false;
      return true;
    };
    accounts.clear();
    const IdentityChunk::Place where = Place(pointer);  // the User's, and its synthesized accounts'
    for (size_t k = 0; k < grants.size(); ++k) {
      if (!first(k, same_account)) continue;
      IdentityChunk::Account& a =
          accounts.emplace_back(Account({}, {}, grants[k].application, {}, grants[k].account, {}, [&] {
            auto same_attribute = [&](const Grant& x, const Grant& y) {
              return same_account(x, y) && x.attribute == y.attribute;
            };
            for (size_t m = k; m < grants.size(); ++m) {
              if (!same_account(grants[m], grants[k]) || !first(m, same_attribute)) continue;
              const IdentityChunk::Str n = builder.S(grants[m].attribute);
              IdentityChunkBuilder::AttributeWriter& values = attributes->Values();
              for (size_t v = m; v < grants.size(); ++v)
                if (same_attribute(grants[v], grants[m])) values.emplace_back(grants[v].value);
              attributes->Add(n, true);
            }
          }));
      a.where = where;  // queried through its User, not as an Account
    }
    IdentityChunk& c = builder.chunk();
    i.accounts = {static_cast<uint32_t>(c.accounts.size()), static_cast<uint32_t>(accounts.size())};
    c.accounts.insert(c.accounts.end(), accounts.begin(), accounts.end());
    i.where = where;
    c.identities.push_back(i);
  }

  void ReadAccount(Json r, const Pointer& pointer) {
    std::string_view id = View(r, "id"), application = RefName(r, "application");
    if (application.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "Account without an application is skipped",
                                 Where(pointer), absl::StrCat("Account[", ToAbsl(id), "]")});
      return;
    }
    std::string_view identity;
    if (Json ref = r["identity"]; ref.is_object()) {
      identity = View(ref, "displayName");
      if (identity.empty()) identity = View(ref, "value");
    }
    IdentityChunk::Account a = Account(id, identity, application, View(r, "instance"), View(r, "nativeIdentity"),
                                       View(r, "displayName"), [&] {
                                         for (Json value : r) {
                                           if (!absl::StartsWith(ToAbsl(value.key()),
                                                                 ToAbsl(urn::kAccountSchemaPrefix)) ||
                                               !value.is_object())
                                             continue;
                                           for (Json v : value) Attribute(v.key(), v);
                                         }
                                       });
    bool flag = false;
    if (r["locked"].GetBool(flag)) a.locked = flag;
    if (r["active"].GetBool(flag)) a.disabled = !flag;
    a.where = Place(pointer);
    builder.AddStandalone(a);
  }

  void ReadEntitlement(Json r, const Pointer& pointer) {
    EntitlementObject e;
    e.from_scim = true;
    e.id = Str(r, "id");
    e.application = RefName(r, "application");
    e.attribute = Str(r, "attribute");
    e.value = Str(r, "value");
    e.display_name = Str(r, "displayableName");
    e.type = Str(r, "type");
    bool requestable = true;
    if (r["requestable"].GetBool(requestable)) e.requestable = requestable;
    e.where = Where(pointer);
    out.entitlements.push_back(std::move(e));
  }

  void ReadRole(Json r, const Pointer& pointer) {
    RoleObject role;
    role.from_scim = true;
    role.name = Str(r, "name");
    role.id = Str(r, "id");
    role.display_name = Str(r, "displayableName");
    role.where = Where(pointer);
    if (Json type = r["type"]; type.exists()) role.type = type.is_object() ? Str(type, "name") : ScalarText(type);
    bool active = true;
    if (r["active"].GetBool(active)) role.disabled = !active;
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

  void ReadApplication(Json r, const Pointer& pointer) {
    ApplicationObject app;
    app.from_scim = true;
    app.name = Str(r, "name");
    app.id = Str(r, "id");
    app.type = Str(r, "type");
    app.where = Where(pointer);
    if (app.name.empty()) return;
    out.applications.push_back(std::move(app));
  }

  // `document(std::string& to)` appends the resource's text for queries to `to` (asked
  // for only when it is one).
  template <typename Document>
  void ReadResource(Json r, const Pointer& pointer, Document&& document) {
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
    out.scim_documents.Add(type, document);
    if (type == "Users") ReadUser(r, pointer);
    else if (type == "Accounts") ReadAccount(r, pointer);
    else if (type == "Entitlements") ReadEntitlement(r, pointer);
    else if (type == "Roles") ReadRole(r, pointer);
    else if (type == "Applications") ReadApplication(r, pointer);
  }
};

// Appends the JSON text [begin, end) to `to` without the blanks between its tokens.
void AppendMinified(const char* begin, const char* end, std::string& to) {
  const size_t at = to.size(), size = static_cast<size_t>(end - begin);
  to.resize(at + size + simdjson::SIMDJSON_PADDING);
  size_t written = 0;
  if (simdjson::minify(begin, size, to.data() + at, written)) {  // not JSON: as it is
    to.replace(at, std::string::npos, begin, size);
    return;
  }
  to.resize(at + written);
}

// Identities and accounts are packed every kPackBytes of an export's text (`pack`): a
// chunk keeps each string once, so the strings an export repeats (groups, roles,
// applications, attribute names) are kept once per 16 MB of it rather than once per 4 MB
// (the load's peak at 100,000 identities 350 -> 315 MB, and fewer strings for the identities
// pass to map), while the chunk's string table stays small enough to stay in cache (from
// 32 MB on, the parse is slower).
constexpr size_t kPackBytes = size_t{16} << 20;  // ten thousand resources or so

// The whole file with On-Demand into the reader's objects; any error: the file is left to
// the DOM. `pack`: the identities and accounts packed every kPackBytes of the text.
// `list`: where the array of a ListResponse's resources starts, when the file is one.
error_code ReadOnDemand(ondemand::parser& parser, simdjson::padded_string_view text, Reader& reader, int max_depth,
                        bool pack, const char** list = nullptr) {
  ondemand::document doc;
  if (auto error = parser.iterate(text).get(doc)) return error;
  JsonTree tree(max_depth), root(max_depth);
  const char* packed = text.data();  // where the text read since the last pack starts
  // One resource: its tree, then its text from where the walk started to where it ended.
  auto read = [&](ondemand::value v, const Pointer& pointer, int depth) -> error_code {
    const char* begin = nullptr;
    if (auto error = doc.current_location().get(begin)) return error;
    tree.clear();
    if (auto error = tree.Add(v, {}, depth)) return error;
    const char* end = nullptr;
    if (auto error = doc.current_location().get(end)) return error;
    reader.ReadResource(tree.root(), pointer, [&](std::string& to) { AppendMinified(begin, end, to); });
    if ((pack && static_cast<size_t>(end - packed) >= kPackBytes) || reader.builder.Full()) {
      reader.Pack();
      packed = end;
    }
    return simdjson::SUCCESS;
  };
  ondemand::json_type type;
  if (auto error = doc.type().get(type)) return error;
  if (type == ondemand::json_type::array) {
    ondemand::array resources;
    if (auto error = doc.get_array().get(resources)) return error;
    int64_t i = 0;
    for (auto item : resources) {
      ondemand::value v;
      if (auto error = std::move(item).get(v)) return error;
      if (auto error = read(v, {"/", i++}, 2)) return error;
    }
  } else {
    // An object: a ListResponse's resources (its first "Resources", when an array), or
    // else one resource, the whole object, whose tree is built as it is walked.
    ondemand::object object;
    if (auto error = doc.get_object().get(object)) return error;
    bool seen = false, listed = false;
    root.clear();
    const uint32_t at = root.Open({}, JsonNode::Type::kObject);
    for (auto member : object) {
      ondemand::field field;
      std::string_view key;
      if (auto error = std::move(member).get(field)) return error;
      if (auto error = field.unescaped_key().get(key)) return error;
      if (!seen && key == "Resources") {
        seen = true;
        ondemand::json_type member_type;
        if (auto error = field.value().type().get(member_type)) return error;
        if (member_type == ondemand::json_type::array) {
          listed = true;
          if (list) *list = field.value().raw_json_token().data();
          ondemand::array resources;
          if (auto error = field.value().get_array().get(resources)) return error;
          int64_t i = 0;
          for (auto item : resources) {
            ondemand::value v;
            if (auto error = std::move(item).get(v)) return error;
            if (auto error = read(v, {"/Resources/", i++}, 3)) return error;
          }
          continue;
        }
      }
      if (auto error = root.Add(field.value(), key, 2)) return error;
    }
    root.Close(at);
    if (!listed) {
      reader.ReadResource(root.root(), {},
                          [&](std::string& to) { AppendMinified(text.data(), text.data() + text.length(), to); });
    }
  }
  // Nothing may follow the root value (OUT_OF_BOUNDS: the walk is at the end).
  const char* after = nullptr;
  if (doc.current_location().get(after) != simdjson::OUT_OF_BOUNDS) return simdjson::TAPE_ERROR;
  return simdjson::SUCCESS;
}

// The whole file as one DOM (which validates it all before anything is read), into `out`
// (which holds nothing else; unless `pack`, as objects).
absl::Status ReadDom(simdjson::dom::parser& parser, std::string_view text, std::string_view file,
                     SnapshotObjects& out, const Limits& limits, bool padded, bool pack) {
  const size_t depth = static_cast<size_t>(limits.max_nesting_depth);
  if ((parser.capacity() < text.size() + 64 || parser.max_depth() != depth) &&
      parser.allocate(text.size() + 64, depth)) {
    return MakeError(ErrorCode::kTooMany, "cannot allocate the JSON parser", Location{std::string(file)});
  }
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size(), !padded).get(root)) {
    ErrorCode code = err == simdjson::DEPTH_ERROR ? ErrorCode::kTooMany : ErrorCode::kInvalidSyntax;
    return MakeError(code, absl::StrCat("malformed JSON: ", simdjson::error_message(err)), Location{std::string(file)});
  }
  Reader reader(file, out);
  JsonTree tree(limits.max_nesting_depth);
  auto read = [&](simdjson::dom::element r, const Pointer& pointer) {
    tree.clear();
    tree.Add(r, {});
    reader.ReadResource(tree.root(), pointer, [&](std::string& to) { to += simdjson::minify(r); });
  };
  simdjson::dom::array resources;
  if (root.is_array()) {
    int64_t i = 0;
    for (simdjson::dom::element r : root.get_array()) read(r, {"/", i++});
  } else if (root.is_object() && !root["Resources"].get_array().get(resources)) {
    int64_t i = 0;
    for (simdjson::dom::element r : resources) read(r, {"/Resources/", i++});
  } else {
    read(root, {});
  }
  reader.Finish(pack);
  out.scim_documents.Finish();
  return absl::OkStatus();
}

// The capacity to allocate a parser with for a text of `size` bytes: `size` rounded up
// to an eighth of its power of two, so that the next files, of about the same size (an
// export's pages), are read without allocating (and faulting in) its buffers again. Only
// what a text uses of them is touched. (A text larger than a parser may be is refused by
// the allocation, as before.)
size_t ParserCapacity(size_t size) {
  if (size >= simdjson::SIMDJSON_MAXSIZE_BYTES) return size;
  const size_t step = std::max<size_t>(std::bit_floor(size) >> 3, 1);
  return std::min((size + step - 1) / step * step, simdjson::SIMDJSON_MAXSIZE_BYTES);
}

// The parser able to read `size` bytes (allocated for ParserCapacity(size) when it is not).
bool Fit(ondemand::parser& parser, size_t size, int max_depth) {
  const size_t depth = static_cast<size_t>(max_depth);
  return (parser.capacity() >= size && parser.max_depth() == depth) ||
         !parser.allocate(ParserCapacity(size), depth);
}

// JSON's four blanks. (Not strchr(" \t\r\n", c): it finds a NUL too, its terminator, and a
// NUL is no blank: fuzzing found NULs after the head line's '[' read as an export.)
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Whether an export's first line opens a ListResponse's resources (`{"schemas":[...],...,
// "Resources":[`): the line layout's head.
bool OpensResources(std::string_view head) {
  head = TrimBlanks(head);
  return head.size() >= 2 && head.front() == '{' && head.back() == '[';
}

// The lines of a whole text (padded): what ReadLines reads, as FileLines gives a file's.
class TextLines {
 public:
  explicit TextLines(std::string_view text) : text_(text) {}
  bool Next(std::string_view& line) {
    if (at_ >= text_.size()) return false;
    const size_t end = std::min(text_.find('\n', at_), text_.size());
    line = text_.substr(at_, end - at_);
    at_ = end + 1;
    return true;
  }
  uint64_t Offset(const char* p) const { return static_cast<uint64_t>(p - text_.data()); }
  bool AppendRest(const char* p, std::string& to) {
    to.append(p, static_cast<size_t>(text_.data() + text_.size() - p));
    at_ = text_.size();
    return true;
  }

 private:
  std::string_view text_;
  size_t at_ = 0;
};

// A ListResponse's resources read one at a time, each a document of its own (ReadLines,
// ReadSplit), so that the parser's buffers are those of a resource (held in cache, not the
// whole file's), and its envelope once without them. The text read so is the same JSON,
// valid throughout, as read whole: each resource one JSON object, the envelope a
// ListResponse whose first "Resources" is the array.
class ResourceStream {
 public:
  ResourceStream(ondemand::parser& parser, Reader& reader, int max_depth, bool pack)
      : parser_(parser), reader_(reader), tree_(max_depth), max_depth_(max_depth), pack_(pack) {}

  // The next resource, `text` (with SIMDJSON_PADDING readable bytes after it), which ends at
  // `end` in the file: false unless it is one JSON object and nothing else.
  bool Read(std::string_view text, uint64_t end) {
    if (text.empty() || !Fit(parser_, std::max(text.size(), kCapacity), max_depth_)) return false;
    ondemand::document doc;
    ondemand::object object;
    const char* after = nullptr;
    if (parser_.iterate(simdjson::padded_string_view(text.data(), text.size(), text.size() + simdjson::SIMDJSON_PADDING))
            .get(doc) ||
        doc.get_object().get(object))
      return false;
    tree_.clear();
    const int depth = 3;  // a resource of a ListResponse's array
    if (depth >= max_depth_) return false;
    const uint32_t root = tree_.Open({}, JsonNode::Type::kObject);
    if (tree_.AddMembers(object, depth)) return false;
    tree_.Close(root);
    if (doc.current_location().get(after) != simdjson::OUT_OF_BOUNDS) return false;  // nothing after it
    reader_.ReadResource(tree_.root(), {"/Resources/", i_++},
                         [&](std::string& to) { AppendMinified(text.data(), text.data() + text.size(), to); });
    if ((pack_ && end - packed_ >= kPackBytes) || reader_.builder.Full()) {
      reader_.Pack();
      packed_ = end;
    }
    return true;
  }

  // Whether `envelope` (the text up to and including the array's '[', its first `head`
  // bytes, then the rest of the file from the ']' closing it) is a ListResponse whose first
  // "Resources" is that array.
  bool Envelope(std::string& envelope, size_t head) {
    const size_t size = envelope.size();
    envelope.append(simdjson::SIMDJSON_PADDING, ' ');
    SnapshotObjects none;
    Reader nothing(reader_.file, none);
    const char* list = nullptr;
    return Fit(parser_, std::max(size, kCapacity), max_depth_) &&
           !ReadOnDemand(parser_, simdjson::padded_string_view(envelope.data(), size, envelope.size()), nothing,
                         max_depth_, false, &list) &&
           list == envelope.data() + head - 1;
  }

  int64_t count() const { return i_; }

 private:
  static constexpr size_t kCapacity = 64 << 10;  // the parser's least
  ondemand::parser& parser_;
  Reader& reader_;
  JsonTree tree_;
  int max_depth_;
  bool pack_;
  uint64_t packed_ = 0;  // where the text read since the last pack starts
  int64_t i_ = 0;        // the next resource's index
};

template <typename Lines>
bool ReadSplit(Lines& lines, std::string_view line, ResourceStream& stream);

// A ListResponse laid out as `preflight snapshot pull` writes its pages (one minified resource
// a line; benchmarks/gen_workload.py writes the same): a first line that opens the
// resources' array (OpensResources), then one resource a line, each followed by a comma
// but the last, then a line that starts with the `]` closing the array and the rest of the
// envelope. Any other layout is read by ReadSplit. `lines` (TextLines or FileLines: Next,
// Offset, AppendRest) gives the lines, each padded. Anything else (a part that does not
// parse): false, and the reader's objects are to be discarded (the file is read whole).
template <typename Lines>
bool ReadLines(ondemand::parser& parser, Lines& lines, Reader& reader, int max_depth, bool pack) {
  ResourceStream stream(parser, reader, max_depth, pack);
  std::string_view first;
  if (!lines.Next(first)) return false;
  if (!OpensResources(first)) return ReadSplit(lines, first, stream);
  std::string envelope(TrimBlanks(first));  // the head, then an empty array and the rest
  const size_t head = envelope.size();
  bool more = false;  // the last resource was followed by a comma
  while (true) {
    std::string_view line;
    if (!lines.Next(line)) return false;  // the array is not closed on a line of its own
    line = TrimBlanks(line);
    if (line.empty()) continue;
    if (line.front() == ']') {
      if (more) return false;  // a comma after the last resource
      if (!lines.AppendRest(line.data(), envelope)) return false;
      break;
    }
    if (stream.count() > 0 && !more) return false;  // no comma between two resources
    more = line.back() == ',';
    if (more) line = TrimBlanks(line.substr(0, line.size() - 1));
    if (!stream.Read(line, lines.Offset(line.data() + line.size()))) return false;
  }
  return stream.Envelope(envelope, head);
}

// Where the string opening at `line[open]` closes (its '"' not escaped), or npos when not on
// this line (a JSON string holds no line's end).
size_t StringEnd(std::string_view line, size_t open) {
  for (size_t from = open + 1;;) {
    const void* quote = std::memchr(line.data() + from, '"', line.size() - from);
    if (quote == nullptr) return std::string_view::npos;
    const size_t at = static_cast<size_t>(static_cast<const char*>(quote) - line.data());
    size_t escapes = at;
    while (escapes > open + 1 && line[escapes - 1] == '\\') --escapes;
    if ((at - escapes) % 2 == 0) return at;
    from = at + 1;
  }
}

// A ListResponse laid out any other way that has lines (pretty-printed, several resources a
// line, a resource over several lines), `line` its first line: each resource found by its
// braces (its strings skipped whole), then read as ReadLines reads a line's (in place when it
// is within one line, else its lines joined as they were). The envelope must be an object
// whose first member spelled "Resources" at its top level (no escape in any of its top-level
// strings) is an array of objects, with blanks and one comma between them; its head is at
// most kMaxHead. Anything else: false (the file is read whole).
template <typename Lines>
bool ReadSplit(Lines& lines, std::string_view line, ResourceStream& stream) {
  static constexpr size_t kMaxHead = 1 << 20;
  enum class At {
    kHead,      // before the array, `depth` deep
    kOpen,      // the array opened, or a comma read: blanks, then a resource (or the ']')
    kResource,  // within a resource, `depth` deep (from 1 at its '{')
    kAfter,     // after a resource: blanks, then a comma or the ']'
  };
  At at = At::kHead;
  int depth = 0;
  bool resources = false;  // the last top-level string was "Resources" (then only blanks)
  bool named = false;      // ... and a ':' followed it
  bool comma = false;      // kOpen after a comma
  std::string envelope, joined;  // `joined`: a resource's lines so far, each with its '\n'
  size_t begin = 0;  // where in `line` the resource (or its part on this line) starts
  while (true) {
    for (size_t k = 0; k < line.size(); ++k) {
      const char c = line[k];
      switch (at) {
        case At::kHead:
          if (IsBlank(c)) continue;
          if (depth == 0 && c != '{') return false;  // not an object, or past its end
          if (named) {
            if (c != '[') return false;  // the first "Resources" is not an array
            envelope.append(line.substr(0, k + 1));
            at = At::kOpen;
            continue;
          }
          named = resources && c == ':' && depth == 1;
          resources = false;
          if (c == '"') {
            const size_t end = StringEnd(line, k);
            if (end == std::string_view::npos) return false;
            const std::string_view key = line.substr(k + 1, end - k - 1);
            if (depth == 1 && key.find('\\') != std::string_view::npos) return false;  // "Resources" escaped?
            resources = depth == 1 && key == "Resources";
            k = end;
          } else if (c == '{' || c == '[') {
            ++depth;
          } else if (c == '}' || c == ']') {
            --depth;
          }
          continue;
        case At::kOpen:
          if (IsBlank(c)) continue;
          if (c == ']' && !comma) break;  // an empty array
          if (c != '{') return false;
          at = At::kResource;
          depth = 1;
          begin = k;
          continue;
        case At::kResource:
          if (c == '"') {
            k = StringEnd(line, k);
            if (k == std::string_view::npos) return false;
          } else if (c == '{' || c == '[') {
            ++depth;
          } else if ((c == '}' || c == ']') && --depth == 0) {
            const std::string_view part = line.substr(begin, k + 1 - begin);
            const uint64_t end = lines.Offset(line.data() + k + 1);
            if (joined.empty()) {
              if (!stream.Read(part, end)) return false;
            } else {
              joined.append(part);
              const size_t size = joined.size();
              joined.append(simdjson::SIMDJSON_PADDING, ' ');
              if (!stream.Read(std::string_view(joined.data(), size), end)) return false;
              joined.clear();
            }
            at = At::kAfter;
          }
          continue;
        case At::kAfter:
          if (IsBlank(c)) continue;
          if (c == ',') {
            at = At::kOpen;
            comma = true;
            continue;
          }
          if (c != ']') return false;
          break;
      }
      // The array's ']': the rest of the file follows the head.
      const size_t head = envelope.size();
      return lines.AppendRest(line.data() + k, envelope) && stream.Envelope(envelope, head);
    }
    // The line's end: a blank between tokens.
    if (at == At::kHead) {
      envelope.append(line).push_back('\n');
      if (envelope.size() > kMaxHead) return false;
    } else if (at == At::kResource) {
      joined.append(line.substr(begin)).push_back('\n');
      begin = 0;
    }
    if (!lines.Next(line)) return false;
  }
}

// What `parse(reader)` reads (true when it read the file) into `out`, as one file's.
template <typename Parse>
bool ReadParsed(std::string_view file, SnapshotObjects& out, bool pack, Parse&& parse) {
  SnapshotObjects part;
  Reader reader(file, part);
  if (!parse(reader)) return false;
  reader.Finish(pack);
  part.scim_documents.Finish();
  AppendObjects(out, std::move(part));
  return true;
}

// ReadScimJson of a padded text; `lines`: the line layout tried first.
absl::Status ReadPadded(snapshot_sources_internal::ScimParsers& parsers, std::string_view text, std::string_view file,
                        SnapshotObjects& out, const Limits& limits, bool pack, bool lines) {
  ondemand::parser& parser = parsers.on_demand;
  // (A text larger than a parser may be is refused below, however it is laid out.)
  if (lines && text.size() < simdjson::SIMDJSON_MAXSIZE_BYTES && ReadParsed(file, out, pack, [&](Reader& reader) {
        TextLines text_lines(text);
        return ReadLines(parser, text_lines, reader, limits.max_nesting_depth, pack);
      }))
    return absl::OkStatus();
  if (!Fit(parser, text.size(), limits.max_nesting_depth))
    return MakeError(ErrorCode::kTooMany, "cannot allocate the JSON parser", Location{std::string(file)});
  if (ReadParsed(file, out, pack, [&](Reader& reader) {
        return !ReadOnDemand(parser, simdjson::padded_string_view(text.data(), text.size(), text.size() + kSourcePadding),
                             reader, limits.max_nesting_depth, pack);
      }))
    return absl::OkStatus();
  SnapshotObjects part;
  absl::Status status = ReadDom(parsers.dom, text, file, part, limits, true, pack);
  AppendObjects(out, std::move(part));
  return status;
}

}  // namespace

absl::Status ReadScimJson(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits) {
  snapshot_sources_internal::ScimParsers parsers;
  return snapshot_sources_internal::ReadScimJson(parsers, text, file, out, limits, false);
}

absl::Status ReadScimJsonDom(std::string_view text, std::string_view file, SnapshotObjects& out,
                             const Limits& limits) {
  simdjson::dom::parser parser;
  SnapshotObjects part;
  absl::Status status = ReadDom(parser, text, file, part, limits, false, false);
  AppendObjects(out, std::move(part));
  return status;
}

static_assert(kSourcePadding >= simdjson::SIMDJSON_PADDING);

absl::Status snapshot_sources_internal::ReadScimJson(ScimParsers& parsers, std::string_view text,
                                                     std::string_view file, SnapshotObjects& out,
                                                     const Limits& limits, bool padded, bool pack) {
  if (!padded) {  // simdjson reads (never uses) a few bytes past the text
    parsers.copy.assign(text.size() + kSourcePadding, ' ');
    text.copy(parsers.copy.data(), text.size());
    text = std::string_view(parsers.copy.data(), text.size());
  }
  return ReadPadded(parsers, text, file, out, limits, pack, true);
}

bool ScimExportInLines(const std::string& path) {
  if (path == "-") return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char head[4096];
  const size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  const std::string_view text(head, n);
  // In lines: the line layout (ReadLines), or an object over several lines (ReadSplit). A
  // file whose first 4 KB hold no line's end is read whole (one line: its reading a line at
  // a time would hold it whole anyway).
  const std::string_view trimmed = TrimBlanks(text);
  return DetectSourceKind(text) == SourceKind::kScimJson && text.find('\n') != std::string_view::npos &&
         !trimmed.empty() && trimmed.front() == '{';
}

absl::Status ReadScimJsonFile(snapshot_sources_internal::ScimParsers& parsers, const std::string& path,
                              SnapshotObjects& out, const Limits& limits, bool pack, const FileStamp* expected) {
  FileLines lines;
  if (absl::Status open = lines.Open(path, expected); !open.ok()) return open;
  if (ReadParsed(path, out, pack, [&](Reader& reader) {
        return ReadLines(parsers.on_demand, lines, reader, limits.max_nesting_depth, pack);
      }))
    return absl::OkStatus();
  if (!lines.status().ok()) return lines.status();
  // Not in the line layout after all: the whole file (the same open file, so the one
  // hashed), read as any other (the lines not again).
  std::string text;
  if (absl::Status read = lines.ReadWhole(text); !read.ok()) return read;
  return ReadPadded(parsers, text, path, out, limits, pack, false);
}

}  // namespace preflight
