#pragma once
// What XML forbids and pugixml tolerates, checked on a plan's text so that an XML plan has
// exactly one reading (issue 14). pugixml (parse_default) keeps a second root element, drops
// text after the root, skips any DOCTYPE and its entity declarations, leaves an undefined
// reference ("&g;") or a bare '&' literal, and turns "&#0;" into a NUL that cuts the value
// short. This scanner refuses each of them:
//   - exactly one root element; after it only blanks, comments and processing instructions;
//   - no DOCTYPE, except the one IdentityIQ writes on every object it serializes
//     (<!DOCTYPE X PUBLIC "sailpoint.dtd" "sailpoint.dtd">, or SYSTEM "sailpoint.dtd"), which
//     IdentityIQ resolves to its built-in DTD; never an internal subset, so no entity can be
//     declared;
//   - every '&' starts &amp; &lt; &gt; &quot; &apos; or a character reference to a character
//     XML allows; no raw character XML forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF;
//     invalid UTF-8);
//   - no attribute twice on one element, no '<' in an attribute value, no "--" in a comment,
//     no "]]>" in text.
// It runs after pugixml accepted the text, so it relies on tags, comments and quotes being
// closed (and fails safely, never reads past the end, when they are not). Iterative, linear.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace preflight::plan_xml {

struct XmlProblem {
  size_t offset = 0;
  std::string what;
};

std::optional<XmlProblem> FindStrictnessProblem(std::string_view text);

}  // namespace preflight::plan_xml
