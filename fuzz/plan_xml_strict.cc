// libFuzzer target: the XML plan reading against pugixml's strict parse (issue 14).
// FUZZ_MAX_LEN=4096
// Oracle:
//   - pugixml refuses the text (parse_default)  =>  DecodePlanXml refuses it;
//   - DecodePlanXml accepts the text  =>  pugixml's most literal parse (parse_fragment with
//     every node kept, no escapes decoded) finds exactly one element at the top, nothing but
//     blanks, comments, PIs and an IdentityIQ DOCTYPE beside it, and in every text and
//     attribute value each '&' begins &amp; &lt; &gt; &quot; &apos; or a character reference
//     to a character XML allows (so "&#0;" can no longer cut a value short).
// Seeds: fuzz/seeds/plan_xml.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/codecs/plan_codec.h"
#include "pugixml.hpp"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "ORACLE FAILURE: %s\n%.*s\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

bool AllowedChar(unsigned long cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Every '&' of a raw (undecoded) value begins a predefined entity or an allowed character reference.
bool ReferencesOk(std::string_view v) {
  for (size_t at = v.find('&'); at != std::string_view::npos; at = v.find('&', at + 1)) {
    size_t semi = v.find(';', at);
    if (semi == std::string_view::npos) return false;
    std::string_view ref = v.substr(at + 1, semi - at - 1);
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
    if (ref.size() < 2 || ref[0] != '#') return false;
    const bool hex = ref[1] == 'x';
    std::string_view digits = ref.substr(hex ? 2 : 1);
    // XML's CharRef is '&#' [0-9]+ ';' or '&#x' [0-9a-fA-F]+ ';': any number of digits, so
    // leading zeros are allowed ("&#0000065;" is 'A'); only the value must be a Char.
    if (digits.empty()) return false;
    for (char c : digits)
      if (!(c >= '0' && c <= '9') && !(hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) return false;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (digits.size() > 8) return false;  // past 0x10FFFF either way
    unsigned long cp = std::strtoul(std::string(digits).c_str(), nullptr, hex ? 16 : 10);
    if (!AllowedChar(cp)) return false;
  }
  return true;
}

void CheckLiteralParse(std::string_view text) {
  pugi::xml_document doc;
  const unsigned flags = (pugi::parse_full | pugi::parse_fragment) & ~pugi::parse_escapes & ~pugi::parse_eol;
  if (!doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8)) Fail("accepted, but pugixml's literal parse fails", text);
  int elements = 0;
  for (pugi::xml_node n : doc.children()) {
    switch (n.type()) {
      case pugi::node_element: ++elements; break;
      case pugi::node_pcdata:
        for (const char* p = n.value(); *p; ++p)
          if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') Fail("accepted with text beside the root", text);
        break;
      case pugi::node_doctype:
        if (std::strchr(n.value(), '[') || !std::strstr(n.value(), "sailpoint.dtd")) Fail("accepted a foreign DOCTYPE", text);
        break;
      default: break;
    }
  }
  if (elements != 1) Fail("accepted without exactly one root element", text);
  for (pugi::xml_node n = doc.first_child(); n;) {
    if ((n.type() == pugi::node_pcdata && !ReferencesOk(n.value()))) Fail("accepted an undefined or bad reference", text);
    for (pugi::xml_attribute a : n.attributes())
      if (!ReferencesOk(a.value())) Fail("accepted an undefined or bad reference in an attribute", text);
    if (n.first_child()) { n = n.first_child(); continue; }
    while (n && !n.next_sibling()) n = n.parent();
    if (n) n = n.next_sibling();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<preflight::ProvisioningPlan> ours = preflight::DecodePlanXml(text);
  pugi::xml_document doc;
  const bool pugi_ok = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!pugi_ok && ours.ok()) Fail("pugixml refuses, DecodePlanXml accepts", text);
  if (!ours.ok()) return 0;
  CheckLiteralParse(text);
  return 0;
}
