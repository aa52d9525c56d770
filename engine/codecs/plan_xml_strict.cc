#include "engine/codecs/plan_xml_strict.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/util/error.h"
#include "engine/util/utf8.h"
#include "simdjson.h"

namespace preflight::plan_xml {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
bool IsXmlChar(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

std::string CodePoint(uint32_t cp) { return absl::StrFormat("U+%04X", cp); }

class Scanner {
 public:
  explicit Scanner(std::string_view t) : t_(t) {}
  std::optional<XmlProblem> Run();

 private:
  enum class Phase { kProlog, kContent, kEpilog };

  std::optional<XmlProblem> Fail(size_t at, std::string what) const { return XmlProblem{at, std::move(what)}; }
  bool At(std::string_view s) const { return t_.substr(i_, s.size()) == s; }
  // One past the name characters from `at` (a local index: this loop is hot).
  size_t NameEnd(size_t at) const {
    const size_t n = t_.size();
    while (at < n && IsNameChar(t_[at])) ++at;
    return at;
  }
  void SkipBlank() {
    while (i_ < t_.size() && IsBlank(t_[i_])) ++i_;
  }
  std::optional<XmlProblem> Characters() const;
  std::optional<XmlProblem> CharactersSlow() const;
  std::optional<XmlProblem> Markup();
  std::optional<XmlProblem> Skip(std::string_view open, std::string_view close, const char* what);
  std::optional<XmlProblem> Declaration();
  std::optional<XmlProblem> Doctype();
  std::optional<XmlProblem> StartTag();
  std::optional<XmlProblem> Reference(size_t at, size_t& end) const;
  std::optional<XmlProblem> References(size_t from, size_t to) const;
  std::optional<XmlProblem> Text();

  std::string_view t_;
  size_t i_ = 0;
  Phase phase_ = Phase::kProlog;
  int depth_ = 0;
  bool doctype_seen_ = false;
  std::vector<std::string_view> attributes_;  // of the start tag being read
};

std::optional<XmlProblem> Scanner::Run() {
  if (auto p = Characters()) return p;
  if (At("\xEF\xBB\xBF")) i_ = 3;
  if (At("<?xml") && i_ + 5 < t_.size() && (IsBlank(t_[i_ + 5]) || t_[i_ + 5] == '?')) {
    if (auto p = Declaration()) return p;
  }
  while (i_ < t_.size()) {
    if (t_[i_] == '<') {
      if (auto p = Markup()) return p;
    } else if (auto p = Text()) {
      return p;
    }
  }
  if (phase_ != Phase::kEpilog) return Fail(t_.size(), "expected one root element");
  return std::nullopt;
}

// Every byte: UTF-8, and a character XML allows. The common case (valid UTF-8, checked by
// simdjson's vectorized validator) only looks for C0 controls and U+FFFE/U+FFFF, byte by byte;
// the decoding loop below runs when something is wrong, to find where.
std::optional<XmlProblem> Scanner::Characters() const {
  if (simdjson::validate_utf8(t_.data(), t_.size())) {
    const auto* p = reinterpret_cast<const unsigned char*>(t_.data());
    const size_t n = t_.size();
    // Branch-free so that the compiler vectorizes it: a C0 control other than tab, LF, CR.
    uint8_t control = 0;
    for (size_t at = 0; at < n; ++at) {
      const uint8_t c = p[at];
      control |= static_cast<uint8_t>((c < 0x20) & (c != 0x09) & (c != 0x0A) & (c != 0x0D));
    }
    // U+FFFE and U+FFFF are EF BF BE / EF BF BF; EF itself is rare in plans.
    bool noncharacter = false;
    for (const void* hit = std::memchr(p, 0xEF, n); hit != nullptr && !noncharacter;) {
      const size_t at = static_cast<size_t>(static_cast<const unsigned char*>(hit) - p);
      noncharacter = at + 2 < n && p[at + 1] == 0xBF && p[at + 2] >= 0xBE;
      hit = at + 1 < n ? std::memchr(p + at + 1, 0xEF, n - at - 1) : nullptr;
    }
    if (control == 0 && !noncharacter) return std::nullopt;
  }
  return CharactersSlow();
}

std::optional<XmlProblem> Scanner::CharactersSlow() const {
  const auto* p = reinterpret_cast<const unsigned char*>(t_.data());
  for (size_t at = 0; at < t_.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(p + at, t_.size() - at, cp);
    if (n == 0) return Fail(at, "invalid UTF-8 (an XML plan is UTF-8 text)");
    if (!IsXmlChar(cp) && !(at == 0 && cp == 0xFEFF))
      return Fail(at, absl::StrCat("character ", CodePoint(cp), " is not allowed in XML"));
    at += n;
  }
  return std::nullopt;
}

std::optional<XmlProblem> Scanner::Skip(std::string_view open, std::string_view close, const char* what) {
  const size_t start = i_;
  size_t end = t_.find(close, i_ + open.size());
  if (end == std::string_view::npos) return Fail(start, absl::StrCat(what, " is not closed"));
  i_ = end + close.size();
  return std::nullopt;
}

std::optional<XmlProblem> Scanner::Markup() {
  const size_t start = i_;
  if (i_ + 1 < t_.size() && IsNameStart(t_[i_ + 1])) return StartTag();  // the common case first
  if (At("<!--")) {
    size_t end = t_.find("--", i_ + 4);
    if (end == std::string_view::npos) return Fail(start, "the comment is not closed");
    if (t_.substr(end, 3) != "-->") return Fail(end, "'--' is not allowed inside a comment");
    i_ = end + 3;
    return std::nullopt;
  }
  if (At("<?")) {
    if (At("<?xml") && i_ + 5 < t_.size() && (IsBlank(t_[i_ + 5]) || t_[i_ + 5] == '?'))
      return Fail(start, "the XML declaration must come first");
    // A processing instruction's target is a name, then a blank or the end (found by fuzz/plan_xml_strict).
    size_t k = i_ + 2;
    if (k >= t_.size() || !IsNameStart(t_[k])) return Fail(start, "a processing instruction needs a target name");
    while (k < t_.size() && IsNameChar(t_[k])) ++k;
    if (k >= t_.size() || !(IsBlank(t_[k]) || t_.substr(k, 2) == "?>"))
      return Fail(k, "a processing instruction needs a target name");
    // XML 1.0 section 2.6 reserves the target "xml" in every case: "<?xMl ...?>" is neither
    // the declaration nor a processing instruction (found by fuzz/plan_xml_strict).
    if (k - (i_ + 2) == 3 && (t_[i_ + 2] | 0x20) == 'x' && (t_[i_ + 3] | 0x20) == 'm' && (t_[i_ + 4] | 0x20) == 'l')
      return Fail(start, "the processing instruction target 'xml' is reserved, in any case");
    return Skip("<?", "?>", "the processing instruction");
  }
  if (At("<![CDATA[")) {
    if (phase_ != Phase::kContent) return Fail(start, "a CDATA section outside the root element");
    return Skip("<![CDATA[", "]]>", "the CDATA section");
  }
  if (At("<!DOCTYPE")) return Doctype();
  if (At("<!")) return Fail(start, "unexpected '<!' markup");
  if (At("</")) {
    if (auto p = Skip("</", ">", "the end tag")) return p;
    if (--depth_ == 0) phase_ = Phase::kEpilog;
    return std::nullopt;
  }
  return StartTag();
}

// <?xml version="1.x" [encoding="Name"] [standalone="yes|no"] ?>, as XML 1.0 writes it
// (found by fuzz/plan_xml_strict: pugixml skipped a declaration with markup inside).
std::optional<XmlProblem> Scanner::Declaration() {
  const size_t start = i_;
  const char* const why = "malformed XML declaration (<?xml version=\"1.0\" encoding=\"UTF-8\"?>)";
  i_ += 5;
  constexpr std::string_view kNames[] = {"version", "encoding", "standalone"};
  size_t next = 0;
  for (;;) {
    const size_t before = i_;
    SkipBlank();
    if (At("?>")) {
      i_ += 2;
      return next == 0 ? Fail(start, why) : std::nullopt;  // version is required
    }
    if (i_ == before) return Fail(start, why);  // pseudo-attributes are separated by blanks
    size_t name_at = i_;
    while (i_ < t_.size() && IsNameChar(t_[i_])) ++i_;
    std::string_view name = t_.substr(name_at, i_ - name_at);
    while (next < 3 && kNames[next] != name) {
      if (next == 0) return Fail(start, why);  // version comes first
      ++next;
    }
    if (next == 3) return Fail(start, why);
    ++next;
    SkipBlank();
    if (!At("=")) return Fail(start, why);
    ++i_;
    SkipBlank();
    if (i_ >= t_.size() || (t_[i_] != '"' && t_[i_] != '\'')) return Fail(start, why);
    const char q = t_[i_];
    size_t end = t_.find(q, i_ + 1);
    if (end == std::string_view::npos) return Fail(start, why);
    std::string_view value = t_.substr(i_ + 1, end - i_ - 1);
    bool ok = !value.empty();
    for (char ch : value) ok &= IsNameChar(ch) && static_cast<unsigned char>(ch) < 0x80 && ch != ':';
    if (name == "version") ok &= value.size() >= 3 && value.substr(0, 2) == "1.";
    if (name == "standalone") ok &= value == "yes" || value == "no";
    if (!ok) return Fail(start, why);
    i_ = end + 1;
  }
}

// Only IdentityIQ's own: <!DOCTYPE Name (PUBLIC "sailpoint.dtd" | SYSTEM) "sailpoint.dtd">.
std::optional<XmlProblem> Scanner::Doctype() {
  const size_t start = i_;
  const std::string why =
      "a DOCTYPE is not accepted in an XML plan, except IdentityIQ's own "
      "(<!DOCTYPE ProvisioningPlan PUBLIC \"sailpoint.dtd\" \"sailpoint.dtd\">): no internal subset, no entity";
  if (phase_ != Phase::kProlog || doctype_seen_) return Fail(start, "a DOCTYPE may only come once, before the root element");
  doctype_seen_ = true;
  i_ += 9;
  auto quoted = [&](std::string_view want) {
    SkipBlank();
    if (i_ >= t_.size() || (t_[i_] != '"' && t_[i_] != '\'')) return false;
    const char q = t_[i_];
    size_t end = t_.find(q, i_ + 1);
    if (end == std::string_view::npos) return false;
    bool ok = want.empty() || t_.substr(i_ + 1, end - i_ - 1) == want;
    i_ = end + 1;
    return ok;
  };
  SkipBlank();
  if (i_ >= t_.size() || !IsNameStart(t_[i_])) return Fail(start, why);
  while (i_ < t_.size() && IsNameChar(t_[i_])) ++i_;
  SkipBlank();
  if (At("PUBLIC")) {
    i_ += 6;
    if (!quoted("sailpoint.dtd")) return Fail(start, why);
  } else if (At("SYSTEM")) {
    i_ += 6;
  } else {
    return Fail(start, why);
  }
  if (!quoted("sailpoint.dtd")) return Fail(start, why);
  SkipBlank();
  if (!At(">")) return Fail(start, why);
  ++i_;
  return std::nullopt;
}

std::optional<XmlProblem> Scanner::StartTag() {
  const size_t start = i_;
  if (phase_ == Phase::kEpilog) return Fail(start, "a second root element: an XML plan has exactly one");
  i_ = NameEnd(i_ + 1);
  attributes_.clear();
  for (;;) {
    SkipBlank();
    if (i_ >= t_.size()) return Fail(start, "the start tag is not closed");
    if (t_[i_] == '>' || At("/>")) {
      const bool empty = t_[i_] == '/';
      i_ += empty ? 2 : 1;
      if (!empty) ++depth_;
      phase_ = depth_ == 0 ? Phase::kEpilog : Phase::kContent;
      return std::nullopt;
    }
    const size_t name_at = i_;
    i_ = NameEnd(i_);
    std::string_view name = t_.substr(name_at, i_ - name_at);
    if (name.empty()) return Fail(name_at, "expected an attribute name");
    for (std::string_view seen : attributes_)
      if (seen == name) return Fail(name_at, absl::StrCat("attribute '", ToAbsl(name), "' appears twice on one element"));
    attributes_.push_back(name);
    SkipBlank();
    if (!At("=")) return Fail(i_, "expected '=' after the attribute name");
    ++i_;
    SkipBlank();
    if (i_ >= t_.size() || (t_[i_] != '"' && t_[i_] != '\'')) return Fail(i_, "expected a quoted attribute value");
    const char q = t_[i_++];
    const size_t close = t_.find(q, i_);
    if (close == std::string_view::npos) return Fail(start, "the attribute value is not closed");
    std::string_view value = t_.substr(i_, close - i_);
    if (size_t lt = value.find('<'); lt != std::string_view::npos)
      return Fail(i_ + lt, "'<' is not allowed in an attribute value (write &lt;)");
    if (auto p = References(i_, close)) return p;
    i_ = close + 1;
  }
}

// The reference at `at` ('&'): one of the five predefined entities or a character reference
// to a character XML allows. Sets `end` one past its ';'.
std::optional<XmlProblem> Scanner::Reference(size_t at, size_t& end) const {
  size_t k = at + 1;
  if (k < t_.size() && t_[k] == '#') {
    const bool hex = k + 1 < t_.size() && t_[k + 1] == 'x';
    k += hex ? 2 : 1;
    uint32_t cp = 0;
    size_t digits = 0;
    for (; k < t_.size() && t_[k] != ';'; ++k, ++digits) {
      const char c = t_[k];
      int v = (c >= '0' && c <= '9') ? c - '0'
              : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                : -1;
      if (v < 0) return Fail(at, "malformed character reference (&#N; or &#xH;)");
      cp = cp > 0x10FFFF ? cp : cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
    }
    if (digits == 0 || k >= t_.size()) return Fail(at, "malformed character reference (&#N; or &#xH;)");
    if (!IsXmlChar(cp)) {
      return Fail(at, absl::StrCat("character reference ", ToAbsl(t_.substr(at, k + 1 - at)), " is to ",
                                   cp > 0x10FFFF ? std::string("no character") : CodePoint(cp),
                                   ", which XML does not allow"));
    }
    end = k + 1;
    return std::nullopt;
  }
  size_t name_end = k;
  if (name_end < t_.size() && IsNameStart(t_[name_end])) {
    while (name_end < t_.size() && IsNameChar(t_[name_end])) ++name_end;
  }
  if (name_end == k || name_end >= t_.size() || t_[name_end] != ';')
    return Fail(at, "an unescaped '&' is not XML (write &amp;)");
  std::string_view name = t_.substr(k, name_end - k);
  if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos") {
    return Fail(at, absl::StrCat("undefined entity &", ToAbsl(name),
                                 "; (an XML plan declares no entities: only &amp; &lt; &gt; &quot; &apos; and "
                                 "character references)"));
  }
  end = name_end + 1;
  return std::nullopt;
}

std::optional<XmlProblem> Scanner::Text() {
  if (phase_ != Phase::kContent) {
    if (IsBlank(t_[i_])) {
      ++i_;
      return std::nullopt;
    }
    return Fail(i_, phase_ == Phase::kProlog ? "text before the root element"
                                             : "text after the root element (only comments and blanks may follow it)");
  }
  // The text runs to the next '<'; its references and any "]]>" are found with find(), which
  // the library vectorizes (this pass must stay cheap next to pugixml's own).
  size_t end = std::min(t_.find('<', i_), t_.size());
  std::string_view text = t_.substr(i_, end - i_);
  if (size_t bad = text.find("]]>"); bad != std::string_view::npos)
    return Fail(i_ + bad, "']]>' is not allowed in text (write ]]&gt;)");
  if (auto p = References(i_, end)) return p;
  i_ = end;
  return std::nullopt;
}

// Every '&' in [from, to) begins a reference Reference() accepts.
std::optional<XmlProblem> Scanner::References(size_t from, size_t to) const {
  const std::string_view span = t_.substr(0, to);  // never search past `to`: that would be quadratic
  for (size_t at = span.find('&', from); at != std::string_view::npos; at = span.find('&', at + 1)) {
    size_t end = 0;
    if (auto p = Reference(at, end)) return p;
    if (end > to) return Fail(at, "an unescaped '&' is not XML (write &amp;)");
    at = end - 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<XmlProblem> FindStrictnessProblem(std::string_view text) { return Scanner(text).Run(); }

}  // namespace preflight::plan_xml
