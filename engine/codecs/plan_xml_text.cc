// XML text helpers of the plan codec (see plan_xml_text.h).

#include "engine/codecs/plan_xml_text.h"

#include "absl/strings/str_cat.h"

namespace preflight::plan_xml {
namespace {

constexpr std::string_view kPlanAttrs[] = {"nativeIdentity", "targetIntegration", "trackingId"};
constexpr std::string_view kAccountAttrs[] = {"application", "assignmentIds", "instance", "nativeIdentity",
                                              "op", "sourceRole", "targetIntegration", "trackingId"};
constexpr std::string_view kObjectAttrs[] = {"application", "instance", "nativeIdentity", "op", "type"};
constexpr std::string_view kAttributeAttrs[] = {"assignmentId", "displayValue", "name", "op", "trackingId", "value"};
constexpr std::string_view kPermissionAttrs[] = {"op", "rights", "target"};
constexpr std::string_view kResultAttrs[] = {"status"};

constexpr std::string_view kPlanChildren[] = {"AccountRequest", "ObjectRequest", "Attributes", "ProvisioningResult"};
constexpr std::string_view kRequestChildren[] = {"Attributes", "AttributeRequest", "PermissionRequest",
                                                 "ProvisioningResult"};
constexpr std::string_view kAttributeChildren[] = {"Value", "Attributes", "ProvisioningResult"};
constexpr std::string_view kPermissionChildren[] = {"Attributes", "ProvisioningResult"};
constexpr std::string_view kResultChildren[] = {"Errors", "Warnings"};
constexpr std::string_view kValueTags[] = {"String", "Boolean", "Integer", "Long", "Date", "List", "Map", "null"};

template <size_t N>
bool In(std::string_view name, const std::string_view (&set)[N]) {
  for (std::string_view s : set)
    if (s == name) return true;
  return false;
}

void AppendNumericRef(std::string& out, unsigned char c) { absl::StrAppend(&out, "&#", static_cast<int>(c), ";"); }

}  // namespace

bool KnownChild(std::string_view name, XmlContext c) {
  switch (c) {
    case XmlContext::kPlan: return In(name, kPlanChildren);
    case XmlContext::kAccount:
    case XmlContext::kObject: return In(name, kRequestChildren);
    case XmlContext::kAttribute: return In(name, kAttributeChildren);
    case XmlContext::kPermission: return In(name, kPermissionChildren);
    case XmlContext::kResult: return In(name, kResultChildren);
    case XmlContext::kValue: return In(name, kValueTags);
  }
  return true;
}

bool KnownAttribute(std::string_view name, XmlContext c) {
  switch (c) {
    case XmlContext::kPlan: return In(name, kPlanAttrs);
    case XmlContext::kAccount: return In(name, kAccountAttrs);
    case XmlContext::kObject: return In(name, kObjectAttrs);
    case XmlContext::kAttribute: return In(name, kAttributeAttrs);
    case XmlContext::kPermission: return In(name, kPermissionAttrs);
    case XmlContext::kResult: return In(name, kResultAttrs);
    case XmlContext::kValue: return true;
  }
  return true;
}
std::string RawXml(pugi::xml_node node) {
  std::string out;
  StringWriter w(&out);
  node.print(w, "", pugi::format_raw, pugi::encoding_utf8);
  return out;
}

std::string CanonicalRawXml(pugi::xml_node node) {
  std::string raw = RawXml(node);
  for (int round = 0; round < 4; ++round) {
    pugi::xml_document doc;
    if (!doc.load_buffer(raw.data(), raw.size(), pugi::parse_default, pugi::encoding_utf8)) break;
    std::string again = RawXml(doc.first_child());
    if (again == raw) break;
    raw = std::move(again);
  }
  return raw;
}

bool IsBlankText(const char* s) {
  for (; *s; ++s)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return false;
  return true;
}

const std::string* RawXmlOf(const Value& v) {
  if (v.kind != Value::Kind::kMap || v.map.size() != 1 || v.map[0].first != kRawXmlKey ||
      v.map[0].second.kind != Value::Kind::kString)
    return nullptr;
  return &v.map[0].second.str;
}


void EscapeAttr(std::string& out, std::string_view s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (c < 0x20) AppendNumericRef(out, c);
        else out.push_back(ch);
    }
  }
}

void EscapeText(std::string& out, std::string_view s) {
  bool blank = !s.empty();
  for (char ch : s)
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') blank = false;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default:
        // A blank text node would be dropped by the parser; \r would be folded by EOL handling.
        if (c < 0x20 && (blank || (ch != '\t' && ch != '\n'))) AppendNumericRef(out, c);
        else if (blank && ch == ' ') out += "&#32;";
        else out.push_back(ch);
    }
  }
}

bool IsXmlName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80 ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

bool ParseRawElement(std::string_view raw, XmlContext context, pugi::xml_document& doc) {
  if (raw.empty() || raw.front() != '<') return false;
  if (!doc.load_buffer(raw.data(), raw.size(), pugi::parse_default, pugi::encoding_utf8)) return false;
  pugi::xml_node only = doc.first_child();
  if (!only || only.type() != pugi::node_element || only.next_sibling()) return false;
  if (KnownChild(only.name(), context)) return false;
  return RawXml(only) == raw;
}

bool HasMixedContent(pugi::xml_node root) {
  pugi::xml_node n = root;
  while (n) {
    if (n.type() == pugi::node_element) {
      bool text = false;
      int count = 0;
      for (pugi::xml_node c : n.children()) {
        ++count;
        text |= c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata;
      }
      if (text && count > 1) return true;
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && n != root && !n.next_sibling()) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  return false;
}

}  // namespace preflight::plan_xml

namespace preflight::plan_codec_internal {

bool IsPortableXmlElement(std::string_view raw, XmlContext context) {
  pugi::xml_document doc;
  return plan_xml::ParseRawElement(raw, context, doc);
}

bool IsPortableXmlAttribute(std::string_view name, XmlContext context) {
  return plan_xml::IsXmlName(name) && !plan_xml::KnownAttribute(name, context);
}

}  // namespace preflight::plan_codec_internal
