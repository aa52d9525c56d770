#include "engine/codecs/json_strict.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/util/error.h"
#include "engine/util/limits.h"
#include "engine/util/utf8.h"

namespace preflight::json_strict {

size_t BomLength(std::string_view text) { return text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0; }

namespace {
int EffectiveDepth(int max_depth) { return std::clamp(max_depth, 1, kMaxNestingDepthCap); }
}  // namespace

simdjson::error_code Parse(simdjson::dom::parser& parser, std::string_view text, int max_depth,
                           simdjson::dom::element& out) {
  // simdjson counts the document itself as a level: depth + 1 admits `depth` containers.
  const size_t depth = static_cast<size_t>(EffectiveDepth(max_depth)) + 1;
  if (parser.max_depth() != depth || parser.capacity() < text.size()) {
    size_t capacity = std::max<size_t>(parser.capacity(), std::max<size_t>(text.size(), 4096));
    if (auto err = parser.allocate(capacity, depth)) return err;
  }
  return parser.parse(text.data(), text.size()).get(out);
}

namespace {

void AppendPointerSegment(std::string& out, std::string_view key) {
  out.push_back('/');
  for (char ch : key) {
    if (ch == '~') out += "~0";
    else if (ch == '/') out += "~1";
    else out.push_back(ch);
  }
}

// The repeated key of one object, if any: pairwise for the usual few keys, hashed beyond.
std::optional<std::string_view> RepeatedKey(simdjson::dom::object object) {
  constexpr size_t kPairwise = 16;
  if (object.size() <= kPairwise) {
    std::string_view seen[kPairwise];
    size_t n = 0;
    for (auto [key, value] : object) {
      for (size_t i = 0; i < n; ++i)
        if (seen[i] == key) return key;
      seen[n++] = key;
    }
    return std::nullopt;
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (auto [key, value] : object)
    if (!seen.insert(ToAbsl(key)).second) return key;
  return std::nullopt;
}

}  // namespace

std::optional<DuplicateKey> FirstDuplicateKey(simdjson::dom::element root) {
  // Depth-first, document order, with an explicit stack: one frame per open container, the
  // frame remembering which child (key or index) it descended into, for the pointer.
  struct Frame {
    simdjson::dom::element container;
    bool is_object = false;
    simdjson::dom::object::iterator object_at;
    simdjson::dom::array::iterator array_at;
    size_t index = 0;
    std::string_view key;  // the child being visited (objects)
  };
  // Plans and requests nest a few levels: the stack stays inline, no allocation per call.
  using Stack = absl::InlinedVector<Frame, 16>;
  auto pointer_of = [](const Stack& stack, std::string_view last) {
    std::string out;
    for (size_t i = 0; i + 1 < stack.size(); ++i) {
      if (stack[i].is_object) AppendPointerSegment(out, stack[i].key);
      else absl::StrAppend(&out, "/", stack[i].index - 1);
    }
    AppendPointerSegment(out, last);
    return out;
  };
  Stack stack;
  auto open = [&](simdjson::dom::element e) -> std::optional<DuplicateKey> {
    if (e.type() == simdjson::dom::element_type::OBJECT) {
      simdjson::dom::object object = e.get_object().value_unsafe();
      Frame f{e, true, object.begin(), {}, 0, {}};
      stack.push_back(f);
      if (auto key = RepeatedKey(object)) return DuplicateKey{pointer_of(stack, *key), std::string(*key)};
    } else if (e.type() == simdjson::dom::element_type::ARRAY) {
      simdjson::dom::array array = e.get_array().value_unsafe();
      stack.push_back(Frame{e, false, {}, array.begin(), 0, {}});
    }
    return std::nullopt;
  };
  if (auto dup = open(root)) return dup;
  while (!stack.empty()) {
    Frame& top = stack.back();
    simdjson::dom::element child;
    if (top.is_object) {
      simdjson::dom::object object = top.container.get_object().value_unsafe();
      if (top.object_at == object.end()) {
        stack.pop_back();
        continue;
      }
      top.key = top.object_at.key();
      child = top.object_at.value();
      ++top.object_at;
    } else {
      simdjson::dom::array array = top.container.get_array().value_unsafe();
      if (top.array_at == array.end()) {
        stack.pop_back();
        continue;
      }
      child = *top.array_at;
      ++top.array_at;
      ++top.index;  // one past the child being visited
    }
    if (auto dup = open(child)) return dup;
  }
  return std::nullopt;
}

namespace {

// RFC 8259 scanner state: the text, the cursor, and the open containers.
class Scanner {
 public:
  explicit Scanner(std::string_view t) : t_(t) {}

  std::optional<SyntaxError> Run();

 private:
  enum class Expect { kValue, kFirstValue, kKey, kFirstKey, kAfterValue };

  std::optional<SyntaxError> Fail(std::string what) const { return SyntaxError{i_, std::move(what)}; }
  void SkipBlank() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool AtEnd() const { return i_ >= t_.size(); }
  std::optional<SyntaxError> Value(Expect& next);
  std::optional<SyntaxError> Key(Expect& next);
  std::optional<SyntaxError> AfterValue(Expect& next, bool& done);
  std::optional<SyntaxError> String();
  std::optional<SyntaxError> Number();
  std::optional<SyntaxError> Escape();
  size_t Utf8Length() const;

  std::string_view t_;
  size_t i_ = 0;
  std::vector<char> open_;  // '{' or '['
};

std::optional<SyntaxError> Scanner::Run() {
  Expect next = Expect::kValue;
  for (bool done = false; !done;) {
    SkipBlank();
    std::optional<SyntaxError> e;
    switch (next) {
      case Expect::kValue:
      case Expect::kFirstValue: e = Value(next); break;
      case Expect::kKey:
      case Expect::kFirstKey: e = Key(next); break;
      case Expect::kAfterValue: e = AfterValue(next, done); break;
    }
    if (e) return e;
  }
  return std::nullopt;
}

std::optional<SyntaxError> Scanner::Value(Expect& next) {
  if (AtEnd()) return Fail("expected a value, found the end of the text");
  const char c = t_[i_];
  if (next == Expect::kFirstValue && c == ']') {
    open_.pop_back();
    ++i_;
    next = Expect::kAfterValue;
    return std::nullopt;
  }
  next = Expect::kAfterValue;
  if (c == '{' || c == '[') {
    open_.push_back(c);
    ++i_;
    next = c == '{' ? Expect::kFirstKey : Expect::kFirstValue;
    return std::nullopt;
  }
  if (c == '"') return String();
  if (c == '-' || (c >= '0' && c <= '9')) return Number();
  for (std::string_view word : {"true", "false", "null"}) {
    if (t_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return std::nullopt;
    }
  }
  if (c == '\'') return Fail("strings take double quotes in JSON, not single quotes");
  return Fail("expected a value (a string, number, object, array, true, false or null)");
}

std::optional<SyntaxError> Scanner::Key(Expect& next) {
  if (AtEnd()) return Fail("expected a key in double quotes, found the end of the text");
  if (next == Expect::kFirstKey && t_[i_] == '}') {
    open_.pop_back();
    ++i_;
    next = Expect::kAfterValue;
    return std::nullopt;
  }
  if (t_[i_] != '"') {
    return Fail(next == Expect::kFirstKey ? "expected a key in double quotes or '}'"
                                          : "expected a key in double quotes after ','");
  }
  if (auto e = String()) return e;
  SkipBlank();
  if (AtEnd() || t_[i_] != ':') return Fail("expected ':' after the key");
  ++i_;
  next = Expect::kValue;
  return std::nullopt;
}

std::optional<SyntaxError> Scanner::AfterValue(Expect& next, bool& done) {
  if (open_.empty()) {
    if (!AtEnd()) return Fail("unexpected text after the JSON value");
    done = true;
    return std::nullopt;
  }
  const bool in_object = open_.back() == '{';
  if (AtEnd()) {
    return Fail(in_object ? "expected ',' or '}', found the end of the text"
                          : "expected ',' or ']', found the end of the text");
  }
  const char c = t_[i_];
  if (c == ',') {
    ++i_;
    next = in_object ? Expect::kKey : Expect::kValue;
    return std::nullopt;
  }
  if (c == (in_object ? '}' : ']')) {
    open_.pop_back();
    ++i_;
    return std::nullopt;
  }
  return Fail(in_object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array item");
}

size_t Scanner::Utf8Length() const {
  uint32_t cp;
  return DecodeUtf8(reinterpret_cast<const unsigned char*>(t_.data()) + i_, t_.size() - i_, cp);
}

std::optional<SyntaxError> Scanner::Escape() {
  // At the backslash.
  if (i_ + 1 >= t_.size()) return Fail("unterminated string");
  const char e = t_[i_ + 1];
  if (e == 'u') {
    for (size_t k = i_ + 2; k < i_ + 6; ++k) {
      if (k >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[k])))
        return Fail("invalid \\u escape: expected four hex digits");
    }
    i_ += 6;
    return std::nullopt;
  }
  if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos)
    return Fail("invalid escape sequence in a string");
  i_ += 2;
  return std::nullopt;
}

std::optional<SyntaxError> Scanner::String() {
  const size_t start = i_++;
  for (;;) {
    if (AtEnd()) return SyntaxError{start, "unterminated string"};
    const unsigned char c = static_cast<unsigned char>(t_[i_]);
    if (c == '"') {
      ++i_;
      return std::nullopt;
    }
    if (c < 0x20) return Fail("unescaped control character in a string (write it as a \\u escape)");
    if (c == '\\') {
      if (auto e = Escape()) return e;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8Length();
      if (n == 0) return Fail("invalid UTF-8 in a string");
      i_ += n;
      continue;
    }
    ++i_;
  }
}

std::optional<SyntaxError> Scanner::Number() {
  auto digits = [&] {
    size_t from = i_;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    return i_ - from;
  };
  if (t_[i_] == '-') ++i_;
  if (i_ < t_.size() && t_[i_] == '0') {
    ++i_;
  } else if (digits() == 0) {
    return Fail("expected a digit in a number");
  }
  if (i_ < t_.size() && t_[i_] == '.') {
    ++i_;
    if (digits() == 0) return Fail("expected a digit after the decimal point");
  }
  if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
    ++i_;
    if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
    if (digits() == 0) return Fail("expected a digit in the exponent");
  }
  return std::nullopt;
}

}  // namespace

std::optional<SyntaxError> FindSyntaxError(std::string_view text) { return Scanner(text).Run(); }

absl::Status ParseError(simdjson::error_code err, std::string_view subject, std::string_view original, size_t bom,
                        int max_depth) {
  if (err == simdjson::DEPTH_ERROR) {
    return MakeError(ErrorCode::kTooMany, absl::StrCat(ToAbsl(subject), " nests deeper than the budget of ",
                                                       EffectiveDepth(max_depth), " levels (max_nesting_depth)"));
  }
  if (err == simdjson::CAPACITY || err == simdjson::MEMALLOC) {
    return MakeError(ErrorCode::kTooMany,
                     absl::StrCat(ToAbsl(subject), " is too large: ", simdjson::error_message(err)));
  }
  std::optional<SyntaxError> found = FindSyntaxError(original.substr(bom));
  if (!found) {  // the scanner saw nothing simdjson did (a rare corner): its words, no place
    return MakeError(ErrorCode::kInvalidSyntax,
                     absl::StrCat(ToAbsl(subject), " is not valid JSON: ", simdjson::error_message(err)));
  }
  const size_t at = bom + found->offset;
  Location where = LocationAt(original, at);
  where.offset = static_cast<int64_t>(at);
  return MakeError(ErrorCode::kInvalidSyntax,
                   absl::StrCat(ToAbsl(subject), " is not valid JSON at byte ", at, ": ", found->what), where);
}

}  // namespace preflight::json_strict
