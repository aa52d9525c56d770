// ProvisioningPlan -> IdentityIQ XML (docs/semantics.md, "Plan forms").
//
//
// Encoding is canonical: IIQ's declaration and DOCTYPE, 2-space indentation, attributes in a
// fixed (alphabetical, as IIQ writes them) order then the extra ones, children in the order
// Attributes/requests/Value, then extras in document order, then ProvisioningResult.

#include <cstdint>
#include <string>

#include "engine/codecs/plan_codec.h"
#include "engine/codecs/plan_xml_text.h"
#include "pugixml.hpp"

namespace preflight {
namespace {

using namespace plan_xml;

class XmlEncoder {
 public:
  explicit XmlEncoder(std::string& out) : out_(out) {}

  void Plan(const ProvisioningPlan& p) {
    out_ += "<?xml version='1.0' encoding='UTF-8'?>\n";
    out_ += "<!DOCTYPE ProvisioningPlan PUBLIC \"sailpoint.dtd\" \"sailpoint.dtd\">\n";
    out_ += "<ProvisioningPlan";
    OptAttr("nativeIdentity", p.native_identity);
    OptAttr("targetIntegration", p.target_integration);
    OptAttr("trackingId", p.tracking_id);
    ExtraAttrs(p.extra, XmlContext::kPlan);
    bool children = !p.accounts.empty() || !p.objects.empty() || !p.args.empty() || p.result ||
                    !p.extra.xml_elements.empty();
    if (!Open(children)) return;
    for (const AccountRequest& a : p.accounts) Account(a, 1);
    Args(p.args, 1);
    for (const ObjectRequest& o : p.objects) Object(o, 1);
    ExtraElements(p.extra, XmlContext::kPlan, 1);
    if (p.result) Result(*p.result, 1);
    out_ += "</ProvisioningPlan>\n";
  }

 private:
  void Indent(int level) { out_.append(static_cast<size_t>(level) * 2, ' '); }
  void Attr(std::string_view name, std::string_view value) {
    out_ += ' ';
    out_ += name;
    out_ += "=\"";
    EscapeAttr(out_, value);
    out_ += '"';
  }
  void OptAttr(std::string_view name, const std::optional<std::string>& value) {
    if (value) Attr(name, *value);
  }
  // Ends the start tag; returns whether the element has children (and stays open).
  bool Open(bool children) {
    out_ += children ? ">\n" : "/>\n";
    return children;
  }
  void Close(std::string_view name, int level) {
    Indent(level);
    out_ += "</";
    out_ += name;
    out_ += ">\n";
  }
  void ExtraAttrs(const Extra& e, XmlContext c) {
    for (const auto& [k, v] : e.xml_attributes)
      if (plan_codec_internal::IsPortableXmlAttribute(k, c)) Attr(k, v);
  }
  void ExtraElements(const Extra& e, XmlContext c, int level) {
    for (const std::string& raw : e.xml_elements) RawElement(raw, c, level);
  }
  // Writes a verbatim element, re-indented; false (and nothing written) if it is not one.
  bool RawElement(std::string_view raw, XmlContext c, int level) {
    pugi::xml_document doc;
    if (!ParseRawElement(raw, c, doc)) return false;
    pugi::xml_node el = doc.first_child();
    if (HasMixedContent(el)) {
      Indent(level);
      out_ += raw;
      out_ += '\n';
    } else {
      StringWriter w(&out_);
      el.print(w, "  ", pugi::format_indent, pugi::encoding_utf8, static_cast<unsigned>(level));
    }
    return true;
  }

  void Account(const AccountRequest& a, int level) {
    Indent(level);
    out_ += "<AccountRequest";
    OptAttr("application", a.application);
    OptAttr("assignmentIds", a.assignment_ids);
    OptAttr("instance", a.instance);
    OptAttr("nativeIdentity", a.native_identity);
    if (a.op) Attr("op", AccountOpName(*a.op));
    OptAttr("sourceRole", a.source_role);
    OptAttr("targetIntegration", a.target_integration);
    OptAttr("trackingId", a.tracking_id);
    ExtraAttrs(a.extra, XmlContext::kAccount);
    RequestBody(a, XmlContext::kAccount, level);
    if (HasBody(a)) Close("AccountRequest", level);
  }
  void Object(const ObjectRequest& o, int level) {
    Indent(level);
    out_ += "<ObjectRequest";
    OptAttr("application", o.application);
    OptAttr("instance", o.instance);
    OptAttr("nativeIdentity", o.native_identity);
    OptAttr("op", o.op);
    OptAttr("type", o.type);
    ExtraAttrs(o.extra, XmlContext::kObject);
    RequestBody(o, XmlContext::kObject, level);
    if (HasBody(o)) Close("ObjectRequest", level);
  }
  template <typename R>
  static bool HasBody(const R& r) {
    return !r.args.empty() || !r.attributes.empty() || !r.permissions.empty() || r.result ||
           !r.extra.xml_elements.empty();
  }
  template <typename R>
  void RequestBody(const R& r, XmlContext c, int level) {
    if (!Open(HasBody(r))) return;
    Args(r.args, level + 1);
    for (const AttributeRequest& a : r.attributes) AttributeReq(a, level + 1);
    for (const PermissionRequest& p : r.permissions) Permission(p, level + 1);
    ExtraElements(r.extra, c, level + 1);
    if (r.result) Result(*r.result, level + 1);
  }

  void AttributeReq(const AttributeRequest& a, int level) {
    Indent(level);
    out_ += "<AttributeRequest";
    OptAttr("assignmentId", a.assignment_id);
    OptAttr("displayValue", a.display_value);
    Attr("name", a.name);
    if (a.op) Attr("op", AttributeOpName(*a.op));
    OptAttr("trackingId", a.tracking_id);
    bool as_attr = a.value.kind == Value::Kind::kString;
    if (as_attr) Attr("value", a.value.str);
    ExtraAttrs(a.extra, XmlContext::kAttribute);
    bool value_element = !as_attr && !a.value.is_null();
    if (!Open(value_element || !a.args.empty() || a.result || !a.extra.xml_elements.empty())) return;
    if (value_element) {
      Indent(level + 1);
      out_ += "<Value>\n";
      ValueElement(a.value, level + 2);
      Close("Value", level + 1);
    }
    Args(a.args, level + 1);
    ExtraElements(a.extra, XmlContext::kAttribute, level + 1);
    if (a.result) Result(*a.result, level + 1);
    Close("AttributeRequest", level);
  }

  void Permission(const PermissionRequest& p, int level) {
    Indent(level);
    out_ += "<PermissionRequest";
    if (p.op) Attr("op", AttributeOpName(*p.op));
    Attr("rights", p.rights);
    Attr("target", p.target);
    ExtraAttrs(p.extra, XmlContext::kPermission);
    if (!Open(!p.args.empty() || p.result || !p.extra.xml_elements.empty())) return;
    Args(p.args, level + 1);
    ExtraElements(p.extra, XmlContext::kPermission, level + 1);
    if (p.result) Result(*p.result, level + 1);
    Close("PermissionRequest", level);
  }

  void Result(const ProvisioningResult& r, int level) {
    Indent(level);
    out_ += "<ProvisioningResult";
    OptAttr("status", r.status);
    ExtraAttrs(r.extra, XmlContext::kResult);
    if (!Open(!r.errors.empty() || !r.warnings.empty() || !r.extra.xml_elements.empty())) return;
    Messages("Errors", "Error", r.errors, level + 1);
    Messages("Warnings", "Warn", r.warnings, level + 1);
    ExtraElements(r.extra, XmlContext::kResult, level + 1);
    Close("ProvisioningResult", level);
  }
  void Messages(std::string_view list, std::string_view type, const std::vector<std::string>& msgs, int level) {
    if (msgs.empty()) return;
    Indent(level);
    out_ += '<';
    out_ += list;
    out_ += ">\n";
    for (const std::string& m : msgs) {
      Indent(level + 1);
      out_ += "<Message";
      Attr("key", m);
      Attr("type", type);
      out_ += "/>\n";
    }
    Close(list, level);
  }

  void Args(const AttributeMap& args, int level) {
    if (args.empty()) return;
    Indent(level);
    out_ += "<Attributes>\n";
    Indent(level + 1);
    out_ += "<Map>\n";
    Entries(args, level + 2);
    Close("Map", level + 1);
    Close("Attributes", level);
  }
  void Entries(const std::vector<std::pair<std::string, Value>>& map, int level) {
    for (const auto& [k, v] : map) {
      Indent(level);
      out_ += "<entry";
      Attr("key", k);
      if (v.is_null()) {
        out_ += "/>\n";
      } else if (v.kind == Value::Kind::kString) {
        Attr("value", v.str);
        out_ += "/>\n";
      } else {
        out_ += ">\n";
        Indent(level + 1);
        out_ += "<value>\n";
        ValueElement(v, level + 2);
        Close("value", level + 1);
        Close("entry", level);
      }
    }
  }
  void Scalar(std::string_view tag, std::string_view text, int level) {
    Indent(level);
    out_ += '<';
    out_ += tag;
    out_ += '>';
    EscapeText(out_, text);
    out_ += "</";
    out_ += tag;
    out_ += ">\n";
  }
  void ValueElement(const Value& v, int level) {
    switch (v.kind) {
      case Value::Kind::kNull:
        Indent(level);
        out_ += "<null/>\n";
        return;
      case Value::Kind::kString:
        if (v.str.empty()) {
          Indent(level);
          out_ += "<String/>\n";
        } else {
          Scalar("String", v.str, level);
        }
        return;
      case Value::Kind::kBoolean: Scalar("Boolean", v.boolean ? "true" : "false", level); return;
      case Value::Kind::kInteger:
        Scalar(v.integer >= INT32_MIN && v.integer <= INT32_MAX ? "Integer" : "Long", std::to_string(v.integer), level);
        return;
      case Value::Kind::kDate: Scalar("Date", std::to_string(v.integer), level); return;
      case Value::Kind::kList:
        Indent(level);
        if (v.list.empty()) {
          out_ += "<List/>\n";
          return;
        }
        out_ += "<List>\n";
        for (const Value& item : v.list) ValueElement(item, level + 1);
        Close("List", level);
        return;
      case Value::Kind::kMap:
        if (const std::string* raw = RawXmlOf(v); raw && RawElement(*raw, XmlContext::kValue, level)) return;
        Indent(level);
        if (v.map.empty()) {
          out_ += "<Map/>\n";
          return;
        }
        out_ += "<Map>\n";
        Entries(v.map, level + 1);
        Close("Map", level);
        return;
    }
  }

  std::string& out_;
};

}  // namespace

std::string EncodePlanXml(const ProvisioningPlan& plan) {
  std::string out;
  out.reserve(256 + plan.accounts.size() * 256);
  XmlEncoder(out).Plan(plan);
  return out;
}

}  // namespace preflight
