#pragma once
// XML text helpers shared by the plan XML decoder (plan_xml_decode.cc) and encoder
// (plan_xml_encode.cc): which names the model reads, verbatim element text, escaping.
// Internal to engine/codecs.

#include <string>
#include <string_view>

#include "engine/codecs/plan_codec_internal.h"
#include "engine/model/plan.h"
#include "pugixml.hpp"

namespace preflight::plan_xml {

using plan_codec_internal::XmlContext;

// Whether the decoder reads a child element or an attribute of this name into a field.
bool KnownChild(std::string_view name, XmlContext c);
bool KnownAttribute(std::string_view name, XmlContext c);

struct StringWriter : pugi::xml_writer {
  std::string* out;
  explicit StringWriter(std::string* o) : out(o) {}
  void write(const void* data, size_t size) override { out->append(static_cast<const char*>(data), size); }
};

// An element as pugixml prints it with format_raw.
std::string RawXml(pugi::xml_node node);
// RawXml until it no longer changes under parse + print (pugixml prints a \r or a blank text
// node that its own parser then folds or drops), so the stored text is what the encoder can
// write back verbatim.
std::string CanonicalRawXml(pugi::xml_node node);
bool IsBlankText(const char* s);

// The one-entry map {"#xml": "<element/>"} that carries a value element the model has no kind for.
inline constexpr std::string_view kRawXmlKey = "#xml";
const std::string* RawXmlOf(const Value& v);

void EscapeAttr(std::string& out, std::string_view s);
void EscapeText(std::string& out, std::string_view s);
bool IsXmlName(std::string_view name);
// Parses `raw` as exactly one element in canonical (format_raw) form whose name the decoder
// would not read as a known child of `context`.
bool ParseRawElement(std::string_view raw, XmlContext context, pugi::xml_document& doc);
bool HasMixedContent(pugi::xml_node root);

}  // namespace preflight::plan_xml
