// IdentityIQ SCIM JSON exports -> SnapshotObjects (docs/semantics.md section 6).
//
// A file is read with simdjson On-Demand, one resource at a time: each resource is walked
// once, every value of it validated, into a small tree reused from one resource to the
// next (JsonTree), and the readers below take what they need from the tree; the query
// document is the resource's own text, minified. Nothing of the file is kept but the
// objects, and no DOM of the whole file is built. A file the walk refuses (malformed
// anywhere, nested deeper than the budget, or anything else On-Demand does not accept)
// is read again with the DOM parser, whose verdict is the file's: the same refusal and
// message as a DOM-only reader, or, should the DOM accept it, the objects the same
// readers take from the same tree built from the DOM. Objects are only handed out once
// the whole file has been read.

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
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
        for (auto member : object) {
          ondemand::field field;
          std::string_view name;
          if (auto error = std::move(member).get(field)) return error;
          if (auto error = field.unescaped_key().get(name)) return error;
          if (auto error = Add(field.value(), name, depth + 1)) return error;
        }
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

std::string Str(Json e, std::string_view key) {
  std::string_view s;
  if (e[key].GetString(s)) return std::string(s);
  return {};
}

std::string ScalarText(Json e) {
  switch (e.type()) {
    case Type::kString: return std::string(e.node().text);
    case Type::kInt64: return std::to_string(e.node().int64);
    case Type::kUint64: return std::to_string(e.node().uint64);
    case Type::kDouble: {  // as the DOM's serializer writes it
      char text[32];
      return std::string(text, simdjson::internal::to_chars(text, nullptr, e.node().number));
    }
    case Type::kBool: return e.node().boolean ? "true" : "false";
    default: return {};
  }
}

// A JSON value -> attribute values; objects are kept by their "value" member.
AttributeObject ToAttribute(std::string_view name, Json v) {
  AttributeObject a;
  a.name = std::string(name);
  if (v.is_array()) {
    a.multi = true;
    for (Json item : v) {
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

std::string RefName(Json r, std::string_view key) {
  Json ref = r[key];
  if (!ref.is_object()) return {};
  std::string name = Str(ref, "displayName");
  return name.empty() ? Str(ref, "value") : name;
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

struct Reader {
  std::string file;
  SnapshotObjects& out;

  Location Where(std::string pointer) const {
    Location l;
    l.file = file;
    l.pointer = std::move(pointer);
    return l;
  }

  void ReadUser(Json r, const std::string& pointer) {
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
    if (r["active"].GetBool(active)) id.inactive = !active;
    for (Json value : r) {
      std::string_view key = value.key();
      if (key == "schemas" || key == "meta" || key == urn::kSailPointUser) continue;
      if (value.is_object() && key != "name") continue;
      if (key == "name") {
        if (!value.is_object()) {  // RFC 7643 says complex; keep a scalar as it came
          id.attributes.push_back(ToAttribute(key, value));
          continue;
        }
        for (Json v : value) id.attributes.push_back(ToAttribute(absl::StrCat("name.", ToAbsl(v.key())), v));
        continue;
      }
      id.attributes.push_back(ToAttribute(key, value));
    }
    if (Json ext = r[urn::kSailPointUser]; ext.is_object()) {
      for (Json value : ext) {
        std::string_view key = value.key();
        if (key == "roles") {
          if (!value.is_array()) continue;
          for (Json role : value) {
            std::string name = Str(role, "display");
            if (name.empty()) continue;
            std::string acquired = Str(role, "acquired");
            std::string kind = Str(role, "value");
            bool detected = acquired == "Detected" || (acquired.empty() && kind == "detectedRoles");
            (detected ? id.detected_roles : id.assigned_roles).push_back(std::move(name));
          }
        } else if (key == "accounts") {
          if (!value.is_array()) continue;
          for (Json a : value) {
            std::string v = Str(a, "value");
            if (!v.empty()) id.account_ids.push_back(std::move(v));
          }
        } else if (key == "entitlements") {
          // value = attribute name, display = the entitlement value: one account per
          // (application, accountName). Used when no Account resource is linked.
          if (!value.is_array()) continue;
          for (Json e : value) {
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

  void ReadAccount(Json r, const std::string& pointer) {
    AccountObject a;
    a.from_scim = true;
    a.id = Str(r, "id");
    a.native_identity = Str(r, "nativeIdentity");
    a.display_name = Str(r, "displayName");
    a.instance = Str(r, "instance");
    a.application = RefName(r, "application");
    if (Json identity = r["identity"]; identity.is_object()) {
      a.identity = Str(identity, "displayName");
      if (a.identity.empty()) a.identity = Str(identity, "value");
    }
    a.where = Where(pointer);
    bool flag = false;
    if (r["locked"].GetBool(flag)) a.locked = flag;
    if (r["active"].GetBool(flag)) a.disabled = !flag;
    for (Json value : r) {
      if (!absl::StartsWith(ToAbsl(value.key()), ToAbsl(urn::kAccountSchemaPrefix)) || !value.is_object()) continue;
      for (Json v : value) a.attributes.push_back(ToAttribute(v.key(), v));
    }
    if (a.application.empty()) {
      out.diagnostics.push_back({Severity::kError, ErrorCode::kInvalidValue, "Account without an application is skipped",
                                 a.where, "Account[" + a.id + "]"});
      return;
    }
    out.accounts.push_back(std::move(a));
  }

  void ReadEntitlement(Json r, const std::string& pointer) {
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

  void ReadRole(Json r, const std::string& pointer) {
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

  void ReadApplication(Json r, const std::string& pointer) {
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
  void ReadResource(Json r, const std::string& pointer, Document&& document) {
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

// The whole file with On-Demand into the reader's objects; any error: the file is left to
// the DOM. `pack`: the identities and accounts packed every kPackBytes of the text.
error_code ReadOnDemand(ondemand::parser& parser, simdjson::padded_string_view text, Reader& reader, int max_depth,
                        bool pack) {
  static constexpr size_t kPackBytes = 4 << 20;  // a few thousand resources
  ondemand::document doc;
  if (auto error = parser.iterate(text).get(doc)) return error;
  JsonTree tree(max_depth), root(max_depth);
  const char* packed = text.data();  // where the text read since the last pack starts
  // One resource: its tree, then its text from where the walk started to where it ended.
  auto read = [&](ondemand::value v, const std::string& pointer, int depth) -> error_code {
    const char* begin = nullptr;
    if (auto error = doc.current_location().get(begin)) return error;
    tree.clear();
    if (auto error = tree.Add(v, {}, depth)) return error;
    const char* end = nullptr;
    if (auto error = doc.current_location().get(end)) return error;
    reader.ReadResource(tree.root(), pointer, [&](std::string& to) { AppendMinified(begin, end, to); });
    if (pack && static_cast<size_t>(end - packed) >= kPackBytes) {
      PackIdentities(reader.out);
      packed = end;
    }
    return simdjson::SUCCESS;
  };
  ondemand::json_type type;
  if (auto error = doc.type().get(type)) return error;
  if (type == ondemand::json_type::array) {
    ondemand::array resources;
    if (auto error = doc.get_array().get(resources)) return error;
    size_t i = 0;
    for (auto item : resources) {
      ondemand::value v;
      if (auto error = std::move(item).get(v)) return error;
      if (auto error = read(v, absl::StrCat("/", i++), 2)) return error;
    }
  } else {
    // An object: a ListResponse's resources (its first "Resources", when an array), or
    // else one resource, the whole object, whose tree is built as it is walked.
    ondemand::object object;
    if (auto error = doc.get_object().get(object)) return error;
    bool seen = false, list = false;
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
          list = true;
          ondemand::array resources;
          if (auto error = field.value().get_array().get(resources)) return error;
          size_t i = 0;
          for (auto item : resources) {
            ondemand::value v;
            if (auto error = std::move(item).get(v)) return error;
            if (auto error = read(v, absl::StrCat("/Resources/", i++), 3)) return error;
          }
          continue;
        }
      }
      if (auto error = root.Add(field.value(), key, 2)) return error;
    }
    root.Close(at);
    if (!list) {
      reader.ReadResource(root.root(), "",
                          [&](std::string& to) { AppendMinified(text.data(), text.data() + text.length(), to); });
    }
  }
  // Nothing may follow the root value (OUT_OF_BOUNDS: the walk is at the end).
  const char* after = nullptr;
  if (doc.current_location().get(after) != simdjson::OUT_OF_BOUNDS) return simdjson::TAPE_ERROR;
  return simdjson::SUCCESS;
}

// The whole file as one DOM (which validates it all before anything is read), into `out`.
absl::Status ReadDom(simdjson::dom::parser& parser, std::string_view text, std::string_view file,
                     SnapshotObjects& out, const Limits& limits, bool padded) {
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
  Reader reader{std::string(file), out};
  JsonTree tree(limits.max_nesting_depth);
  auto read = [&](simdjson::dom::element r, const std::string& pointer) {
    tree.clear();
    tree.Add(r, {});
    reader.ReadResource(tree.root(), pointer, [&](std::string& to) { to += simdjson::minify(r); });
  };
  simdjson::dom::array resources;
  if (root.is_array()) {
    size_t i = 0;
    for (simdjson::dom::element r : root.get_array()) read(r, absl::StrCat("/", i++));
  } else if (root.is_object() && !root["Resources"].get_array().get(resources)) {
    size_t i = 0;
    for (simdjson::dom::element r : resources) read(r, absl::StrCat("/Resources/", i++));
  } else {
    read(root, "");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadScimJson(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits) {
  snapshot_sources_internal::ScimParsers parsers;
  return snapshot_sources_internal::ReadScimJson(parsers, text, file, out, limits, false);
}

absl::Status ReadScimJsonDom(std::string_view text, std::string_view file, SnapshotObjects& out,
                             const Limits& limits) {
  simdjson::dom::parser parser;
  absl::Status status = ReadDom(parser, text, file, out, limits, false);
  out.scim_documents.Finish();
  return status;
}

static_assert(kSourcePadding >= simdjson::SIMDJSON_PADDING);

absl::Status snapshot_sources_internal::ReadScimJson(ScimParsers& parsers, std::string_view text,
                                                     std::string_view file, SnapshotObjects& out,
                                                     const Limits& limits, bool padded, bool pack) {
  const size_t depth = static_cast<size_t>(limits.max_nesting_depth);
  ondemand::parser& parser = parsers.on_demand;
  if ((parser.capacity() < text.size() || parser.max_depth() != depth) && parser.allocate(text.size(), depth)) {
    return MakeError(ErrorCode::kTooMany, "cannot allocate the JSON parser", Location{std::string(file)});
  }
  std::string_view padded_text = text;
  if (!padded) {  // simdjson reads (never uses) a few bytes past the text
    parsers.copy.assign(text.size() + kSourcePadding, ' ');
    text.copy(parsers.copy.data(), text.size());
    padded_text = std::string_view(parsers.copy.data(), text.size());
  }
  SnapshotObjects part;
  Reader reader{std::string(file), part};
  if (!ReadOnDemand(parser, simdjson::padded_string_view(padded_text.data(), padded_text.size(),
                                                          padded_text.size() + kSourcePadding),
                    reader, limits.max_nesting_depth, pack)) {
    part.scim_documents.Finish();
    AppendObjects(out, std::move(part));
    return absl::OkStatus();
  }
  absl::Status status = ReadDom(parsers.dom, padded_text, file, out, limits, true);
  out.scim_documents.Finish();
  return status;
}

}  // namespace preflight
