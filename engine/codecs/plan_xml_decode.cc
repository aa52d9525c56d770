// ProvisioningPlan <- IdentityIQ XML (docs/semantics.md, "Plan forms"), with pugixml.
//
// Decoding: the root may be <ProvisioningPlan>, a <sailpoint> wrapper holding one plan, or an
// <IdentityRequest> whose ProvisioningProject/MasterPlan/ProvisioningPlan is the plan. pugixml
// never processes a DTD (no entity is ever defined or fetched); what it would tolerate beyond
// XML (a second root, a DOCTYPE with an internal subset, "&g;", "&#0;", a bare '&') is refused
// first by plan_xml_strict.h, so a plan has one reading. Budgets are checked before walking:
// input size, then element nesting depth (one iterative pass over the parsed tree; pugixml's
// parser, printer and destructor are iterative, so a 10,000-deep document is safe), then
// request and value counts while walking.
//
// What the model names is read into fields; unknown attributes of a known element go to
// Extra::xml_attributes and unknown child elements to Extra::xml_elements, serialized with
// pugi::format_raw (the canonical verbatim form). A value element the model has no kind for
// (<AccountOperation>Disable</AccountOperation>, <Reference .../>, <Set>...) becomes the
// one-entry map {"#xml": "<its format_raw text>"}, which the encoder writes back verbatim.
// Value typing: <Long> and <Integer> both decode to Value::Integer (the encoder writes
// <Integer> within 32 bits, <Long> beyond); <Date> to Value::Date; `value="x"` and
// <Value><String>x</String></Value> both to a string. Messages of a ProvisioningResult keep
// their key (or text) only; their other attributes and parameters are not kept.

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/codecs/plan_codec.h"
#include "engine/codecs/plan_xml_strict.h"
#include "engine/codecs/plan_xml_text.h"
#include "engine/util/error.h"
#include "engine/util/limits.h"
#include "pugixml.hpp"

namespace preflight {
namespace {

using namespace plan_xml;

std::string AllowedList(bool account) {
  std::string out;
  if (account) {
    for (AccountOp op : {AccountOp::kCreate, AccountOp::kModify, AccountOp::kDelete, AccountOp::kEnable,
                         AccountOp::kDisable, AccountOp::kUnlock, AccountOp::kLock})
      absl::StrAppend(&out, out.empty() ? "" : ", ", ToAbsl(AccountOpName(op)));
  } else {
    for (AttributeOp op :
         {AttributeOp::kSet, AttributeOp::kAdd, AttributeOp::kRemove, AttributeOp::kRevoke, AttributeOp::kRetain})
      absl::StrAppend(&out, out.empty() ? "" : ", ", ToAbsl(AttributeOpName(op)));
  }
  return out;
}

class XmlDecoder {
 public:
  XmlDecoder(std::string_view text, const char* buffer, size_t size, const Limits& limits)
      : text_(text), base_(buffer), size_(size), limits_(limits) {}

  Location Where(pugi::xml_node n) const {
    ptrdiff_t off = n.offset_debug();
    if (off < 0) return {};
    // offset_debug points at the name; report the '<'.
    size_t at = off > 0 ? static_cast<size_t>(off - 1) : 0;
    Location l = LocationAt(text_, at);
    l.offset = static_cast<int64_t>(at);
    return l;
  }
  Location Where(pugi::xml_attribute a, pugi::xml_node owner) const {
    const char* v = a.value();
    if (v >= base_ && v < base_ + size_) {
      Location l = LocationAt(text_, static_cast<size_t>(v - base_));
      l.offset = v - base_;
      return l;
    }
    return Where(owner);
  }

  absl::Status CheckDepth(const pugi::xml_document& doc) const {
    // The decoder recurses once per level: never deeper than the proven maximum.
    const int max_depth = std::min(limits_.max_nesting_depth, kMaxNestingDepthCap);
    pugi::xml_node n = doc.first_child();
    int depth = 1;
    while (n) {
      if (n.type() == pugi::node_element && depth > max_depth) {
        return MakeError(ErrorCode::kTooMany,
                         absl::StrCat("XML plan nests deeper than the budget of ", max_depth,
                                      " elements (max_nesting_depth)"),
                         Where(n));
      }
      if (n.first_child()) {
        n = n.first_child();
        ++depth;
        continue;
      }
      while (n && !n.next_sibling()) {
        n = n.parent();
        --depth;
        if (n == doc) n = pugi::xml_node();
      }
      if (n) n = n.next_sibling();
    }
    return absl::OkStatus();
  }

  absl::Status ReadPlan(pugi::xml_node node, ProvisioningPlan& plan) {
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "nativeIdentity") PF_RETURN_IF_ERROR(SetOnce(plan.native_identity, a, node));
      else if (name == "targetIntegration") PF_RETURN_IF_ERROR(SetOnce(plan.target_integration, a, node));
      else if (name == "trackingId") PF_RETURN_IF_ERROR(SetOnce(plan.tracking_id, a, node));
      else plan.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    bool seen_args = false;
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      std::string_view name = c.name();
      if (name == "AccountRequest") {
        PF_RETURN_IF_ERROR(CountRequest(c));
        PF_RETURN_IF_ERROR(ReadAccount(c, plan.accounts.emplace_back()));
      } else if (name == "ObjectRequest") {
        PF_RETURN_IF_ERROR(CountRequest(c));
        PF_RETURN_IF_ERROR(ReadObject(c, plan.objects.emplace_back()));
      } else if (name == "Attributes") {
        PF_RETURN_IF_ERROR(Once(seen_args, c));
        PF_RETURN_IF_ERROR(ReadAttributes(c, plan.args));
      } else if (name == "ProvisioningResult") {
        PF_RETURN_IF_ERROR(ReadResultOnce(c, plan.result));
      } else {
        plan.extra.xml_elements.push_back(CanonicalRawXml(c));
      }
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

 private:
  absl::Status SetOnce(std::optional<std::string>& field, pugi::xml_attribute a, pugi::xml_node owner) {
    if (field) {
      return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("duplicate attribute '", a.name(), "'"),
                       Where(a, owner));
    }
    field.emplace(a.value());
    return absl::OkStatus();
  }
  absl::Status SetOnce(std::string& field, bool& seen, pugi::xml_attribute a, pugi::xml_node owner) {
    if (seen) {
      return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("duplicate attribute '", a.name(), "'"),
                       Where(a, owner));
    }
    seen = true;
    field.assign(a.value());
    return absl::OkStatus();
  }
  absl::Status Once(bool& seen, pugi::xml_node c) {
    if (seen) return MakeError(ErrorCode::kInvalidValue, absl::StrCat("duplicate <", c.name(), ">"), Where(c));
    seen = true;
    return absl::OkStatus();
  }
  // Calls `f` on each element child of `node`, in order, until one fails. Text between
  // them is layout and must be blank; it is skipped. (pugixml drops blank text itself,
  // except text that is blank only after decoding: "&#32;" or a CDATA section of spaces.)
  template <typename F>
  absl::Status ForEachElement(pugi::xml_node node, F&& f) {
    for (pugi::xml_node c : node.children()) {
      if (c.type() == pugi::node_element) {
        PF_RETURN_IF_ERROR(f(c));
      } else if (!((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) && IsBlankText(c.value()))) {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("unexpected text in <", node.name(), ">"), Where(node));
      }
    }
    return absl::OkStatus();
  }
  absl::Status CountRequest(pugi::xml_node c) {
    if (++requests_ > limits_.max_plan_requests) {
      return MakeError(ErrorCode::kTooMany,
                       absl::StrCat("plan has more than ", limits_.max_plan_requests,
                                    " requests (max_plan_requests)"),
                       Where(c));
    }
    return absl::OkStatus();
  }
  absl::Status CountValue(pugi::xml_node c) {
    if (++values_ > limits_.max_plan_values) {
      return MakeError(ErrorCode::kTooMany,
                       absl::StrCat("plan has more than ", limits_.max_plan_values, " values (max_plan_values)"),
                       Where(c));
    }
    return absl::OkStatus();
  }

  absl::Status ReadAccountOp(std::optional<AccountOp>& op, pugi::xml_attribute a, pugi::xml_node owner) {
    if (op) return MakeError(ErrorCode::kInvalidSyntax, "duplicate attribute 'op'", Where(a, owner));
    op = ParseAccountOp(a.value());
    if (!op) {
      return MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat("unknown ", owner.name(), " op '", a.value(), "' (allowed: ", AllowedList(true),
                                    ")"),
                       Where(a, owner));
    }
    return absl::OkStatus();
  }
  absl::Status ReadAttributeOp(std::optional<AttributeOp>& op, pugi::xml_attribute a, pugi::xml_node owner) {
    if (op) return MakeError(ErrorCode::kInvalidSyntax, "duplicate attribute 'op'", Where(a, owner));
    op = ParseAttributeOp(a.value());
    if (!op) {
      return MakeError(ErrorCode::kInvalidValue,
                       absl::StrCat("unknown ", owner.name(), " op '", a.value(), "' (allowed: ", AllowedList(false),
                                    ")"),
                       Where(a, owner));
    }
    return absl::OkStatus();
  }

  template <typename Request>
  absl::Status ReadRequestChildren(pugi::xml_node node, Request& r) {
    bool seen_args = false;
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      std::string_view name = c.name();
      if (name == "AttributeRequest") {
        PF_RETURN_IF_ERROR(CountRequest(c));
        PF_RETURN_IF_ERROR(ReadAttributeRequest(c, r.attributes.emplace_back()));
      } else if (name == "PermissionRequest") {
        PF_RETURN_IF_ERROR(CountRequest(c));
        PF_RETURN_IF_ERROR(ReadPermission(c, r.permissions.emplace_back()));
      } else if (name == "Attributes") {
        PF_RETURN_IF_ERROR(Once(seen_args, c));
        PF_RETURN_IF_ERROR(ReadAttributes(c, r.args));
      } else if (name == "ProvisioningResult") {
        PF_RETURN_IF_ERROR(ReadResultOnce(c, r.result));
      } else {
        r.extra.xml_elements.push_back(CanonicalRawXml(c));
      }
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  absl::Status ReadAccount(pugi::xml_node node, AccountRequest& r) {
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "application") PF_RETURN_IF_ERROR(SetOnce(r.application, a, node));
      else if (name == "instance") PF_RETURN_IF_ERROR(SetOnce(r.instance, a, node));
      else if (name == "nativeIdentity") PF_RETURN_IF_ERROR(SetOnce(r.native_identity, a, node));
      else if (name == "op") PF_RETURN_IF_ERROR(ReadAccountOp(r.op, a, node));
      else if (name == "targetIntegration") PF_RETURN_IF_ERROR(SetOnce(r.target_integration, a, node));
      else if (name == "trackingId") PF_RETURN_IF_ERROR(SetOnce(r.tracking_id, a, node));
      else if (name == "sourceRole") PF_RETURN_IF_ERROR(SetOnce(r.source_role, a, node));
      else if (name == "assignmentIds") PF_RETURN_IF_ERROR(SetOnce(r.assignment_ids, a, node));
      else r.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    return ReadRequestChildren(node, r);
  }

  absl::Status ReadObject(pugi::xml_node node, ObjectRequest& r) {
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "application") PF_RETURN_IF_ERROR(SetOnce(r.application, a, node));
      else if (name == "instance") PF_RETURN_IF_ERROR(SetOnce(r.instance, a, node));
      else if (name == "nativeIdentity") PF_RETURN_IF_ERROR(SetOnce(r.native_identity, a, node));
      else if (name == "op") PF_RETURN_IF_ERROR(SetOnce(r.op, a, node));
      else if (name == "type") PF_RETURN_IF_ERROR(SetOnce(r.type, a, node));
      else r.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    return ReadRequestChildren(node, r);
  }

  absl::Status ReadAttributeRequest(pugi::xml_node node, AttributeRequest& r) {
    bool seen_name = false;
    pugi::xml_attribute value_attr;
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "name") PF_RETURN_IF_ERROR(SetOnce(r.name, seen_name, a, node));
      else if (name == "op") PF_RETURN_IF_ERROR(ReadAttributeOp(r.op, a, node));
      else if (name == "value") {
        if (value_attr) return MakeError(ErrorCode::kInvalidSyntax, "duplicate attribute 'value'", Where(a, node));
        value_attr = a;
      } else if (name == "displayValue") PF_RETURN_IF_ERROR(SetOnce(r.display_value, a, node));
      else if (name == "assignmentId") PF_RETURN_IF_ERROR(SetOnce(r.assignment_id, a, node));
      else if (name == "trackingId") PF_RETURN_IF_ERROR(SetOnce(r.tracking_id, a, node));
      else r.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    if (value_attr) {
      PF_RETURN_IF_ERROR(CountValue(node));
      r.value = Value::String(value_attr.value());
    }
    bool seen_args = false, seen_value = false;
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      std::string_view name = c.name();
      if (name == "Value") {
        PF_RETURN_IF_ERROR(Once(seen_value, c));
        if (value_attr) {
          return MakeError(ErrorCode::kInvalidValue, "AttributeRequest has both a value attribute and <Value>",
                           Where(c));
        }
        PF_RETURN_IF_ERROR(ReadValueWrapper(c, r.value));
      } else if (name == "Attributes") {
        PF_RETURN_IF_ERROR(Once(seen_args, c));
        PF_RETURN_IF_ERROR(ReadAttributes(c, r.args));
      } else if (name == "ProvisioningResult") {
        PF_RETURN_IF_ERROR(ReadResultOnce(c, r.result));
      } else {
        r.extra.xml_elements.push_back(CanonicalRawXml(c));
      }
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  absl::Status ReadPermission(pugi::xml_node node, PermissionRequest& r) {
    bool seen_target = false, seen_rights = false;
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "target") PF_RETURN_IF_ERROR(SetOnce(r.target, seen_target, a, node));
      else if (name == "rights") PF_RETURN_IF_ERROR(SetOnce(r.rights, seen_rights, a, node));
      else if (name == "op") PF_RETURN_IF_ERROR(ReadAttributeOp(r.op, a, node));
      else r.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    bool seen_args = false;
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      std::string_view name = c.name();
      if (name == "Attributes") {
        PF_RETURN_IF_ERROR(Once(seen_args, c));
        PF_RETURN_IF_ERROR(ReadAttributes(c, r.args));
      } else if (name == "ProvisioningResult") {
        PF_RETURN_IF_ERROR(ReadResultOnce(c, r.result));
      } else {
        r.extra.xml_elements.push_back(CanonicalRawXml(c));
      }
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  absl::Status ReadResultOnce(pugi::xml_node node, std::optional<ProvisioningResult>& out) {
    if (out) return MakeError(ErrorCode::kInvalidValue, "duplicate <ProvisioningResult>", Where(node));
    ProvisioningResult& r = out.emplace();
    for (pugi::xml_attribute a : node.attributes()) {
      if (std::string_view(a.name()) == "status") PF_RETURN_IF_ERROR(SetOnce(r.status, a, node));
      else r.extra.xml_attributes.emplace_back(a.name(), a.value());
    }
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      std::string_view name = c.name();
      if (name == "Errors" || name == "Warnings") {
        std::vector<std::string>& list = name == "Errors" ? r.errors : r.warnings;
        PF_RETURN_IF_ERROR(ForEachElement(c, [&](pugi::xml_node m) -> absl::Status {
          if (std::string_view(m.name()) != "Message") {
            return MakeError(ErrorCode::kInvalidValue,
                             absl::StrCat("expected <Message> in <", c.name(), ">, got <", m.name(), ">"), Where(m));
          }
          if (pugi::xml_attribute key = m.attribute("key")) list.emplace_back(key.value());
          else list.emplace_back(m.text().get());
          return absl::OkStatus();
        }));
      } else {
        r.extra.xml_elements.push_back(CanonicalRawXml(c));
      }
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  // <Attributes><Map>...</Map></Attributes>
  absl::Status ReadAttributes(pugi::xml_node node, AttributeMap& out) {
    bool seen_map = false;
    PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
      if (std::string_view(c.name()) != "Map") {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("expected <Map> in <Attributes>, got <", c.name(), ">"),
                         Where(c));
      }
      PF_RETURN_IF_ERROR(Once(seen_map, c));
      PF_RETURN_IF_ERROR(ReadMapEntries(c, out));
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  absl::Status ReadMapEntries(pugi::xml_node map, std::vector<std::pair<std::string, Value>>& out) {
    PF_RETURN_IF_ERROR(ForEachElement(map, [&](pugi::xml_node e) -> absl::Status {
      if (std::string_view(e.name()) != "entry") {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("expected <entry> in <Map>, got <", e.name(), ">"),
                         Where(e));
      }
      pugi::xml_attribute key = e.attribute("key");
      if (!key) return MakeError(ErrorCode::kInvalidValue, "<entry> without a key", Where(e));
      PF_RETURN_IF_ERROR(CountValue(e));
      auto& entry = out.emplace_back(key.value(), Value());
      const std::string& k = entry.first;  // named, not bound: clang 14 cannot capture bindings
      Value& v = entry.second;
      pugi::xml_attribute value_attr = e.attribute("value");
      if (value_attr) v = Value::String(value_attr.value());
      bool seen_value = false;
      PF_RETURN_IF_ERROR(ForEachElement(e, [&](pugi::xml_node c) -> absl::Status {
        if (std::string_view(c.name()) != "value" || value_attr) {
          return MakeError(ErrorCode::kInvalidValue,
                           absl::StrCat("unexpected <", c.name(), "> in <entry key=\"", k, "\">"), Where(c));
        }
        PF_RETURN_IF_ERROR(Once(seen_value, c));
        PF_RETURN_IF_ERROR(ReadValueWrapper(c, v));
        return absl::OkStatus();
      }));
      return absl::OkStatus();
    }));
    return absl::OkStatus();
  }

  // <Value>/<value>: one value element, or nothing (null), or bare text (a string).
  absl::Status ReadValueWrapper(pugi::xml_node node, Value& out) {
    pugi::xml_node element;
    std::string text;
    for (pugi::xml_node c : node.children()) {
      if (c.type() == pugi::node_element) {
        if (element) {
          return MakeError(ErrorCode::kInvalidValue, absl::StrCat("<", node.name(), "> holds more than one value"),
                           Where(c));
        }
        element = c;
      } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        text += c.value();
      }
    }
    if (element) {
      if (!text.empty() && !IsBlankText(text.c_str())) {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("unexpected text in <", node.name(), ">"), Where(node));
      }
      return ReadValueElement(element, out);
    }
    if (!text.empty()) {
      PF_RETURN_IF_ERROR(CountValue(node));
      out = Value::String(std::move(text));
    } else {
      out = Value::Null();
    }
    return absl::OkStatus();
  }

  absl::Status TextOf(pugi::xml_node node, std::string& out) {
    out.clear();
    for (pugi::xml_node c : node.children()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        out += c.value();
      } else if (c.type() == pugi::node_element) {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("unexpected <", c.name(), "> in <", node.name(), ">"),
                         Where(c));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadInteger(pugi::xml_node node, int64_t& out) {
    std::string text;
    PF_RETURN_IF_ERROR(TextOf(node, text));
    std::string_view t = text;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\t' || t.front() == '\r')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\t' || t.back() == '\r')) t.remove_suffix(1);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
      return MakeError(ErrorCode::kInvalidValue, absl::StrCat("<", node.name(), "> holds '", text, "', not an integer"),
                       Where(node));
    }
    return absl::OkStatus();
  }

  absl::Status ReadValueElement(pugi::xml_node node, Value& out) {
    PF_RETURN_IF_ERROR(CountValue(node));
    std::string_view name = node.name();
    if (name == "String") {
      out.kind = Value::Kind::kString;
      return TextOf(node, out.str);
    }
    if (name == "Boolean") {
      std::string text;
      PF_RETURN_IF_ERROR(TextOf(node, text));
      if (text != "true" && text != "false") {
        return MakeError(ErrorCode::kInvalidValue, absl::StrCat("<Boolean> holds '", text, "', not true or false"),
                         Where(node));
      }
      out = Value::Boolean(text == "true");
      return absl::OkStatus();
    }
    if (name == "Integer" || name == "Long" || name == "Date") {
      int64_t v = 0;
      PF_RETURN_IF_ERROR(ReadInteger(node, v));
      out = name == "Date" ? Value::Date(v) : Value::Integer(v);
      return absl::OkStatus();
    }
    if (name == "null") {
      out = Value::Null();
      return absl::OkStatus();
    }
    if (name == "List") {
      out = Value::List();
      PF_RETURN_IF_ERROR(ForEachElement(node, [&](pugi::xml_node c) -> absl::Status {
        PF_RETURN_IF_ERROR(ReadValueElement(c, out.list.emplace_back()));
        return absl::OkStatus();
      }));
      return absl::OkStatus();
    }
    if (name == "Map") {
      out = Value::Map();
      return ReadMapEntries(node, out.map);
    }
    out = Value::Map();
    out.map.emplace_back(std::string(kRawXmlKey), Value::String(CanonicalRawXml(node)));
    return absl::OkStatus();
  }

  std::string_view text_;
  const char* base_;
  size_t size_;
  const Limits& limits_;
  size_t requests_ = 0;
  size_t values_ = 0;
};

// The plan element inside the document: the root, the one plan of a <sailpoint> wrapper,
// or ProvisioningProject/MasterPlan/ProvisioningPlan of an IdentityRequest.
absl::StatusOr<pugi::xml_node> FindPlan(const pugi::xml_document& doc, const XmlDecoder& d) {
  pugi::xml_node root = doc.document_element();
  std::string_view name = root.name();
  if (name == "sailpoint") {
    pugi::xml_node found;
    for (pugi::xml_node c : root.children()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view cn = c.name();
      if (cn != "ProvisioningPlan" && cn != "IdentityRequest") continue;
      if (found) {
        return MakeError(ErrorCode::kInvalidValue, "<sailpoint> holds more than one ProvisioningPlan", d.Where(c));
      }
      found = c;
    }
    if (!found) {
      return MakeError(ErrorCode::kInvalidValue, "<sailpoint> holds no ProvisioningPlan or IdentityRequest",
                       d.Where(root));
    }
    root = found;
    name = root.name();
  }
  if (name == "ProvisioningPlan") return root;
  if (name == "IdentityRequest") {
    // Iterative search: the depth was checked, but a wide document should not recurse either.
    pugi::xml_node n = root.first_child();
    while (n && n != root) {
      if (n.type() == pugi::node_element && std::string_view(n.name()) == "ProvisioningProject") {
        pugi::xml_node plan = n.child("MasterPlan").child("ProvisioningPlan");
        if (plan) return plan;
      }
      if (n.first_child()) {
        n = n.first_child();
        continue;
      }
      while (n != root && !n.next_sibling()) n = n.parent();
      if (n != root) n = n.next_sibling();
    }
    return MakeError(ErrorCode::kInvalidValue,
                     "IdentityRequest holds no ProvisioningProject/MasterPlan/ProvisioningPlan", d.Where(root));
  }
  return MakeError(ErrorCode::kInvalidValue,
                   absl::StrCat("expected a <ProvisioningPlan>, <sailpoint> or <IdentityRequest> root, got <",
                                ToAbsl(name), ">"),
                   d.Where(root));
}

}  // namespace

absl::StatusOr<ProvisioningPlan> DecodePlanXml(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_input_bytes) {
    return MakeError(ErrorCode::kTooMany,
                     absl::StrCat("XML plan is ", text.size(), " bytes, over the budget of ", limits.max_input_bytes,
                                  " bytes (max_input_bytes)"));
  }
  // A private copy parsed in place: attribute values then point into it, which gives their
  // offsets for error locations. pugixml frees it with the document.
  void* buffer = pugi::get_memory_allocation_function()(text.size() + 1);
  if (buffer == nullptr) return MakeError(ErrorCode::kInternal, "out of memory");
  std::memcpy(buffer, text.data(), text.size());
  static_cast<char*>(buffer)[text.size()] = '\0';
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer_inplace_own(buffer, text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    size_t at = parsed.offset < 0 ? 0 : static_cast<size_t>(parsed.offset);
    Location where = LocationAt(text, at);
    where.offset = static_cast<int64_t>(at);
    return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("malformed XML: ", parsed.description()), where);
  }
  // What pugixml tolerates and XML does not (plan_xml_strict.h): one reading or none.
  if (std::optional<XmlProblem> problem = FindStrictnessProblem(text)) {
    Location where = LocationAt(text, problem->offset);
    where.offset = static_cast<int64_t>(problem->offset);
    return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("malformed XML: ", problem->what), where);
  }
  XmlDecoder decoder(text, static_cast<const char*>(buffer), text.size(), limits);
  if (absl::Status s = decoder.CheckDepth(doc); !s.ok()) return s;
  absl::StatusOr<pugi::xml_node> node = FindPlan(doc, decoder);
  if (!node.ok()) return node.status();
  ProvisioningPlan plan;
  if (absl::Status s = decoder.ReadPlan(*node, plan); !s.ok()) return s;
  return plan;
}

}  // namespace preflight
