#include "grammar/plan_map.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_set>
#include <utility>

#include <boost/spirit/home/x3.hpp>

#include "grammar/x3_expect.h"

#include "engine/util/utf8.h"
#include "absl/strings/str_cat.h"
#include "engine/util/error.h"
#include "engine/util/limits.h"

namespace preflight {
namespace {

namespace x3 = boost::spirit::x3;

// One byte class as an X3 char parser. X3's standard-encoding classifiers call the C
// <ctype> functions with plain (signed) chars, so bytes >= 0x80 are classified here.
template <typename Pred>
struct PredChar : x3::char_parser<PredChar<Pred>> {
  using encoding = boost::spirit::char_encoding::standard;
  using attribute_type = char;
  static bool const has_attribute = true;
  template <typename Char, typename Context>
  bool test(Char ch, Context const&) const {
    return Pred{}(static_cast<unsigned char>(ch));
  }
};

// JSONTokener.nextValue's unquoted-word stop characters, plus every control character.
constexpr std::string_view kBareStops = ",:]}/\\\"[{;=#";
struct IsBare {
  bool operator()(unsigned char c) const { return c >= 0x20 && kBareStops.find(static_cast<char>(c)) == std::string_view::npos; }
};
struct IsDqChar {
  bool operator()(unsigned char c) const { return c != '"' && c != '\\' && c != '\n' && c != '\r' && c != 0; }
};
struct IsSqChar {
  bool operator()(unsigned char c) const { return c != '\'' && c != '\\' && c != '\n' && c != '\r' && c != 0; }
};
struct IsEscapable {  // anything but the end of a line: the unescaper checks the rest
  bool operator()(unsigned char c) const { return c != '\n' && c != '\r' && c != 0; }
};
struct IsBlank {  // JSONTokener.nextClean skips every char <= ' ' except NUL
  bool operator()(unsigned char c) const { return c >= 1 && c <= 0x20; }
};
struct IsNotEol {
  bool operator()(unsigned char c) const { return c != '\n' && c != '\r'; }
};
struct IsAny {
  bool operator()(unsigned char) const { return true; }
};

struct Frame {
  MapFormNode node;
  std::string pending_key;
  // The map's keys, hashed once there are many (a repeated key is an error).
  std::unordered_set<std::string> key_set;
};

struct Builder {
  const char* base = nullptr;
  int max_depth = 64;
  std::vector<Frame> stack;
  MapFormNode root;
  bool has_root = false;
  bool too_deep = false;
  uint32_t too_deep_at = 0;
  std::string error_what;  // a semantic failure inside a token (bad escape)
  int64_t error_at = -1;
  // A failure that is not a syntax error and ends the parse (a repeated key).
  std::string fatal_what;
  std::string fatal_pointer;
  int64_t fatal_at = -1;

  uint32_t Offset(const char* p) const { return static_cast<uint32_t>(p - base); }

  // The JSON pointer of the value being read, with `last` as its final segment.
  std::string Pointer(std::string_view last) const {
    std::string out;
    auto segment = [&out](std::string_view s) {
      out.push_back('/');
      for (char ch : s) {
        if (ch == '~') out += "~0";
        else if (ch == '/') out += "~1";
        else out.push_back(ch);
      }
    };
    for (size_t i = 0; i + 1 < stack.size(); ++i) {
      const Frame& f = stack[i];
      if (f.node.kind == MapFormNode::Kind::kMap) segment(f.pending_key);
      else segment(std::to_string(f.node.items.size()));
    }
    segment(last);
    return out;
  }

  // Takes the key just read for the innermost map; false (and a fatal error) if it repeats.
  bool TakeKey(std::string key, const char* at) {
    Frame& top = stack.back();
    constexpr size_t kScan = 16;
    bool repeated = false;
    if (top.node.keys.size() < kScan) {
      for (const std::string& k : top.node.keys) repeated |= k == key;
    } else {
      if (top.key_set.empty()) top.key_set.insert(top.node.keys.begin(), top.node.keys.end());
      repeated = top.key_set.count(key) > 0;
      if (!repeated) top.key_set.insert(key);
    }
    if (repeated) {
      fatal_at = Offset(at);
      fatal_pointer = Pointer(key);
      fatal_what = "duplicate key '" + key + "' in the map: each key may appear once";
      return false;
    }
    top.pending_key = std::move(key);
    return true;
  }

  void Add(MapFormNode node) {
    if (stack.empty()) {
      root = std::move(node);
      has_root = true;
      return;
    }
    Frame& top = stack.back();
    if (top.node.kind == MapFormNode::Kind::kMap) top.node.keys.push_back(std::move(top.pending_key));
    top.node.items.push_back(std::move(node));
  }
};

struct builder_tag;

// Decodes the JSONTokener escapes of a quoted token (quotes included in `raw`). Returns false
// and sets `error_pos` (index into raw) on a bad escape.
bool Unescape(std::string_view raw, std::string& out, size_t& error_pos) {
  out.clear();
  out.reserve(raw.size());
  auto hex4 = [&raw](size_t at, uint32_t& v) {
    if (at + 4 > raw.size() - 1) return false;  // the closing quote is not part of the escape
    v = 0;
    for (size_t k = at; k < at + 4; ++k) {
      char c = raw[k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  };
  const size_t end = raw.size() - 1;
  for (size_t i = 1; i < end; ++i) {
    char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'f': out.push_back('\f'); break;
      case 'r': out.push_back('\r'); break;
      case '"': case '\'': case '\\': case '/': out.push_back(e); break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(i + 1, cp)) { error_pos = i - 1; return false; }
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < end && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          uint32_t lo = 0;
          if (hex4(i + 3, lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        // A lone surrogate has no UTF-8 form (Java would carry it; the model holds UTF-8 text).
        if (cp >= 0xD800 && cp < 0xE000) { error_pos = i - 5; return false; }
        AppendUtf8(out, cp);
        break;
      }
      default: error_pos = i - 1; return false;
    }
  }
  return true;
}

MapFormNode BareNode(std::string_view word, uint32_t begin, uint32_t end) {
  while (!word.empty() && static_cast<unsigned char>(word.back()) <= 0x20) word.remove_suffix(1);
  MapFormNode n;
  n.bare = true;
  n.text.assign(word);
  n.span = {begin, end};
  auto ieq = [word](std::string_view lit) {
    if (word.size() != lit.size()) return false;
    for (size_t i = 0; i < word.size(); ++i)
      if ((word[i] | 0x20) != lit[i]) return false;
    return true;
  };
  if (ieq("null")) {
    n.kind = MapFormNode::Kind::kNull;
  } else if (ieq("true") || ieq("false")) {
    n.kind = MapFormNode::Kind::kBoolean;
    n.boolean = ieq("true");
  } else {
    n.kind = MapFormNode::Kind::kString;
    size_t digits_from = (!word.empty() && word[0] == '-') ? 1 : 0;
    bool all_digits = word.size() > digits_from;
    for (size_t i = digits_from; i < word.size() && all_digits; ++i) all_digits = word[i] >= '0' && word[i] <= '9';
    if (all_digits) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
      if (ec == std::errc() && p == word.data() + word.size()) {
        n.kind = MapFormNode::Kind::kInteger;
        n.integer = v;
      }
    }
  }
  return n;
}

// ----------------------------------------------------------------------------- actions

auto enter = [](MapFormNode::Kind kind) {
  return [kind](auto& ctx) {
    Builder& b = *x3::get<builder_tag>(ctx);
    const char* at = &*x3::_attr(ctx).begin();  // raw[] of the bracket
    if (static_cast<int>(b.stack.size()) >= b.max_depth) {
      if (!b.too_deep) {
        b.too_deep = true;
        b.too_deep_at = b.Offset(at);
      }
      x3::_pass(ctx) = false;
      return;
    }
    Frame f;
    f.node.kind = kind;
    f.node.span.begin = b.Offset(at);
    b.stack.push_back(std::move(f));
  };
};
auto const exit_container = [](auto& ctx) {
  Builder& b = *x3::get<builder_tag>(ctx);
  MapFormNode node = std::move(b.stack.back().node);
  b.stack.pop_back();
  node.span.end = b.Offset(&*x3::_attr(ctx).begin()) + 1;
  b.Add(std::move(node));
};

// Decodes a quoted token; on failure records the error and fails the token.
template <typename Ctx>
bool QuotedText(Ctx& ctx, std::string& out) {
  Builder& b = *x3::get<builder_tag>(ctx);
  auto range = x3::_attr(ctx);
  std::string_view raw(&*range.begin(), static_cast<size_t>(range.end() - range.begin()));
  size_t bad = 0;
  if (!Unescape(raw, out, bad)) {
    b.error_at = b.Offset(raw.data()) + static_cast<int64_t>(bad);
    b.error_what = "invalid escape sequence in quoted string";
    x3::_pass(ctx) = false;
    return false;
  }
  return true;
}

auto const key_quoted = [](auto& ctx) {
  Builder& b = *x3::get<builder_tag>(ctx);
  std::string key;
  if (!QuotedText(ctx, key)) return;
  if (!b.TakeKey(std::move(key), &*x3::_attr(ctx).begin())) x3::_pass(ctx) = false;
};
auto const key_bare = [](auto& ctx) {
  Builder& b = *x3::get<builder_tag>(ctx);
  auto range = x3::_attr(ctx);
  std::string_view word(&*range.begin(), static_cast<size_t>(range.end() - range.begin()));
  while (!word.empty() && static_cast<unsigned char>(word.back()) <= 0x20) word.remove_suffix(1);
  if (!b.TakeKey(std::string(word), word.data())) x3::_pass(ctx) = false;
};
auto const value_quoted = [](auto& ctx) {
  Builder& b = *x3::get<builder_tag>(ctx);
  MapFormNode n;
  n.kind = MapFormNode::Kind::kString;
  if (!QuotedText(ctx, n.text)) return;
  auto range = x3::_attr(ctx);
  n.span = {b.Offset(&*range.begin()), b.Offset(&*range.begin() + (range.end() - range.begin()))};
  b.Add(std::move(n));
};
auto const value_bare = [](auto& ctx) {
  Builder& b = *x3::get<builder_tag>(ctx);
  auto range = x3::_attr(ctx);
  const char* first = &*range.begin();
  size_t len = static_cast<size_t>(range.end() - range.begin());
  b.Add(BareNode(std::string_view(first, len), b.Offset(first), b.Offset(first + len)));
};

// ----------------------------------------------------------------------------- grammar

PredChar<IsBare> const bare_char{};
PredChar<IsDqChar> const dq_char{};
PredChar<IsSqChar> const sq_char{};
PredChar<IsEscapable> const escaped_char{};
PredChar<IsBlank> const blank{};
PredChar<IsNotEol> const not_eol{};
PredChar<IsAny> const any_byte{};

using x3_expect::expect;

// Expectation names: what the message says was expected, in words.
constexpr char kCloseComment[] = "'*/' to close the comment";
constexpr char kEscaped[] = "an escaped character after '\\'";
constexpr char kCloseDq[] = "'\"' to close the string";
constexpr char kCloseSq[] = "\"'\" to close the string";
constexpr char kKvSep[] = "'=' (or ':') between the key and its value";
constexpr char kValue[] = "a value";
constexpr char kCloseMap[] = "',' before the next key, or '}' to close the map";
constexpr char kCloseList[] = "',' before the next item, or ']' to close the list";
constexpr char kEnd[] = "the end of the text";

auto const comment = (x3::lit("//") >> *not_eol) |
                     (x3::lit("/*") >> *(any_byte - x3::lit("*/")) >> expect(kCloseComment, x3::lit("*/"))) |
                     (x3::lit('#') >> *not_eol);
auto const skipper = blank | comment;

auto const dq_raw = x3::raw[x3::lexeme[x3::lit('"') >> *((x3::lit('\\') >> expect(kEscaped, escaped_char)) | dq_char) >>
                                       expect(kCloseDq, x3::lit('"'))]];
auto const sq_raw = x3::raw[x3::lexeme[x3::lit('\'') >> *((x3::lit('\\') >> expect(kEscaped, escaped_char)) | sq_char) >>
                                       expect(kCloseSq, x3::lit('\''))]];
auto const bare_raw = x3::raw[x3::lexeme[+bare_char]];
auto const item_sep = x3::lit(',') | x3::lit(';');
auto const kv_sep = x3::lit("=>") | x3::lit('=') | x3::lit(':');

x3::rule<class value_r> const value = "value";
x3::rule<class object_r> const object = "object";
x3::rule<class array_r> const array = "list";
x3::rule<class key_r> const key = "key";
x3::rule<class member_r> const member = "member";

auto const key_def = dq_raw[key_quoted] | sq_raw[key_quoted] | bare_raw[key_bare];
auto const member_def = key >> expect(kKvSep, kv_sep) >> expect(kValue, value);
auto const object_def = x3::raw[x3::lit('{')][enter(MapFormNode::Kind::kMap)] >> -(member % item_sep) >> -item_sep >>
                        expect(kCloseMap, x3::raw[x3::lit('}')][exit_container]);
auto const array_def = x3::raw[x3::lit('[')][enter(MapFormNode::Kind::kList)] >> -(value % item_sep) >> -item_sep >>
                       expect(kCloseList, x3::raw[x3::lit(']')][exit_container]);
auto const value_def = object | array | dq_raw[value_quoted] | sq_raw[value_quoted] | bare_raw[value_bare];

BOOST_SPIRIT_DEFINE(value, object, array, key, member)

auto const document = expect(kValue, value) >> expect(kEnd, x3::eoi);

// "expected X, found Y"; where a value ran into one of the map form's own punctuation, the
// usual cause is a value such as an Active Directory DN (CN=a,OU=b): say so.
std::string Expected(std::string_view text, int64_t at, const std::string& which) {
  std::string out = "expected " + which;
  if (static_cast<size_t>(at) >= text.size()) return out + ", found the end of the text";
  const char c = text[static_cast<size_t>(at)];
  if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F) out += absl::StrCat(", found '", std::string(1, c), "'");
  const bool after_value = which == kCloseMap || which == kCloseList || which == kEnd;
  if ((after_value && std::string_view("=:{[").find(c) != std::string_view::npos) || (which == kValue && c == '=')) {
    out += "; values containing , = { } [ ] cannot be written in the map form; use the JSON form";
  }
  return out;
}

absl::Status Error(ErrorCode code, std::string_view text, int64_t offset, std::string_view what) {
  Location where = LocationAt(text, static_cast<size_t>(offset));
  where.offset = offset;
  return MakeError(code, CaretMessage(text, static_cast<uint32_t>(offset), what), where);
}

}  // namespace

absl::StatusOr<MapFormNode> ParseMapForm(std::string_view text, int max_depth) {
  Builder b;
  b.base = text.data();
  b.max_depth = std::clamp(max_depth, 0, kMaxNestingDepthCap);  // the grammar recurses once per level
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") first += 3;  // a UTF-8 BOM; offsets stay those of `text`
  bool ok = false;
  int64_t fail_at = 0;
  std::string fail_what;
  try {
    ok = x3::phrase_parse(first, last, x3::with<builder_tag>(&b)[document], skipper);
    if (!ok) {
      fail_at = first - text.data();
      fail_what = Expected(text, fail_at, kValue);
    }
  } catch (const x3::expectation_failure<const char*>& e) {
    fail_at = e.where() - text.data();
    fail_what = Expected(text, fail_at, e.which());
  }
  if (b.fatal_at >= 0) {
    Location where = LocationAt(text, static_cast<size_t>(b.fatal_at));
    where.offset = b.fatal_at;
    where.pointer = b.fatal_pointer;
    return MakeError(ErrorCode::kInvalidValue, CaretMessage(text, static_cast<uint32_t>(b.fatal_at), b.fatal_what),
                     where);
  }
  if (b.too_deep) {
    return Error(ErrorCode::kTooMany, text, b.too_deep_at,
                 absl::StrCat("map-form plan nests deeper than the budget of ", b.max_depth,
                              " levels (max_nesting_depth)"));
  }
  if (!ok) {
    if (b.error_at >= 0 && b.error_at >= fail_at) return Error(ErrorCode::kInvalidSyntax, text, b.error_at, b.error_what);
    return Error(ErrorCode::kInvalidSyntax, text, fail_at, fail_what);
  }
  if (!b.has_root || !b.stack.empty()) return Error(ErrorCode::kInvalidSyntax, text, 0, "expected a value");
  return std::move(b.root);
}

}  // namespace preflight
