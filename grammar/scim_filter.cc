// SCIM filter and PATCH path grammar in Boost.Spirit X3. X3 stays in this translation unit;
// the AST helpers and printers are in scim_filter_print.cc.
//
// Structure (research/scim-filter.md sec 1.3):
//   filter    <- ws? or_expr ws? EOF
//   or_expr   <- and_expr (ws "or" ws and_expr)*        n-ary
//   and_expr  <- unary (ws "and" ws unary)*             n-ary
//   unary     <- "not" ws? group / group / attr_term
//   group     <- "(" ws? or_expr ws? ")"
//   attr_term <- attr_path "[" ws? or_expr ws? "]" / attr_path ws "pr" / attr_path ws op ws value
// The leaves (attribute path, JSON string) are small hand-written X3 primitive parsers: the URI
// prefix ends at the *last* ':' of the token, which is awkward to express with backtracking,
// and JSON string decoding (surrogate pairs, UTF-8 validation) is clearer as a loop.
// Nested valuePaths are rejected after the parse (with the position of the inner '['), which
// keeps one set of rules for FILTER and valFilter.
// Recursion depth is bounded before X3 runs: a pre-scan measures the nesting of "(", "[" and
// "not" outside string literals and rejects input deeper than the budget.

#include "grammar/scim_filter.h"
#include "engine/util/utf8.h"

#include <algorithm>

#include <boost/spirit/home/x3.hpp>

#include "grammar/x3_expect.h"

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {
namespace {

namespace x3 = boost::spirit::x3;

// ------------------------------------------------------------------ character classes

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '_' || c == '$'; }
// Characters an attribute-path token may contain (URI prefix included).
bool IsTokenChar(char c) {
  return IsNameChar(c) || c == '.' || c == ':' || c == '/' || c == '%' || c == '~';
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ------------------------------------------------------------------ parse state

struct ParseState {
  const char* base = nullptr;
  // The most advanced diagnostic reported by a primitive parser (bad escape, malformed path).
  int64_t error_offset = -1;
  std::string error_what;

  void Note(const char* at, std::string what) {
    int64_t off = at - base;
    if (off >= error_offset) {
      error_offset = off;
      error_what = std::move(what);
    }
  }
  uint32_t Offset(const char* p) const { return static_cast<uint32_t>(p - base); }
};

struct state_tag;

template <typename Ctx>
ParseState& State(const Ctx& ctx) {
  return *x3::get<state_tag>(ctx);
}

// ------------------------------------------------------------------ primitive: ATTRNAME

// Returns true if [p, e) is exactly one ATTRNAME: ALPHA *(nameChar) or "$ref".
bool IsAttrName(const char* p, const char* e) {
  if (p == e) return false;
  if (*p == '$') {
    return e - p == 4 && Lower(p[1]) == 'r' && Lower(p[2]) == 'e' && Lower(p[3]) == 'f';
  }
  if (!IsAlpha(*p)) return false;
  for (++p; p != e; ++p)
    if (!IsNameChar(*p)) return false;
  return true;
}

// URI prefix check: scheme ":" something (RFC 3986 scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")).
bool IsUriPrefix(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= uri.size()) return false;
  if (!IsAlpha(uri[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = uri[i];
    if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.')) return false;
  }
  // No empty segments ("urn::x") and no trailing ':'.
  return uri.find("::") == std::string_view::npos && uri.back() != ':';
}

struct AttrPathParser : x3::parser<AttrPathParser> {
  using attribute_type = AttrPath;
  [[maybe_unused]] static bool const has_attribute = true;

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx&, Attr& attr) const {
    ParseState& st = State(ctx);
    const char* b = first;
    const char* e = b;
    while (e != last && IsTokenChar(*e)) ++e;
    if (e == b) return false;
    std::string_view token(b, static_cast<size_t>(e - b));
    AttrPath path;
    path.span = {st.Offset(b), st.Offset(e)};
    size_t colon = token.rfind(':');
    std::string_view rest = token;
    const char* rest_begin = b;
    if (colon != std::string_view::npos) {
      std::string_view uri = token.substr(0, colon);
      if (!IsUriPrefix(uri)) {
        st.Note(b, "expected an attribute path: a schema URI prefix must look like 'urn:...:' "
                   "(scheme ':' ...) before the attribute name");
        return false;
      }
      path.uri = std::string(uri);
      rest = token.substr(colon + 1);
      rest_begin = b + colon + 1;
    }
    size_t dot = rest.find('.');
    std::string_view name = rest.substr(0, dot);
    std::string_view sub = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (!IsAttrName(name.data(), name.data() + name.size())) {
      st.Note(rest_begin, "expected an attribute name (a letter, then letters, digits, '-', '_' or '$')");
      return false;
    }
    if (dot != std::string_view::npos) {
      if (!IsAttrName(sub.data(), sub.data() + sub.size())) {
        const char* at = rest_begin + dot + 1;
        if (sub.find('.') != std::string_view::npos && IsAttrName(sub.data(), sub.data() + sub.find('.')))
          st.Note(at + sub.find('.'), "an attribute path has at most one sub-attribute");
        else
          st.Note(at, "expected a sub-attribute name after '.'");
        return false;
      }
      path.sub = std::string(sub);
    }
    path.name = std::string(name);
    first = e;
    x3::traits::move_to(path, attr);
    return true;
  }
};

// A bare ATTRNAME (the subAttr after a PATCH valuePath).
struct AttrNameParser : x3::parser<AttrNameParser> {
  using attribute_type = std::string;
  [[maybe_unused]] static bool const has_attribute = true;

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx&, Attr& attr) const {
    const char* e = first;
    if (e != last && *e == '$') ++e;
    while (e != last && IsNameChar(*e)) ++e;
    if (!IsAttrName(first, e)) {
      State(ctx).Note(first, "expected a sub-attribute name");
      return false;
    }
    if (e != last && (*e == '.' || *e == '[')) {
      State(ctx).Note(e, "a PATCH path ends after one sub-attribute following ']'");
      return false;
    }
    std::string name(first, e);
    first = e;
    x3::traits::move_to(name, attr);
    return true;
  }
};

// ------------------------------------------------------------------ primitive: JSON string


int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at p (p + 4 <= e checked by the caller); -1 if not hex.
int32_t Hex4(const char* p, const char* e) {
  if (e - p < 4) return -1;
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = HexValue(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Length of the valid UTF-8 sequence at p, or 0 if invalid (overlongs and surrogates rejected).
int Utf8SequenceLength(const unsigned char* p, const unsigned char* e) {
  unsigned char c = p[0];
  int n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  if (e - p < n) return 0;
  for (int i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

struct JsonStringParser : x3::parser<JsonStringParser> {
  using attribute_type = std::string;
  [[maybe_unused]] static bool const has_attribute = true;

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx&, Attr& attr) const {
    if (first == last || *first != '"') return false;
    ParseState& st = State(ctx);
    const char* p = first + 1;
    const char* e = last;
    std::string out;
    for (;;) {
      if (p == e) {
        st.Note(p, "unterminated string: expected '\"'");
        return false;
      }
      char c = *p;
      if (c == '"') {
        ++p;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        st.Note(p, "raw control character in a string (use a JSON escape such as \\n or \\t)");
        return false;
      }
      if (c == '\\') {
        if (p + 1 == e) {
          st.Note(p, "unterminated escape sequence");
          return false;
        }
        char x = p[1];
        switch (x) {
          case '"': out.push_back('"'); p += 2; continue;
          case '\\': out.push_back('\\'); p += 2; continue;
          case '/': out.push_back('/'); p += 2; continue;
          case 'b': out.push_back('\b'); p += 2; continue;
          case 'f': out.push_back('\f'); p += 2; continue;
          case 'n': out.push_back('\n'); p += 2; continue;
          case 'r': out.push_back('\r'); p += 2; continue;
          case 't': out.push_back('\t'); p += 2; continue;
          case 'u': {
            int32_t cp = Hex4(p + 2, e);
            if (cp < 0) {
              st.Note(p, "invalid \\u escape: expected four hex digits");
              return false;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
              st.Note(p, "invalid \\u escape: lone low surrogate");
              return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              int32_t lo = (e - p >= 12 && p[6] == '\\' && p[7] == 'u') ? Hex4(p + 8, e) : -1;
              if (lo < 0xDC00 || lo > 0xDFFF) {
                st.Note(p, "invalid \\u escape: high surrogate without a low surrogate");
                return false;
              }
              AppendUtf8(out, 0x10000 + ((static_cast<uint32_t>(cp) - 0xD800) << 10) +
                                  (static_cast<uint32_t>(lo) - 0xDC00));
              p += 12;
              continue;
            }
            AppendUtf8(out, static_cast<uint32_t>(cp));
            p += 6;
            continue;
          }
          default:
            st.Note(p, "invalid escape sequence in a string");
            return false;
        }
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        int n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p),
                                   reinterpret_cast<const unsigned char*>(e));
        if (n == 0) {
          st.Note(p, "invalid UTF-8 in a string");
          return false;
        }
        out.append(p, static_cast<size_t>(n));
        p += n;
        continue;
      }
      out.push_back(c);
      ++p;
    }
    first = p;
    x3::traits::move_to(out, attr);
    return true;
  }
};

AttrPathParser const attr_path{};
AttrNameParser const attr_name{};
JsonStringParser const json_string{};

// ------------------------------------------------------------------ lexical rules

auto const ws = x3::omit[+x3::char_(" \t")];
// A keyword must not be the prefix of an attribute name ("orders", "notes", "prefix").
auto const name_end = !x3::char_("A-Za-z0-9_$.:/%~-");

// Keywords and operators are matched by hand, ASCII-case-insensitively: X3's no_case and
// character classes call <cctype> on raw bytes, which asserts (and is undefined) on bytes
// >= 0x80 (found by fuzz/scim_filter_roundtrip). A keyword must not be the prefix of an
// attribute name ("orders", "notes", "prefix").
struct KeywordParser : x3::parser<KeywordParser> {
  using attribute_type = x3::unused_type;
  [[maybe_unused]] static bool const has_attribute = false;
  explicit KeywordParser(char const* w) : word(w) {}

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const&, RCtx&, Attr&) const {
    It p = first;
    for (char const* w = word; *w; ++w, ++p)
      if (p == last || Lower(*p) != *w) return false;
    if (p != last && IsTokenChar(*p)) return false;
    first = p;
    return true;
  }
  char const* word;  // lower-case
};

auto kw(char const* s) { return KeywordParser(s); }

struct CompareOpParser : x3::parser<CompareOpParser> {
  using attribute_type = CompareOp;
  [[maybe_unused]] static bool const has_attribute = true;

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const&, RCtx&, Attr& attr) const {
    static constexpr struct {
      char a, b;
      CompareOp op;
    } kOps[] = {{'e', 'q', CompareOp::kEq}, {'n', 'e', CompareOp::kNe}, {'c', 'o', CompareOp::kCo},
                {'s', 'w', CompareOp::kSw}, {'e', 'w', CompareOp::kEw}, {'g', 't', CompareOp::kGt},
                {'g', 'e', CompareOp::kGe}, {'l', 't', CompareOp::kLt}, {'l', 'e', CompareOp::kLe}};
    if (last - first < 2 || (last - first > 2 && IsTokenChar(first[2]))) return false;
    const char a = Lower(first[0]), b = Lower(first[1]);
    for (const auto& o : kOps) {
      if (o.a == a && o.b == b) {
        CompareOp op = o.op;
        x3::traits::move_to(op, attr);
        first += 2;
        return true;
      }
    }
    return false;
  }
};
CompareOpParser const compare_op{};

auto const json_number = x3::raw[x3::lexeme[-x3::lit('-') >>
                                            (x3::lit('0') | (x3::char_('1', '9') >> *x3::char_('0', '9'))) >>
                                            -(x3::lit('.') >> +x3::char_('0', '9')) >>
                                            -(x3::char_("eE") >> -x3::char_("+-") >> +x3::char_('0', '9'))]];

using x3_expect::expect;

// ------------------------------------------------------------------ semantic actions

template <typename Ctx>
SourceSpan WhereSpan(Ctx& ctx) {
  ParseState& st = State(ctx);
  auto w = x3::_where(ctx);
  return {st.Offset(&*w.begin()), st.Offset(&*w.begin() + (w.end() - w.begin()))};
}

auto const assign = [](auto& ctx) { x3::_val(ctx) = std::move(x3::_attr(ctx)); };
auto const push = [](auto& ctx) { x3::_val(ctx).push_back(std::move(x3::_attr(ctx))); };

auto fold(FilterKind kind) {
  return [kind](auto& ctx) {
    auto& list = x3::_attr(ctx);
    FilterNode& out = x3::_val(ctx);
    if (list.size() == 1) {
      out = std::move(list.front());
      return;
    }
    out = FilterNode{};
    out.kind = kind;
    out.span = WhereSpan(ctx);
    out.children = std::move(list);
  };
}

auto const not_begin = [](auto& ctx) {
  x3::_val(ctx).span.begin = State(ctx).Offset(&*x3::_attr(ctx).begin());
};
auto const not_body = [](auto& ctx) {
  FilterNode& out = x3::_val(ctx);
  out.kind = FilterKind::kNot;
  out.children.clear();
  out.children.push_back(std::move(x3::_attr(ctx)));
  out.span.end = WhereSpan(ctx).end;
};

auto const term_path = [](auto& ctx) { x3::_val(ctx).path = std::move(x3::_attr(ctx)); };
auto const term_pr = [](auto& ctx) { x3::_val(ctx).kind = FilterKind::kPresent; };
auto const term_op = [](auto& ctx) {
  x3::_val(ctx).kind = FilterKind::kCompare;
  x3::_val(ctx).op = x3::_attr(ctx);
};
auto const term_value = [](auto& ctx) { x3::_val(ctx).value = std::move(x3::_attr(ctx)); };
auto const term_valpath = [](auto& ctx) {
  FilterNode& out = x3::_val(ctx);
  out.kind = FilterKind::kValuePath;
  out.children.clear();
  out.children.push_back(std::move(x3::_attr(ctx)));
};
auto const term_span = [](auto& ctx) {
  ParseState& st = State(ctx);
  auto& r = x3::_attr(ctx);
  x3::_val(ctx).span = {st.Offset(&*r.begin()), st.Offset(&*r.begin() + (r.end() - r.begin()))};
};

auto literal(LiteralKind kind) {
  return [kind](auto& ctx) {
    x3::_val(ctx).kind = kind;
    x3::_val(ctx).span = WhereSpan(ctx);
  };
}
auto const lit_string = [](auto& ctx) {
  x3::_val(ctx).kind = LiteralKind::kString;
  x3::_val(ctx).text = std::move(x3::_attr(ctx));
  x3::_val(ctx).span = WhereSpan(ctx);
};
auto const lit_number = [](auto& ctx) {
  auto& r = x3::_attr(ctx);
  x3::_val(ctx).kind = LiteralKind::kNumber;
  x3::_val(ctx).text.assign(&*r.begin(), static_cast<size_t>(r.end() - r.begin()));
  x3::_val(ctx).span = WhereSpan(ctx);
};

auto const path_attr = [](auto& ctx) { x3::_val(ctx).attr = std::move(x3::_attr(ctx)); };
auto const path_filter = [](auto& ctx) { x3::_val(ctx).filter = std::move(x3::_attr(ctx)); };
auto const path_sub = [](auto& ctx) { x3::_val(ctx).sub_attr = std::move(x3::_attr(ctx)); };

// ------------------------------------------------------------------ rules

x3::rule<class or_list_r, std::vector<FilterNode>> const or_list = "a filter expression";
x3::rule<class or_expr_r, FilterNode> const or_expr = "a filter expression";
x3::rule<class and_list_r, std::vector<FilterNode>> const and_list = "a filter expression";
x3::rule<class and_expr_r, FilterNode> const and_expr = "a filter expression";
x3::rule<class unary_r, FilterNode> const unary = "a filter expression";
x3::rule<class not_expr_r, FilterNode> const not_expr = "'(' after 'not'";
x3::rule<class group_r, FilterNode> const group = "'('";
x3::rule<class attr_term_r, FilterNode> const attr_term = "an attribute expression";
x3::rule<class comp_value_r, FilterLiteral> const comp_value =
    "a value (JSON string, number, true, false or null)";
x3::rule<class filter_r, FilterNode> const filter = "a filter expression";
x3::rule<class path_r, PathAst> const path = "a PATCH path";

constexpr char kExpectFilter[] = "a filter expression";
constexpr char kExpectOp[] = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)";
constexpr char kExpectValue[] = "a value (JSON string, number, true, false or null)";

auto const or_list_def =
    and_expr[push] >> *((ws >> kw("or")) >> expect("whitespace and a filter expression after 'or'", ws) >> expect(kExpectFilter, and_expr[push]));
auto const or_expr_def = or_list[fold(FilterKind::kOr)];
auto const and_list_def =
    unary[push] >> *((ws >> kw("and")) >> expect("whitespace and a filter expression after 'and'", ws) >> expect(kExpectFilter, unary[push]));
auto const and_expr_def = and_list[fold(FilterKind::kAnd)];
auto const unary_def = not_expr[assign] | group[assign] | attr_term[assign];
auto const not_expr_def = x3::raw[kw("not")][not_begin] >> -ws >> &x3::lit('(') >> group[not_body];
auto const group_def = x3::lit('(') >> -ws >> expect(kExpectFilter, or_expr[assign]) >> -ws >> expect("')'", x3::lit(')'));
auto const attr_term_def =
    x3::raw[attr_path[term_path] >>
            expect("'[' or whitespace and an operator after the attribute path",
                   (x3::lit('[') >> -ws >> expect(kExpectFilter, or_expr[term_valpath]) >> -ws >> expect("']'", x3::lit(']'))) |
                       (ws >> expect(kExpectOp,
                                     kw("pr")[term_pr] |
                                         (compare_op[term_op] >>
                                          expect("whitespace and a value after the operator", ws) >>
                                          expect(kExpectValue, comp_value[term_value])))))][term_span];
auto const comp_value_def = json_string[lit_string] | json_number[lit_number] |
                            (x3::lit("true") >> name_end)[literal(LiteralKind::kTrue)] |
                            (x3::lit("false") >> name_end)[literal(LiteralKind::kFalse)] |
                            (x3::lit("null") >> name_end)[literal(LiteralKind::kNull)];
auto const filter_def = -ws >> expect(kExpectFilter, or_expr[assign]) >> -ws >>
                        expect("the end of the filter (or 'and' / 'or' and another expression)", x3::eoi);
auto const path_def = attr_path[path_attr] >>
                      -((x3::lit('[') >> -ws >> expect(kExpectFilter, or_expr[path_filter]) >> -ws >>
                         expect("']'", x3::lit(']'))) >>
                        -(x3::lit('.') >> expect("a sub-attribute name", attr_name[path_sub]))) >>
                      expect("the end of the path", x3::eoi);

BOOST_SPIRIT_DEFINE(or_list, or_expr, and_list, and_expr, unary, not_expr, group, attr_term,
                    comp_value, filter, path)

// ------------------------------------------------------------------ driver

// Nesting depth outside string literals: each '(' and '[' is one level, and a 'not' keyword
// makes its group count two (the not node and the group). Returns the offset of the first
// character that goes over the budget, or -1.
int64_t DepthViolation(std::string_view text, int max_depth) {
  std::vector<int> weights;
  int depth = 0;
  bool pending_not = false;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < n && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      pending_not = false;
      continue;
    }
    if (c == '(' || c == '[') {
      int w = (c == '(' && pending_not) ? 2 : 1;
      pending_not = false;
      depth += w;
      weights.push_back(w);
      if (depth > max_depth) return static_cast<int64_t>(i);
      continue;
    }
    if (c == ')' || c == ']') {
      if (!weights.empty()) {
        depth -= weights.back();
        weights.pop_back();
      }
      pending_not = false;
      continue;
    }
    if (c == ' ' || c == '\t') continue;
    if ((c == 'n' || c == 'N') && i + 3 <= n && Lower(text[i + 1]) == 'o' && Lower(text[i + 2]) == 't' &&
        (i == 0 || !IsTokenChar(text[i - 1])) && (i + 3 == n || !IsTokenChar(text[i + 3]))) {
      pending_not = true;
      i += 2;
      continue;
    }
    pending_not = false;
  }
  return -1;
}

// Returns the offset of the '[' of a valuePath nested inside another valuePath, or -1.
int64_t NestedValuePath(const FilterNode& node, bool inside) {
  if (node.kind == FilterKind::kValuePath) {
    if (inside) return node.path.span.end;
    inside = true;
  }
  for (const FilterNode& c : node.children) {
    int64_t at = NestedValuePath(c, inside);
    if (at >= 0) return at;
  }
  return -1;
}

absl::Status Error(ErrorCode code, std::string_view text, int64_t offset, std::string_view what) {
  Location where;
  where.offset = offset;
  return MakeError(code, CaretMessage(text, static_cast<uint32_t>(offset), what), where);
}

std::string Expected(std::string_view which) {
  return absl::StrCat("expected ", absl::string_view(which.data(), which.size()));
}

template <typename Rule, typename Attr>
absl::Status RunParse(const Rule& rule, std::string_view text, const FilterParseOptions& options,
                      ErrorCode code, std::string_view what, Attr& out) {
  if (text.size() > options.max_length) {
    return Error(ErrorCode::kTooMany, text, static_cast<int64_t>(options.max_length),
                 absl::StrCat(absl::string_view(what.data(), what.size()), " is ", text.size(),
                              " bytes, over the budget of ", options.max_length,
                              " bytes (max_filter_length)"));
  }
  // The grammar recurses once per level: never deeper than the proven maximum.
  const int max_depth = std::min(options.max_depth, kMaxFilterDepthCap);
  if (int64_t at = DepthViolation(text, max_depth); at >= 0) {
    return Error(ErrorCode::kTooMany, text, at,
                 absl::StrCat(absl::string_view(what.data(), what.size()),
                              " nests deeper than the budget of ", max_depth,
                              " levels (max_filter_depth)"));
  }
  ParseState state;
  state.base = text.data();
  const char* first = text.data();
  const char* last = text.data() + text.size();
  int64_t fail_at = 0;
  std::string fail_what;
  bool ok = false;
  try {
    ok = x3::parse(first, last, x3::with<state_tag>(&state)[rule], out);
    if (!ok) {
      fail_at = first - text.data();
      fail_what = absl::StrCat("expected ", absl::string_view(what.data(), what.size()));
    }
  } catch (const x3::expectation_failure<const char*>& e) {
    fail_at = e.where() - text.data();
    fail_what = Expected(e.which());
  }
  if (ok) return absl::OkStatus();
  if (state.error_offset >= fail_at) {
    fail_at = state.error_offset;
    fail_what = state.error_what;
  }
  return Error(code, text, fail_at, fail_what);
}

}  // namespace

// ------------------------------------------------------------------ public API


absl::StatusOr<FilterAst> ParseScimFilter(std::string_view text, const FilterParseOptions& options) {
  FilterAst ast;
  absl::Status status = RunParse(filter, text, options, ErrorCode::kInvalidFilter, "a filter", ast.root);
  if (!status.ok()) return status;
  if (int64_t at = NestedValuePath(ast.root, false); at >= 0) {
    return Error(ErrorCode::kInvalidFilter, text, at,
                 "a valuePath filter cannot contain another valuePath (RFC 7644 errata 7322)");
  }
  return ast;
}

absl::StatusOr<PathAst> ParseScimPath(std::string_view text, const FilterParseOptions& options) {
  PathAst out;
  absl::Status status = RunParse(path, text, options, ErrorCode::kInvalidPath, "a PATCH path", out);
  if (!status.ok()) return status;
  if (out.filter) {
    if (int64_t at = NestedValuePath(*out.filter, true); at >= 0) {
      return Error(ErrorCode::kInvalidPath, text, at,
                   "a valuePath filter cannot contain another valuePath (RFC 7644 errata 7322)");
    }
  }
  out.span = {0, static_cast<uint32_t>(text.size())};
  return out;
}

}  // namespace preflight
