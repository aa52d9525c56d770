#include "grammar/plan_map.h"

#include <algorithm>
#include <array>
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
constexpr std::array<bool, 256> kBareChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 256; ++c) t[c] = kBareStops.find(static_cast<char>(c)) == std::string_view::npos;
  return t;
}();
struct IsBare {  // a table: this is asked of every byte of every unquoted word
  bool operator()(unsigned char c) const { return kBareChar[c]; }
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

bool Unescape(std::string_view raw, std::string& out, size_t& error_pos);

}  // namespace

// Builds a MapFormTree as the grammar's actions fire. Nodes are only ever added after their
// token matched, and a failed match ends the parse, so the tree never holds a stray node.
struct MapFormBuilder {
  using Kind = MapFormTree::Kind;
  using Node = MapFormTree::Node;
  using Frame = MapFormTree::Frame;

  MapFormTree& t;
  const char* base = nullptr;
  int max_depth = 64;
  bool too_deep = false;
  uint32_t too_deep_at = 0;
  std::string error_what;  // a semantic failure inside a token (bad escape)
  int64_t error_at = -1;
  // A failure that is not a syntax error and ends the parse (a repeated key).
  std::string fatal_what;
  std::string fatal_pointer;
  int64_t fatal_at = -1;

  uint32_t Offset(const char* p) const { return static_cast<uint32_t>(p - base); }
  Frame& Top() { return t.frames_[t.depth_ - 1]; }
  std::string_view View(bool decoded, uint32_t begin, uint32_t size) const { return t.View(decoded, begin, size); }
  std::string_view FrameKey(const Frame& f) const { return View(f.key_decoded, f.key_begin, f.key_size); }
  bool Complete() const { return !t.nodes_.empty() && t.depth_ == 0; }
  void Reset(std::string_view text) {
    t.source_ = text;
    t.nodes_.clear();
    t.decoded_.clear();
    // Decoded text is never longer than its source: reserved once, the keys viewed in it
    // while parsing stay where they are.
    t.decoded_.reserve(text.size());
    t.depth_ = 0;
  }

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
    for (size_t i = 0; i + 1 < t.depth_; ++i) {
      const Frame& f = t.frames_[i];
      const Node& n = t.nodes_[f.node];
      if (n.kind == Kind::kMap) segment(FrameKey(f));
      else segment(std::to_string(n.count - 1));  // the item being read was counted on entry
    }
    segment(last);
    return out;
  }

  // Takes the key just read for the innermost map; false (and a fatal error) if it repeats.
  bool TakeKey(std::string_view key, bool decoded, uint32_t begin, const char* at) {
    Frame& top = Top();
    const Node& map = t.nodes_[top.node];
    constexpr uint32_t kScan = 16;
    bool repeated = false;
    // The map is still open: its items so far run to the end of the nodes.
    auto each_key = [&](auto&& f) {
      for (uint32_t j = top.node + 1; j < t.nodes_.size(); j = t.nodes_[j].end) f(t.key(t.nodes_[j]));
    };
    if (map.count < kScan) {
      each_key([&](std::string_view k) { repeated |= k == key; });
    } else {
      if (top.keys.empty()) each_key([&](std::string_view k) { top.keys.insert(k); });
      repeated = !top.keys.insert(key).second;
    }
    if (repeated) {
      fatal_at = Offset(at);
      fatal_pointer = Pointer(key);
      fatal_what = std::string("duplicate key '").append(key).append("' in the map: each key may appear once");
      return false;
    }
    top.key_decoded = decoded;
    top.key_begin = begin;
    top.key_size = static_cast<uint32_t>(key.size());
    return true;
  }

  // A new node, an item of the innermost container (keyed by the key just read) or the root.
  Node& Add(Kind kind, uint32_t span_begin) {
    Node& n = t.nodes_.emplace_back();
    n.kind = kind;
    n.span.begin = span_begin;
    n.end = static_cast<uint32_t>(t.nodes_.size());
    if (t.depth_ > 0) {
      Frame& top = Top();
      Node& parent = t.nodes_[top.node];
      ++parent.count;
      if (parent.kind == Kind::kMap) {
        n.key_decoded = top.key_decoded;
        n.key_begin = top.key_begin;
        n.key_size = top.key_size;
      }
    }
    return n;
  }

  // A container's node, open until Close.
  bool Open(Kind kind, const char* at) {
    if (static_cast<int>(t.depth_) >= max_depth) {
      if (!too_deep) {
        too_deep = true;
        too_deep_at = Offset(at);
      }
      return false;
    }
    uint32_t index = static_cast<uint32_t>(t.nodes_.size());
    Add(kind, Offset(at));
    if (t.frames_.size() == t.depth_) t.frames_.emplace_back();
    Frame& f = t.frames_[t.depth_++];
    f.node = index;
    f.key_size = 0;
    f.keys.clear();
    return true;
  }
  void Close(const char* at) {
    Node& n = t.nodes_[Top().node];
    n.end = static_cast<uint32_t>(t.nodes_.size());
    n.span.end = Offset(at) + 1;
    --t.depth_;
  }

  // Decodes the JSONTokener escapes of a quoted token (quotes included in `raw`) into the
  // tree's buffer, or takes the text between the quotes as it is when there is none. False
  // (and the error) on a bad escape.
  bool Quoted(std::string_view raw, bool& decoded, uint32_t& begin, uint32_t& size) {
    std::string_view inner = raw.substr(1, raw.size() - 2);
    if (inner.find('\\') == std::string_view::npos) {
      decoded = false;
      begin = Offset(inner.data());
      size = static_cast<uint32_t>(inner.size());
      return true;
    }
    size_t bad = 0;
    const size_t before = t.decoded_.size();
    if (!Unescape(raw, t.decoded_, bad)) {
      t.decoded_.resize(before);
      error_at = Offset(raw.data()) + static_cast<int64_t>(bad);
      error_what = "invalid escape sequence in quoted string";
      return false;
    }
    decoded = true;
    begin = static_cast<uint32_t>(before);
    size = static_cast<uint32_t>(t.decoded_.size() - before);
    return true;
  }

  // A bare word (trailing blanks trimmed): null, true/false in any case, a 64-bit integer,
  // else a string.
  void Bare(std::string_view word, uint32_t begin, uint32_t end) {
    while (!word.empty() && static_cast<unsigned char>(word.back()) <= 0x20) word.remove_suffix(1);
    auto ieq = [word](std::string_view lit) {
      if (word.size() != lit.size()) return false;
      for (size_t i = 0; i < word.size(); ++i)
        if ((word[i] | 0x20) != lit[i]) return false;
      return true;
    };
    Kind kind = Kind::kString;
    bool boolean = false;
    int64_t integer = 0;
    if (ieq("null")) {
      kind = Kind::kNull;
    } else if (ieq("true") || ieq("false")) {
      kind = Kind::kBoolean;
      boolean = ieq("true");
    } else {
      size_t digits_from = (!word.empty() && word[0] == '-') ? 1 : 0;
      bool all_digits = word.size() > digits_from;
      for (size_t i = digits_from; i < word.size() && all_digits; ++i) all_digits = word[i] >= '0' && word[i] <= '9';
      if (all_digits) {
        auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), integer);
        if (ec == std::errc() && p == word.data() + word.size()) kind = Kind::kInteger;
      }
    }
    Node& n = Add(kind, begin);
    n.span.end = end;
    n.bare = true;
    n.boolean = boolean;
    n.integer = integer;
    n.text_begin = Offset(word.data());
    n.text_size = static_cast<uint32_t>(word.size());
  }
};

namespace {

struct builder_tag;

// Decodes the JSONTokener escapes of a quoted token (quotes included in `raw`). Returns false
// and sets `error_pos` (index into raw) on a bad escape.
bool Unescape(std::string_view raw, std::string& out, size_t& error_pos) {
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

// ----------------------------------------------------------------------------- actions

auto enter = [](MapFormTree::Kind kind) {
  return [kind](auto& ctx) {
    MapFormBuilder& b = *x3::get<builder_tag>(ctx);
    if (!b.Open(kind, &*x3::_attr(ctx).begin())) x3::_pass(ctx) = false;  // raw[] of the bracket
  };
};
auto const exit_container = [](auto& ctx) { x3::get<builder_tag>(ctx)->Close(&*x3::_attr(ctx).begin()); };

template <typename Ctx>
std::string_view RawOf(Ctx& ctx) {
  auto range = x3::_attr(ctx);
  return std::string_view(&*range.begin(), static_cast<size_t>(range.end() - range.begin()));
}

auto const key_quoted = [](auto& ctx) {
  MapFormBuilder& b = *x3::get<builder_tag>(ctx);
  std::string_view raw = RawOf(ctx);
  bool decoded = false;
  uint32_t begin = 0, size = 0;
  if (!b.Quoted(raw, decoded, begin, size) || !b.TakeKey(b.View(decoded, begin, size), decoded, begin, raw.data()))
    x3::_pass(ctx) = false;
};
auto const key_bare = [](auto& ctx) {
  MapFormBuilder& b = *x3::get<builder_tag>(ctx);
  std::string_view word = RawOf(ctx);
  while (!word.empty() && static_cast<unsigned char>(word.back()) <= 0x20) word.remove_suffix(1);
  if (!b.TakeKey(word, false, b.Offset(word.data()), word.data())) x3::_pass(ctx) = false;
};
auto const value_quoted = [](auto& ctx) {
  MapFormBuilder& b = *x3::get<builder_tag>(ctx);
  std::string_view raw = RawOf(ctx);
  bool decoded = false;
  uint32_t begin = 0, size = 0;
  if (!b.Quoted(raw, decoded, begin, size)) {
    x3::_pass(ctx) = false;
    return;
  }
  MapFormTree::Node& n = b.Add(MapFormTree::Kind::kString, b.Offset(raw.data()));
  n.span.end = b.Offset(raw.data() + raw.size());
  n.text_decoded = decoded;
  n.text_begin = begin;
  n.text_size = size;
};
auto const value_bare = [](auto& ctx) {
  MapFormBuilder& b = *x3::get<builder_tag>(ctx);
  std::string_view word = RawOf(ctx);
  b.Bare(word, b.Offset(word.data()), b.Offset(word.data() + word.size()));
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
// What JSONTokener.nextClean skips before a token. It is parsed where a token may start,
// once, rather than as X3's skipper (which every primitive, every alternative of a value
// among them, runs again). It is placed where the skipper would have consumed it, so that
// an expectation fails at the same offset: after the blanks before a token that is not
// there, but before them where a whole value is expected.
auto const ws = x3::omit[*(blank | comment)];

auto const dq_raw = x3::raw[x3::lit('"') >> *((x3::lit('\\') >> expect(kEscaped, escaped_char)) | dq_char) >>
                            expect(kCloseDq, x3::lit('"'))];
auto const sq_raw = x3::raw[x3::lit('\'') >> *((x3::lit('\\') >> expect(kEscaped, escaped_char)) | sq_char) >>
                            expect(kCloseSq, x3::lit('\''))];
auto const bare_raw = x3::raw[+bare_char];
auto const item_sep = x3::lit(',') | x3::lit(';');
auto const kv_sep = x3::lit("=>") | x3::lit('=') | x3::lit(':');

x3::rule<class value_r> const value = "value";
x3::rule<class object_r> const object = "object";
x3::rule<class array_r> const array = "list";
x3::rule<class key_r> const key = "key";
x3::rule<class member_r> const member = "member";

auto const key_def = ws >> (dq_raw[key_quoted] | sq_raw[key_quoted] | bare_raw[key_bare]);
auto const member_def = key >> ws >> expect(kKvSep, kv_sep) >> expect(kValue, value);
auto const object_def = x3::raw[x3::lit('{')][enter(MapFormTree::Kind::kMap)] >> -(member % (ws >> item_sep)) >> ws >>
                        -item_sep >> ws >> expect(kCloseMap, x3::raw[x3::lit('}')][exit_container]);
auto const array_def = x3::raw[x3::lit('[')][enter(MapFormTree::Kind::kList)] >> -(value % (ws >> item_sep)) >> ws >>
                       -item_sep >> ws >> expect(kCloseList, x3::raw[x3::lit(']')][exit_container]);
auto const value_def = ws >> (object | array | dq_raw[value_quoted] | sq_raw[value_quoted] | bare_raw[value_bare]);

BOOST_SPIRIT_DEFINE(value, object, array, key, member)

auto const document = expect(kValue, value) >> ws >> expect(kEnd, x3::eoi);

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

absl::Status ParseMapForm(std::string_view text, int max_depth, MapFormTree& tree) {
  // The tree holds 32-bit offsets into the text.
  if (text.size() > UINT32_MAX - 1)
    return MakeError(ErrorCode::kTooMany, absl::StrCat("map-form plan of ", text.size(), " bytes: at most 4 GiB"));
  MapFormBuilder b{tree};
  b.Reset(text);
  b.base = text.data();
  b.max_depth = std::clamp(max_depth, 0, kMaxNestingDepthCap);  // the grammar recurses once per level
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") first += 3;  // a UTF-8 BOM; offsets stay those of `text`
  bool ok = false;
  int64_t fail_at = 0;
  std::string fail_what;
  try {
    ok = x3::parse(first, last, x3::with<builder_tag>(&b)[document]);
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
  if (!b.Complete()) return Error(ErrorCode::kInvalidSyntax, text, 0, "expected a value");
  return absl::OkStatus();
}

}  // namespace preflight
