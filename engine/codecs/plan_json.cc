// ProvisioningPlan <-> the toMap JSON (application/sailpoint.object.ProvisioningPlan+json,
// docs/semantics.md, "Plan forms"), and the lenient Map.toString form (grammar/plan_map.h).
// Both decoders share one converter, templated on the tree they walk (a simdjson DOM element
// or a MapFormTree node), so the two forms cannot drift apart.
//
// Keys (IIQ's toMap names first, then ours for fields toMap does not carry):
//   plan:        identity, targetIntegration, trackingId, accounts, objects, args
//                (legacy "integrationData" is read as args when there is no "args"), result
//   account:     application, instance, nativeIdentity (always written, null when absent, as
//                AccountRequest.toMap does), op, targetIntegration, trackingId, sourceRole,
//                assignmentIds, attributes, permissions, args, result
//   object:      type, application, instance, nativeIdentity, op, attributes, permissions,
//                args, result
//   attribute:   name, op, value (any JSON), displayValue, assignmentId, trackingId, args, result
//   permission:  target, rights, op, args, result
//   result:      status, errors, warnings (lists of message strings)
//   every level: xmlAttributes (object of strings) and xmlElements (list of verbatim elements)
//                carry what an XML plan had beyond the model (Extra), so XML -> JSON -> XML
//                loses nothing; any other key is kept in Extra::json_fields, in order.
// `op` is case-sensitive (Enum.valueOf). A null string field is absent. Wrong types are
// invalidValue with a JSON pointer (/accounts/0/op), and so is a key repeated in one object
// (IIQ's reader keeps the last, simdjson's lookup the first: no reading is right).
//
// Values: null, strings, booleans, lists and maps map one to one. An integer that fits 64
// bits is Value::Integer; any other number (1.5, 1e3, 2^64) is kept as a string of its
// shortest round-trip decimal form ("1.5", "1000", "18446744073709551616"), because the model
// has no floating kind and a plan's values are compared as text anyway. Value::Date is
// written as its epoch milliseconds (an integer), as IIQ's JSON does, so it reads back as an
// integer. JSON has no place for unknown XML in values other than the {"#xml": ...} map the
// XML decoder makes; that is kept as a map. Extra::json_fields do not survive into XML.
//
// Map form: the same keys; a bare scalar given where a string is wanted (nativeIdentity=0012,
// name=true) is taken as written, since flexjson turned such words into numbers and IIQ's
// fromMap read them back with toString.

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/codecs/plan_codec_internal.h"
#include "engine/codecs/json_strict.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "grammar/plan_map.h"
#include "simdjson.h"

namespace preflight {
namespace {

using plan_codec_internal::XmlContext;

enum class NodeType { kNull, kString, kBoolean, kInteger, kNumberText, kList, kMap };

// The longest string std::string keeps without a buffer of its own.
const size_t kInlineString = std::string().capacity();

// --------------------------------------------------------------------------- tree adapters

struct JsonNode {
  simdjson::dom::element e;

  NodeType type() const {
    switch (e.type()) {
      case simdjson::dom::element_type::ARRAY: return NodeType::kList;
      case simdjson::dom::element_type::OBJECT: return NodeType::kMap;
      case simdjson::dom::element_type::INT64: return NodeType::kInteger;
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE: return NodeType::kNumberText;
      case simdjson::dom::element_type::STRING: return NodeType::kString;
      case simdjson::dom::element_type::BOOL: return NodeType::kBoolean;
      case simdjson::dom::element_type::NULL_VALUE: return NodeType::kNull;
    }
    return NodeType::kNull;
  }
  std::string_view str() const { return e.get_string().value_unsafe(); }
  bool boolean() const { return e.get_bool().value_unsafe(); }
  int64_t integer() const { return e.get_int64().value_unsafe(); }
  std::string number_text() const {
    char buf[64];
    if (e.type() == simdjson::dom::element_type::UINT64) {
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      return std::string(buf, r.ptr);
    }
    auto r = std::to_chars(buf, buf + sizeof buf, e.get_double().value_unsafe());
    return std::string(buf, r.ptr);
  }
  // A string field given a non-string: never accepted in strict JSON.
  bool bare_scalar() const { return false; }
  std::string_view bare_text() const { return {}; }
  int64_t offset() const { return -1; }
  size_t size() const {
    return type() == NodeType::kList ? simdjson::dom::array(e.get_array().value_unsafe()).size()
                                     : simdjson::dom::object(e.get_object().value_unsafe()).size();
  }
  template <typename F>
  absl::Status ForEachItem(F&& f) const {
    size_t i = 0;
    for (simdjson::dom::element child : simdjson::dom::array(e.get_array().value_unsafe()))
      PF_RETURN_IF_ERROR(f(i++, JsonNode{child}));
    return absl::OkStatus();
  }
  template <typename F>
  absl::Status ForEachField(F&& f) const {
    for (simdjson::dom::key_value_pair kv : simdjson::dom::object(e.get_object().value_unsafe()))
      PF_RETURN_IF_ERROR(f(kv.key, JsonNode{kv.value}));
    return absl::OkStatus();
  }
};

struct MapNode {
  const MapFormTree* t;
  uint32_t i;

  const MapFormTree::Node& n() const { return t->node(i); }
  NodeType type() const {
    switch (n().kind) {
      case MapFormTree::Kind::kNull: return NodeType::kNull;
      case MapFormTree::Kind::kString: return NodeType::kString;
      case MapFormTree::Kind::kBoolean: return NodeType::kBoolean;
      case MapFormTree::Kind::kInteger: return NodeType::kInteger;
      case MapFormTree::Kind::kList: return NodeType::kList;
      case MapFormTree::Kind::kMap: return NodeType::kMap;
    }
    return NodeType::kNull;
  }
  std::string_view str() const { return t->text(n()); }
  bool boolean() const { return n().boolean; }
  int64_t integer() const { return n().integer; }
  std::string number_text() const { return std::string(t->text(n())); }
  bool bare_scalar() const {
    return n().bare && (n().kind == MapFormTree::Kind::kInteger || n().kind == MapFormTree::Kind::kBoolean);
  }
  std::string_view bare_text() const { return t->text(n()); }
  int64_t offset() const { return n().span.begin; }
  size_t size() const { return n().count; }
  template <typename F>
  absl::Status ForEachItem(F&& f) const {
    for (uint32_t j = i + 1, k = 0; j < n().end; j = t->node(j).end, ++k) PF_RETURN_IF_ERROR(f(k, MapNode{t, j}));
    return absl::OkStatus();
  }
  template <typename F>
  absl::Status ForEachField(F&& f) const {
    for (uint32_t j = i + 1; j < n().end; j = t->node(j).end) PF_RETURN_IF_ERROR(f(t->key(t->node(j)), MapNode{t, j}));
    return absl::OkStatus();
  }
};

std::string_view TypeName(NodeType t) {
  switch (t) {
    case NodeType::kNull: return "null";
    case NodeType::kString: return "a string";
    case NodeType::kBoolean: return "a boolean";
    case NodeType::kInteger:
    case NodeType::kNumberText: return "a number";
    case NodeType::kList: return "a list";
    case NodeType::kMap: return "an object";
  }
  return "?";
}

// --------------------------------------------------------------------------- converter

template <typename Node>
class Converter {
 public:
  // With `spare`, strings and attribute lists are taken from it before any is allocated.
  Converter(std::string_view text, const Limits& limits, std::string_view form, PlanScratch* spare = nullptr)
      : text_(text), limits_(limits), form_(form), spare_(spare) {}

  absl::Status Plan(Node root, ProvisioningPlan& p) {
    if (root.type() != NodeType::kMap) return Fail(root, absl::StrCat("a ", ToAbsl(form_), " plan must be an object, not ", ToAbsl(TypeName(root.type()))));
    bool has_args = false;
    PF_RETURN_IF_ERROR(Fields(root, [&](std::string_view k, Node) {
      has_args |= k == "args";
      return absl::OkStatus();
    }));
    return Fields(root, [&](std::string_view k, Node v) -> absl::Status {
      Path guard(this, k);
      if (k == "identity") return OptString(v, p.native_identity);
      if (k == "targetIntegration") return OptString(v, p.target_integration);
      if (k == "trackingId") return OptString(v, p.tracking_id);
      if (k == "accounts") return List(v, p.accounts, [this](Node n, AccountRequest& a) { return Account(n, a); });
      if (k == "objects") return List(v, p.objects, [this](Node n, ObjectRequest& o) { return Object(n, o); });
      if (k == "args" || (k == "integrationData" && !has_args)) return Args(v, p.args);
      if (k == "result") return Result(v, p.result);
      return ExtraField(k, v, p.extra, XmlContext::kPlan);
    });
  }

 private:
  // One JSON pointer segment for the life of the guard. Segments are views (keys live in the
  // parsed tree), and the pointer text is only built when an error is reported.
  struct Segment {
    std::string_view key;
    size_t index = 0;
    bool is_index = false;
  };
  struct Path {
    Converter* c;
    Path(Converter* conv, std::string_view key) : c(conv) { c->path_.push_back({key, 0, false}); }
    Path(Converter* conv, size_t index) : c(conv) { c->path_.push_back({{}, index, true}); }
    ~Path() { c->path_.pop_back(); }
  };
  std::string Pointer() const {
    if (path_.empty()) return "/";
    std::string out;
    for (const Segment& s : path_) {
      out.push_back('/');
      if (s.is_index) {
        absl::StrAppend(&out, s.index);
        continue;
      }
      for (char ch : s.key) {
        if (ch == '~') out += "~0";
        else if (ch == '/') out += "~1";
        else out.push_back(ch);
      }
    }
    return out;
  }

  // Node::ForEachField with one reading: a key repeated in one object is an error (IIQ's JSON
  // reader keeps the last, a lookup here would see both). Keys are views into the parsed tree.
  // The map form's grammar has refused repeated keys already.
  template <typename F>
  absl::Status Fields(Node v, F&& f) {
    if constexpr (!std::is_same_v<Node, JsonNode>) {
      return v.ForEachField(std::forward<F>(f));
    } else {
      constexpr size_t kScan = 16;
      std::string_view seen[kScan];
      size_t count = 0;
      absl::flat_hash_set<absl::string_view> many;
      return v.ForEachField([&](std::string_view k, Node item) -> absl::Status {
        bool repeated = false;
        if (count < kScan) {
          for (size_t i = 0; i < count; ++i) repeated |= seen[i] == k;
          seen[count++] = k;
        } else {
          if (many.empty())
            for (std::string_view s : seen) many.insert(ToAbsl(s));
          repeated = !many.insert(ToAbsl(k)).second;
        }
        if (repeated) {
          Path guard(this, k);
          return Fail(item, absl::StrCat("duplicate key \"", ToAbsl(k), "\" in the JSON plan: each key may appear once"));
        }
        return f(k, item);
      });
    }
  }

  absl::Status Fail(Node at, std::string_view detail, ErrorCode code = ErrorCode::kInvalidValue) {
    Location where;
    if (at.offset() >= 0) {
      where = LocationAt(text_, static_cast<size_t>(at.offset()));
      where.offset = at.offset();
    }
    where.pointer = Pointer();
    return MakeError(code, detail, where);
  }
  absl::Status WrongType(Node v, std::string_view wanted) {
    return Fail(v, absl::StrCat("expected ", ToAbsl(wanted), ", got ", ToAbsl(TypeName(v.type()))));
  }

  absl::Status OptString(Node v, std::optional<std::string>& out) {
    switch (v.type()) {
      case NodeType::kNull: out.reset(); return absl::OkStatus();
      case NodeType::kString: out.emplace(Text(v.str())); return absl::OkStatus();
      default:
        if (v.bare_scalar()) {
          out.emplace(Text(v.bare_text()));
          return absl::OkStatus();
        }
        return WrongType(v, "a string");
    }
  }
  absl::Status String(Node v, std::string& out) {
    std::optional<std::string> s;
    PF_RETURN_IF_ERROR(OptString(v, s));
    out = s ? std::move(*s) : std::string();
    return absl::OkStatus();
  }
  absl::Status AccountOpField(Node v, std::optional<AccountOp>& out) {
    std::optional<std::string> s;
    PF_RETURN_IF_ERROR(OptString(v, s));
    out.reset();
    if (!s) return absl::OkStatus();
    out = ParseAccountOp(*s);
    if (!out) {
      return Fail(v, absl::StrCat("unknown account op '", *s,
                                  "' (allowed: Create, Modify, Delete, Enable, Disable, Unlock, Lock)"));
    }
    return absl::OkStatus();
  }
  absl::Status AttributeOpField(Node v, std::optional<AttributeOp>& out) {
    std::optional<std::string> s;
    PF_RETURN_IF_ERROR(OptString(v, s));
    out.reset();
    if (!s) return absl::OkStatus();
    out = ParseAttributeOp(*s);
    if (!out) return Fail(v, absl::StrCat("unknown attribute op '", *s, "' (allowed: Set, Add, Remove, Revoke, Retain)"));
    return absl::OkStatus();
  }

  absl::Status CountRequest(Node v) {
    if (++requests_ > limits_.max_plan_requests) {
      return Fail(v, absl::StrCat("plan has more than ", limits_.max_plan_requests, " requests (max_plan_requests)"),
                  ErrorCode::kTooMany);
    }
    return absl::OkStatus();
  }

  template <typename T, typename F>
  absl::Status List(Node v, std::vector<T>& out, F&& read) {
    out.clear();
    if (v.type() == NodeType::kNull) return absl::OkStatus();
    if (v.type() != NodeType::kList) return WrongType(v, "a list");
    SpareList(out);
    out.reserve(v.size());
    return v.ForEachItem([&](size_t i, Node item) -> absl::Status {
      Path guard(this, i);
      if (item.type() != NodeType::kMap) return WrongType(item, "an object");
      PF_RETURN_IF_ERROR(CountRequest(item));
      return read(item, out.emplace_back());
    });
  }

  absl::Status ToValue(Node v, Value& out) {
    if (++values_ > limits_.max_plan_values) {
      return Fail(v, absl::StrCat("plan has more than ", limits_.max_plan_values, " values (max_plan_values)"),
                  ErrorCode::kTooMany);
    }
    switch (v.type()) {
      case NodeType::kNull: out = Value::Null(); return absl::OkStatus();
      case NodeType::kString: out = Value::String(Text(v.str())); return absl::OkStatus();
      case NodeType::kBoolean: out = Value::Boolean(v.boolean()); return absl::OkStatus();
      case NodeType::kInteger: out = Value::Integer(v.integer()); return absl::OkStatus();
      case NodeType::kNumberText: out = Value::String(v.number_text()); return absl::OkStatus();
      case NodeType::kList:
        out = Value::List();
        SpareList(out.list);
        out.list.reserve(v.size());
        return v.ForEachItem([&](size_t i, Node item) {
          Path guard(this, i);
          return ToValue(item, out.list.emplace_back());
        });
      case NodeType::kMap:
        out = Value::Map();
        out.map.reserve(v.size());
        return Fields(v, [&](std::string_view k, Node item) {
          Path guard(this, k);
          return ToValue(item, out.map.emplace_back(std::string(k), Value()).second);
        });
    }
    return absl::OkStatus();
  }

  absl::Status Args(Node v, AttributeMap& out) {
    out.clear();
    if (v.type() == NodeType::kNull) return absl::OkStatus();
    if (v.type() != NodeType::kMap) return WrongType(v, "an object");
    out.reserve(v.size());
    return Fields(v, [&](std::string_view k, Node item) {
      Path guard(this, k);
      return ToValue(item, out.emplace_back(std::string(k), Value()).second);
    });
  }

  absl::Status ExtraField(std::string_view k, Node v, Extra& extra, XmlContext context) {
    if (k == "xmlAttributes") {
      extra.xml_attributes.clear();
      if (v.type() == NodeType::kNull) return absl::OkStatus();
      if (v.type() != NodeType::kMap) return WrongType(v, "an object");
      return Fields(v, [&](std::string_view name, Node item) -> absl::Status {
        Path guard(this, name);
        if (!plan_codec_internal::IsPortableXmlAttribute(name, context))
          return Fail(item, absl::StrCat("'", ToAbsl(name), "' is not an XML attribute name the model lacks"));
        if (item.type() != NodeType::kString) return WrongType(item, "a string");
        extra.xml_attributes.emplace_back(std::string(name), std::string(item.str()));
        return absl::OkStatus();
      });
    }
    if (k == "xmlElements") {
      extra.xml_elements.clear();
      if (v.type() == NodeType::kNull) return absl::OkStatus();
      if (v.type() != NodeType::kList) return WrongType(v, "a list");
      return v.ForEachItem([&](size_t i, Node item) -> absl::Status {
        Path guard(this, i);
        if (item.type() != NodeType::kString) return WrongType(item, "a string");
        if (!plan_codec_internal::IsPortableXmlElement(item.str(), context))
          return Fail(item, "not one well-formed XML element in canonical form, or one the model names");
        extra.xml_elements.emplace_back(item.str());
        return absl::OkStatus();
      });
    }
    auto& [key, value] = extra.json_fields.emplace_back(std::string(k), Value());
    return ToValue(v, value);
  }

  absl::Status Result(Node v, std::optional<ProvisioningResult>& out) {
    out.reset();
    if (v.type() == NodeType::kNull) return absl::OkStatus();
    if (v.type() != NodeType::kMap) return WrongType(v, "an object");
    ProvisioningResult& r = out.emplace();
    return Fields(v, [&](std::string_view k, Node f) -> absl::Status {
      Path guard(this, k);
      if (k == "status") return OptString(f, r.status);
      if (k == "errors" || k == "warnings") {
        std::vector<std::string>& list = k == "errors" ? r.errors : r.warnings;
        list.clear();
        if (f.type() == NodeType::kNull) return absl::OkStatus();
        if (f.type() != NodeType::kList) return WrongType(f, "a list");
        return f.ForEachItem([&](size_t i, Node m) {
          Path g(this, i);
          return String(m, list.emplace_back());
        });
      }
      return ExtraField(k, f, r.extra, XmlContext::kResult);
    });
  }

  absl::Status Account(Node v, AccountRequest& a) {
    return Fields(v, [&](std::string_view k, Node f) -> absl::Status {
      Path guard(this, k);
      if (k == "application") return OptString(f, a.application);
      if (k == "instance") return OptString(f, a.instance);
      if (k == "nativeIdentity") return OptString(f, a.native_identity);
      if (k == "op") return AccountOpField(f, a.op);
      if (k == "targetIntegration") return OptString(f, a.target_integration);
      if (k == "trackingId") return OptString(f, a.tracking_id);
      if (k == "sourceRole") return OptString(f, a.source_role);
      if (k == "assignmentIds") return OptString(f, a.assignment_ids);
      if (k == "attributes") return List(f, a.attributes, [this](Node n, AttributeRequest& r) { return Attribute(n, r); });
      if (k == "permissions") return List(f, a.permissions, [this](Node n, PermissionRequest& r) { return Permission(n, r); });
      if (k == "args") return Args(f, a.args);
      if (k == "result") return Result(f, a.result);
      return ExtraField(k, f, a.extra, XmlContext::kAccount);
    });
  }

  absl::Status Object(Node v, ObjectRequest& o) {
    return Fields(v, [&](std::string_view k, Node f) -> absl::Status {
      Path guard(this, k);
      if (k == "type") return OptString(f, o.type);
      if (k == "application") return OptString(f, o.application);
      if (k == "instance") return OptString(f, o.instance);
      if (k == "nativeIdentity") return OptString(f, o.native_identity);
      if (k == "op") return OptString(f, o.op);
      if (k == "attributes") return List(f, o.attributes, [this](Node n, AttributeRequest& r) { return Attribute(n, r); });
      if (k == "permissions") return List(f, o.permissions, [this](Node n, PermissionRequest& r) { return Permission(n, r); });
      if (k == "args") return Args(f, o.args);
      if (k == "result") return Result(f, o.result);
      return ExtraField(k, f, o.extra, XmlContext::kObject);
    });
  }

  absl::Status Attribute(Node v, AttributeRequest& a) {
    return Fields(v, [&](std::string_view k, Node f) -> absl::Status {
      Path guard(this, k);
      if (k == "name") return String(f, a.name);
      if (k == "op") return AttributeOpField(f, a.op);
      if (k == "value") return ToValue(f, a.value);
      if (k == "displayValue") return OptString(f, a.display_value);
      if (k == "assignmentId") return OptString(f, a.assignment_id);
      if (k == "trackingId") return OptString(f, a.tracking_id);
      if (k == "args") return Args(f, a.args);
      if (k == "result") return Result(f, a.result);
      return ExtraField(k, f, a.extra, XmlContext::kAttribute);
    });
  }

  absl::Status Permission(Node v, PermissionRequest& p) {
    return Fields(v, [&](std::string_view k, Node f) -> absl::Status {
      Path guard(this, k);
      if (k == "target") return String(f, p.target);
      if (k == "rights") return String(f, p.rights);
      if (k == "op") return AttributeOpField(f, p.op);
      if (k == "args") return Args(f, p.args);
      if (k == "result") return Result(f, p.result);
      return ExtraField(k, f, p.extra, XmlContext::kPermission);
    });
  }

  // A string of the plan: in a spare buffer when one is at hand and the text is too long to
  // be kept inline (where a buffer would be wasted).
  std::string Text(std::string_view s) {
    if (spare_ == nullptr || s.size() <= kInlineString || spare_->strings.empty()) return std::string(s);
    std::string out = std::move(spare_->strings.back());
    spare_->strings.pop_back();
    out.assign(s.data(), s.size());
    return out;
  }
  // An empty list `out` given a spare one's capacity, if any.
  template <typename T>
  void SpareList(std::vector<T>& out) {
    std::vector<std::vector<T>>* lists = nullptr;
    if constexpr (std::is_same_v<T, AttributeRequest>) lists = spare_ ? &spare_->attribute_lists : nullptr;
    if constexpr (std::is_same_v<T, Value>) lists = spare_ ? &spare_->value_lists : nullptr;
    if (lists != nullptr && out.capacity() == 0 && !lists->empty()) {
      out = std::move(lists->back());
      lists->pop_back();
    }
  }

  std::string_view text_;
  const Limits& limits_;
  std::string_view form_;
  PlanScratch* spare_;
  absl::InlinedVector<Segment, 16> path_;  // plans nest a few levels: no allocation per decode
  size_t requests_ = 0;
  size_t values_ = 0;
};

absl::Status TooBig(std::string_view what, size_t size, const Limits& limits) {
  return MakeError(ErrorCode::kTooMany, absl::StrCat(ToAbsl(what), " plan is ", size, " bytes, over the budget of ",
                                                     limits.max_input_bytes, " bytes (max_input_bytes)"));
}

// --------------------------------------------------------------------------- encoder

void WriteValue(JsonWriter& w, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: w.Null(); return;
    case Value::Kind::kString: w.String(v.str); return;
    case Value::Kind::kBoolean: w.Bool(v.boolean); return;
    case Value::Kind::kInteger:
    case Value::Kind::kDate: w.Int(v.integer); return;
    case Value::Kind::kList:
      w.BeginArray();
      for (const Value& item : v.list) WriteValue(w, item);
      w.EndArray();
      return;
    case Value::Kind::kMap:
      w.BeginObject();
      for (const auto& [k, item] : v.map) {
        w.Key(k);
        WriteValue(w, item);
      }
      w.EndObject();
      return;
  }
}

void OptField(JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
  if (v) w.Field(key, *v);
}
void NullableField(JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v) w.String(*v);
  else w.Null();
}
void WriteArgs(JsonWriter& w, const AttributeMap& args, bool even_empty = false) {
  if (args.empty() && !even_empty) return;
  w.Key("args").BeginObject();
  for (const auto& [k, v] : args) {
    w.Key(k);
    WriteValue(w, v);
  }
  w.EndObject();
}
void WriteExtra(JsonWriter& w, const Extra& e) {
  if (!e.xml_attributes.empty()) {
    w.Key("xmlAttributes").BeginObject();
    for (const auto& [k, v] : e.xml_attributes) w.Field(k, v);
    w.EndObject();
  }
  if (!e.xml_elements.empty()) {
    w.Key("xmlElements").BeginArray();
    for (const std::string& s : e.xml_elements) w.String(s);
    w.EndArray();
  }
  for (const auto& [k, v] : e.json_fields) {
    w.Key(k);
    WriteValue(w, v);
  }
}
void WriteResult(JsonWriter& w, const std::optional<ProvisioningResult>& r) {
  if (!r) return;
  w.Key("result").BeginObject();
  OptField(w, "status", r->status);
  if (!r->errors.empty()) {
    w.Key("errors").BeginArray();
    for (const std::string& m : r->errors) w.String(m);
    w.EndArray();
  }
  if (!r->warnings.empty()) {
    w.Key("warnings").BeginArray();
    for (const std::string& m : r->warnings) w.String(m);
    w.EndArray();
  }
  WriteExtra(w, r->extra);
  w.EndObject();
}
void WriteAttribute(JsonWriter& w, const AttributeRequest& a) {
  w.BeginObject();
  w.Field("name", a.name);
  if (a.op) w.Field("op", AttributeOpName(*a.op));
  if (!a.value.is_null()) {
    w.Key("value");
    WriteValue(w, a.value);
  }
  OptField(w, "displayValue", a.display_value);
  OptField(w, "assignmentId", a.assignment_id);
  OptField(w, "trackingId", a.tracking_id);
  WriteArgs(w, a.args);
  WriteResult(w, a.result);
  WriteExtra(w, a.extra);
  w.EndObject();
}
void WritePermission(JsonWriter& w, const PermissionRequest& p) {
  w.BeginObject();
  w.Field("target", p.target);
  w.Field("rights", p.rights);
  if (p.op) w.Field("op", AttributeOpName(*p.op));
  WriteArgs(w, p.args);
  WriteResult(w, p.result);
  WriteExtra(w, p.extra);
  w.EndObject();
}
template <typename R>
void WriteRequestLists(JsonWriter& w, const R& r) {
  if (!r.attributes.empty()) {
    w.Key("attributes").BeginArray();
    for (const AttributeRequest& a : r.attributes) WriteAttribute(w, a);
    w.EndArray();
  }
  if (!r.permissions.empty()) {
    w.Key("permissions").BeginArray();
    for (const PermissionRequest& p : r.permissions) WritePermission(w, p);
    w.EndArray();
  }
  WriteArgs(w, r.args);
  WriteResult(w, r.result);
  WriteExtra(w, r.extra);
}

}  // namespace

namespace {

// A thread's map-form tree keeps at most this much memory between plans.
constexpr size_t kKeepMapTreeBytes = 1 << 20;

// The map-form plan into `plan` (with `spare`: its buffers first).
absl::Status DecodeMapInto(std::string_view text, const Limits& limits, ProvisioningPlan& plan, PlanScratch* spare) {
  if (text.size() > limits.max_input_bytes) return TooBig("map-form", text.size(), limits);
  // The text was a Java string: it must be valid UTF-8 here (JSON input is checked by simdjson).
  if (!simdjson::validate_utf8(text.data(), text.size()))
    return MakeError(ErrorCode::kInvalidSyntax, "map-form plan is not valid UTF-8");
  // One tree per thread, reused: it views `text` only until this function returns.
  thread_local MapFormTree tree;
  absl::Status s = ParseMapForm(text, limits.max_nesting_depth, tree);
  if (s.ok()) {
    Converter<MapNode> c(text, limits, "map-form", spare);
    s = c.Plan(MapNode{&tree, 0}, plan);
  }
  if (tree.retained_bytes() > kKeepMapTreeBytes) tree = MapFormTree();
  return s;
}

}  // namespace

absl::StatusOr<ProvisioningPlan> DecodePlanMap(std::string_view text, const Limits& limits) {
  ProvisioningPlan plan;
  if (absl::Status s = DecodeMapInto(text, limits, plan, nullptr); !s.ok()) return s;
  return plan;
}

namespace {

// The JSON plan into `plan` (with `spare`: its buffers first), else the map form's.
absl::Status DecodeJsonInto(std::string_view text, const Limits& limits, ProvisioningPlan& plan,
                            PlanScratch* spare) {
  if (text.size() > limits.max_input_bytes) return TooBig("JSON", text.size(), limits);
  // An object whose first member does not start with a quote cannot be JSON: it is the
  // Map.toString form (below, what a failed JSON parse falls back to), read at once.
  if (DetectPlanFormat(text) == PlanFormat::kMap) return DecodeMapInto(text, limits, plan, spare);
  // One parser per thread: its buffers grow to the largest plan seen and are reused. It is
  // never shared, and the elements read below die before this function returns.
  thread_local simdjson::dom::parser parser;
  const size_t bom = json_strict::BomLength(text);
  simdjson::dom::element root;
  simdjson::error_code err = json_strict::Parse(parser, text.substr(bom), limits.max_nesting_depth, root);
  if (err == simdjson::DEPTH_ERROR || err == simdjson::CAPACITY || err == simdjson::MEMALLOC)
    return json_strict::ParseError(err, "JSON plan", text, bom, limits.max_nesting_depth);
  if (err != simdjson::SUCCESS) {
    // Not JSON. The Map.toString form is what IIQ 7.x also accepted under this media type.
    absl::Status map = DecodeMapInto(text, limits, plan, spare);
    if (map.ok()) return map;
    if (DetectPlanFormat(text) != PlanFormat::kJson) return map;
    return json_strict::ParseError(err, "JSON plan", text, bom, limits.max_nesting_depth);
  }
  Converter<JsonNode> c(text, limits, "JSON", spare);
  return c.Plan(JsonNode{root}, plan);
}

// Bounds on what a thread keeps between plans: a huge plan's buffers are let go.
constexpr size_t kSpareStrings = 256;
constexpr size_t kSpareStringBytes = 4096;
constexpr size_t kSpareLists = 64;

// Moves the last plan's strings and attribute lists into the scratch's spares and leaves
// the plan empty (its account list keeps its capacity). Only the fields a typical plan
// fills are kept; the rest is freed as the plan is emptied.
void Recycle(PlanScratch& s) {
  auto keep = [&](std::string& str) {
    if (str.capacity() > kInlineString && str.capacity() <= kSpareStringBytes &&
        s.strings.size() < kSpareStrings)
      s.strings.push_back(std::move(str));
  };
  auto keep_list = [&](auto& lists, auto& list) {
    list.clear();
    if (list.capacity() > 0 && list.capacity() <= kSpareLists && lists.size() < kSpareLists)
      lists.push_back(std::move(list));
  };
  auto keep_value = [&](auto& self, Value& v) -> void {
    keep(v.str);
    for (Value& item : v.list) self(self, item);
    keep_list(s.value_lists, v.list);
  };
  ProvisioningPlan& plan = s.plan;
  for (AccountRequest& a : plan.accounts) {
    for (std::optional<std::string>* field : {&a.application, &a.instance, &a.native_identity})
      if (*field) keep(**field);
    for (AttributeRequest& r : a.attributes) {
      keep(r.name);
      keep_value(keep_value, r.value);
    }
    keep_list(s.attribute_lists, a.attributes);
  }
  if (plan.native_identity) keep(*plan.native_identity);
  std::vector<AccountRequest> accounts = std::move(plan.accounts);
  accounts.clear();
  plan = ProvisioningPlan();
  if (accounts.capacity() <= kSpareLists) plan.accounts = std::move(accounts);
}

}  // namespace

absl::StatusOr<ProvisioningPlan> DecodePlanJson(std::string_view text, const Limits& limits) {
  ProvisioningPlan plan;
  if (absl::Status s = DecodeJsonInto(text, limits, plan, nullptr); !s.ok()) return s;
  return plan;
}

absl::Status DecodePlanInto(std::string_view text, PlanFormat format, const Limits& limits, PlanScratch& scratch) {
  Recycle(scratch);
  if (format == PlanFormat::kJson) return DecodeJsonInto(text, limits, scratch.plan, &scratch);
  if (format == PlanFormat::kMap) return DecodeMapInto(text, limits, scratch.plan, &scratch);
  absl::StatusOr<ProvisioningPlan> plan = DecodePlan(text, format, limits);
  if (!plan.ok()) return plan.status();
  scratch.plan = *std::move(plan);
  return absl::OkStatus();
}

std::string EncodePlanJson(const ProvisioningPlan& plan, int indent) {
  JsonWriter w(indent);
  w.BeginObject();
  OptField(w, "identity", plan.native_identity);
  OptField(w, "targetIntegration", plan.target_integration);
  OptField(w, "trackingId", plan.tracking_id);
  if (!plan.accounts.empty()) {
    w.Key("accounts").BeginArray();
    for (const AccountRequest& a : plan.accounts) {
      w.BeginObject();
      NullableField(w, "application", a.application);
      NullableField(w, "instance", a.instance);
      NullableField(w, "nativeIdentity", a.native_identity);
      if (a.op) w.Field("op", AccountOpName(*a.op));
      OptField(w, "targetIntegration", a.target_integration);
      OptField(w, "trackingId", a.tracking_id);
      OptField(w, "sourceRole", a.source_role);
      OptField(w, "assignmentIds", a.assignment_ids);
      WriteRequestLists(w, a);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!plan.objects.empty()) {
    w.Key("objects").BeginArray();
    for (const ObjectRequest& o : plan.objects) {
      w.BeginObject();
      OptField(w, "type", o.type);
      OptField(w, "application", o.application);
      OptField(w, "instance", o.instance);
      OptField(w, "nativeIdentity", o.native_identity);
      OptField(w, "op", o.op);
      WriteRequestLists(w, o);
      w.EndObject();
    }
    w.EndArray();
  }
  // An unknown "integrationData" kept beside "args" must not become args on the way back.
  WriteArgs(w, plan.args, FindAttribute(plan.extra.json_fields, "integrationData") != nullptr);
  WriteResult(w, plan.result);
  WriteExtra(w, plan.extra);
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
