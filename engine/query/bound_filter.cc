#include "engine/query/bound_filter.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {
namespace {

constexpr uint32_t kSynthFalse = UINT32_MAX - 1;  // "primary" not specified: assumed false
const DocNode kFalseNode = [] {
  DocNode n;
  n.type = DocType::kBool;
  return n;
}();

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool IsOrdering(CompareOp op) {
  return op == CompareOp::kGt || op == CompareOp::kGe || op == CompareOp::kLt || op == CompareOp::kLe;
}
bool IsSubstring(CompareOp op) { return op == CompareOp::kCo || op == CompareOp::kSw || op == CompareOp::kEw; }

template <typename T>
bool Order(CompareOp op, const T& a, const T& b) {
  switch (op) {
    case CompareOp::kEq: return a == b;
    case CompareOp::kNe: return !(a == b);
    case CompareOp::kGt: return b < a;
    case CompareOp::kGe: return !(a < b);
    case CompareOp::kLt: return a < b;
    case CompareOp::kLe: return !(b < a);
    default: return false;
  }
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseDateTime(std::string_view s, DateTime* out) {
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || s[10] != 'T' || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se))
    return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi != 0 || se != 0))) return false;
  size_t p = 19;
  int64_t nanos = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t start = p;
    int64_t scale = 100000000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      nanos += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return false;
  }
  int64_t offset = 0;
  if (p < s.size()) {
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (!Digits(s, p + 1, 2, &oh) || p + 3 >= s.size() || s[p + 3] != ':' || !Digits(s, p + 4, 2, &om) ||
          oh > 14 || om > 59)
        return false;
      offset = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
      p += 6;
    } else {
      return false;
    }
  }
  if (p != s.size()) return false;
  out->seconds = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                 h * 3600 + mi * 60 + se - offset;
  out->nanos = static_cast<int32_t>(nanos);
  return true;
}

// ------------------------------------------------------------------ schema

ResourceSchema::ResourceSchema(std::string_view core_urn) : core_urn_lower_(AsciiLower(core_urn)) {}

ResourceSchema ResourceSchema::WithScimDefaults(std::string_view core_urn) {
  ResourceSchema s(core_urn);
  AttrInfo exact;
  exact.type = AttrType::kString;
  exact.case_exact = true;
  s.attributes_["id"] = exact;
  s.attributes_["externalid"] = exact;
  s.attributes_["meta|version"] = exact;
  AttrInfo time;
  time.type = AttrType::kDateTime;
  s.attributes_["meta|created"] = time;
  s.attributes_["meta|lastmodified"] = time;
  AttrInfo never;
  never.type = AttrType::kString;
  never.returned_never = true;
  s.attributes_["password"] = never;
  return s;
}

absl::Status ResourceSchema::Declare(std::string_view path, AttrInfo info) {
  absl::StatusOr<PathAst> p = ParseScimPath(path);
  if (!p.ok()) return p.status();
  if (p->filter) return MakeError(ErrorCode::kInvalidPath, "an attribute declaration cannot hold a filter");
  attributes_[Canonical(KeysOf(p->attr))] = info;
  return absl::OkStatus();
}

absl::Status ResourceSchema::DeclareCaseExact(std::string_view path) {
  AttrInfo info;
  info.type = AttrType::kString;
  info.case_exact = true;
  return Declare(path, info);
}

absl::Status ResourceSchema::DeclareDateTime(std::string_view path) {
  AttrInfo info;
  info.type = AttrType::kDateTime;
  return Declare(path, info);
}

const AttrInfo* ResourceSchema::Find(std::string_view key) const {
  auto it = attributes_.find(ToAbsl(key));
  return it == attributes_.end() ? nullptr : &it->second;
}

std::vector<std::string> ResourceSchema::KeysOf(const AttrPath& path) const {
  std::vector<std::string> keys;
  if (!path.uri.empty()) {
    std::string uri = AsciiLower(path.uri);
    bool core = core_urn_lower_.empty() ? StartsWith(uri, "urn:ietf:params:scim:schemas:core:")
                                        : uri == core_urn_lower_;
    if (!core) keys.push_back(std::move(uri));
  }
  keys.push_back(AsciiLower(path.name));
  if (!path.sub.empty()) keys.push_back(AsciiLower(path.sub));
  return keys;
}

std::string ResourceSchema::Canonical(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += '|';
    out += k;
  }
  return out;
}

// ------------------------------------------------------------------ binder

class FilterBinder {
 public:
  FilterBinder(const ResourceSchema& schema, BoundFilter& out, std::string text) : schema_(schema), out_(out) {
    out_.text_ = std::move(text);
  }

  absl::StatusOr<uint32_t> Bind(const FilterNode& n, const std::vector<std::string>* parent) {
    uint32_t index = static_cast<uint32_t>(out_.nodes_.size());
    out_.nodes_.emplace_back();
    BoundFilter::Node b;
    b.kind = n.kind;
    b.op = n.op;
    b.span = n.span;
    std::vector<std::string> keys;
    if (n.kind == FilterKind::kCompare || n.kind == FilterKind::kPresent || n.kind == FilterKind::kValuePath) {
      std::vector<std::string> schema_keys;
      if (parent) {
        // Inside brackets paths are relative to the parent's value (a URN there is ignored).
        keys.push_back(AsciiLower(n.path.name));
        if (!n.path.sub.empty()) keys.push_back(AsciiLower(n.path.sub));
        schema_keys = *parent;
        schema_keys.insert(schema_keys.end(), keys.begin(), keys.end());
      } else {
        keys = schema_.KeysOf(n.path);
        schema_keys = keys;
      }
      if (keys.size() > 3) return Error(n.span.begin, "attribute path too deep");
      if (const AttrInfo* info = schema_.Find(ResourceSchema::Canonical(schema_keys))) b.info = *info;
      // An ancestor declared returned=never hides its sub-attributes too.
      for (size_t i = 1; i < schema_keys.size(); ++i) {
        std::vector<std::string> prefix(schema_keys.begin(), schema_keys.begin() + static_cast<long>(i));
        if (const AttrInfo* info = schema_.Find(ResourceSchema::Canonical(prefix)); info && info->returned_never)
          b.info.returned_never = true;
      }
      b.never = b.info.returned_never;
      b.nkeys = static_cast<uint8_t>(keys.size());
      for (size_t i = 0; i < keys.size(); ++i) {
        b.key_off[i] = static_cast<uint32_t>(out_.keys_.size());
        b.key_len[i] = static_cast<uint32_t>(keys[i].size());
        out_.keys_ += keys[i];
      }
      b.primary_default = keys.back() == "primary" && (keys.size() >= 2 || parent != nullptr);
      if (n.kind == FilterKind::kValuePath) {
        auto child = Bind(n.children.at(0), &schema_keys);
        if (!child.ok()) return child.status();
        b.child_first = static_cast<uint32_t>(out_.children_.size());
        b.child_count = 1;
        out_.children_.push_back(*child);
      }
    }
    if (n.kind == FilterKind::kCompare) {
      absl::Status s = BindLiteral(n, b);
      if (!s.ok()) return s;
    }
    if (n.kind == FilterKind::kAnd || n.kind == FilterKind::kOr || n.kind == FilterKind::kNot) {
      std::vector<uint32_t> kids;
      for (const FilterNode& c : n.children) {
        auto child = Bind(c, parent);
        if (!child.ok()) return child.status();
        kids.push_back(*child);
      }
      b.child_first = static_cast<uint32_t>(out_.children_.size());
      b.child_count = static_cast<uint32_t>(kids.size());
      out_.children_.insert(out_.children_.end(), kids.begin(), kids.end());
    }
    out_.nodes_[index] = b;
    return index;
  }

 private:
  absl::Status BindLiteral(const FilterNode& n, BoundFilter::Node& b) {
    b.lit = n.value.kind;
    const AttrType type = b.info.type;
    if (IsOrdering(n.op)) {
      if (b.lit == LiteralKind::kNull)
        return Error(n.value.span.begin, "gt/ge/lt/le cannot compare with null");
      if (type == AttrType::kBoolean || type == AttrType::kBinary)
        return Error(n.span.begin, "gt/ge/lt/le are not defined on boolean and binary attributes "
                                   "(RFC 7644 sec 3.4.2.2)");
      if ((b.lit == LiteralKind::kTrue || b.lit == LiteralKind::kFalse) && type != AttrType::kInferred)
        return Error(n.value.span.begin, "gt/ge/lt/le cannot compare with a boolean");
    }
    if (b.lit == LiteralKind::kString) {
      b.str_off = static_cast<uint32_t>(out_.keys_.size());
      b.str_len = static_cast<uint32_t>(n.value.text.size());
      out_.keys_ += n.value.text;
      b.lower_off = static_cast<uint32_t>(out_.keys_.size());
      out_.keys_ += AsciiLower(n.value.text);
      b.datetime_literal = ParseDateTime(n.value.text, &b.time);
      if (type == AttrType::kDateTime && !IsSubstring(n.op) && !b.datetime_literal)
        return Error(n.value.span.begin, "the value is not a valid dateTime (e.g. 2015-02-27T11:29:39Z)");
    } else if (b.lit == LiteralKind::kNumber) {
      const std::string& t = n.value.text;
      const char* e = t.data() + t.size();
      std::from_chars(t.data(), e, b.number);
      if (t.find_first_of(".eE") == std::string::npos) {
        auto r = std::from_chars(t.data(), e, b.int_value);
        b.lit_is_int = r.ec == std::errc() && r.ptr == e;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Error(uint32_t offset, std::string_view what) {
    Location where;
    where.offset = offset;
    return MakeError(ErrorCode::kInvalidFilter, CaretMessage(out_.text_, offset, what), where);
  }

  const ResourceSchema& schema_;
  BoundFilter& out_;
};

absl::StatusOr<BoundFilter> BindFilter(const FilterAst& ast, const ResourceSchema& schema, std::string_view text) {
  BoundFilter out;
  FilterBinder binder(schema, out, text.empty() ? ToFilterText(ast) : std::string(text));
  auto root = binder.Bind(ast.root, nullptr);
  if (!root.ok()) return root.status();
  return out;
}

absl::StatusOr<BoundFilter> CompileFilter(std::string_view text, const ResourceSchema& schema,
                                          const FilterParseOptions& options) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(text, options);
  if (!ast.ok()) return ast.status();
  return BindFilter(*ast, schema, text);
}

// ------------------------------------------------------------------ evaluation

namespace {
bool IsPresent(const Doc& d, uint32_t v) {
  const DocNode& x = d.node(v);
  switch (x.type) {
    case DocType::kNull: return false;
    case DocType::kString: return x.size > 0;
    case DocType::kArray:
    case DocType::kObject:
      for (uint32_t i = 0; i < x.size; ++i)
        if (IsPresent(d, x.first + i)) return true;
      return false;
    default: return true;
  }
}
}  // namespace

// Calls f(value) for every value the node's path designates under `base`; f returns true to
// stop. Multi-valued attributes at any level are flattened (any-match). In compare mode a
// complex value without a sub-attribute stands for its "value" sub-attribute.
template <typename F>
bool BoundFilter::Visit(const Doc& d, const Node& n, uint32_t base, bool presence, F&& f) const {
  if (n.never) return false;
  auto leaf = [&](uint32_t v) -> bool {
    if (!presence && d.node(v).type == DocType::kObject) {
      uint32_t inner = d.Find(v, "value");
      return inner != Doc::kNone && f(inner);
    }
    return f(v);
  };
  // A simple multi-valued element inside brackets: "value" is the element itself.
  const DocNode& b = d.node(base);
  if (b.type != DocType::kObject && b.type != DocType::kArray) {
    return n.nkeys == 1 && Key(n, 0) == "value" && leaf(base);
  }
  auto walk = [&](auto&& self, uint32_t cur, int i) -> bool {
    const DocNode& c = d.node(cur);
    if (i == n.nkeys) {
      if (c.type == DocType::kArray) {
        for (uint32_t k = 0; k < c.size; ++k)
          if (leaf(c.first + k)) return true;
        return false;
      }
      return leaf(cur);
    }
    if (c.type == DocType::kArray) {
      for (uint32_t k = 0; k < c.size; ++k)
        if (self(self, c.first + k, i)) return true;
      return false;
    }
    if (c.type != DocType::kObject) return false;
    uint32_t v = d.Find(cur, Key(n, i));
    if (v == Doc::kNone) {
      if (!presence && n.primary_default && i + 1 == n.nkeys) return f(kSynthFalse);
      return false;
    }
    return self(self, v, i + 1);
  };
  return walk(walk, base, 0);
}

bool BoundFilter::AnyPresent(const Doc& d, const Node& n, uint32_t base) const {
  return Visit(d, n, base, true, [&](uint32_t v) { return IsPresent(d, v); });
}

BoundFilter::Result BoundFilter::CompareValue(const Doc& d, const Node& n, uint32_t v) const {
  const DocNode& x = v == kSynthFalse ? kFalseNode : d.node(v);
  const CompareOp op = n.op == CompareOp::kNe ? CompareOp::kEq : n.op;
  const bool ordering = IsOrdering(op);
  auto yes = [](bool b) { return b ? Result::kTrue : Result::kFalse; };
  if (x.type == DocType::kNull) return Result::kFalse;
  switch (n.lit) {
    case LiteralKind::kString: {
      if (x.type == DocType::kBool) return ordering ? Result::kError : Result::kFalse;
      if (x.type != DocType::kString) return Result::kFalse;
      if (n.datetime_literal && !IsSubstring(op) &&
          (n.info.type == AttrType::kDateTime || n.info.type == AttrType::kInferred)) {
        DateTime t;
        if (ParseDateTime(d.str(x), &t)) return yes(Order(op, t, n.time));
        if (n.info.type == AttrType::kDateTime) return Result::kFalse;
      }
      const bool exact = n.info.case_exact;
      std::string_view a = exact ? d.str(x) : d.lower_str(x);
      std::string_view b = exact ? Lit(n) : LowerLit(n);
      switch (op) {
        case CompareOp::kCo: return yes(a.find(b) != std::string_view::npos);
        case CompareOp::kSw: return yes(StartsWith(a, b));
        case CompareOp::kEw: return yes(EndsWith(a, b));
        default: return yes(Order(op, a, b));
      }
    }
    case LiteralKind::kNumber:
      if (x.type == DocType::kBool) return ordering ? Result::kError : Result::kFalse;
      if (x.type != DocType::kNumber || IsSubstring(op)) return Result::kFalse;
      if (x.is_int && n.lit_is_int) return yes(Order(op, x.int_value, n.int_value));
      return yes(Order(op, x.number, n.number));
    case LiteralKind::kTrue:
    case LiteralKind::kFalse:
      if (ordering) return Result::kError;
      if (op != CompareOp::kEq || x.type != DocType::kBool) return Result::kFalse;
      return yes(x.bool_value == (n.lit == LiteralKind::kTrue));
    case LiteralKind::kNull:
      return Result::kFalse;
  }
  return Result::kFalse;
}

BoundFilter::Result BoundFilter::EvalCompare(const Doc& d, const Node& n, uint32_t base, uint32_t* error_node,
                                             uint32_t self) const {
  if (n.lit == LiteralKind::kNull && (n.op == CompareOp::kEq || n.op == CompareOp::kNe)) {
    bool is_null = !AnyPresent(d, n, base);
    return (n.op == CompareOp::kEq) == is_null ? Result::kTrue : Result::kFalse;
  }
  Result r = Result::kFalse;
  Visit(d, n, base, false, [&](uint32_t v) {
    Result x = CompareValue(d, n, v);
    if (x == Result::kFalse) return false;
    r = x;
    return true;
  });
  if (r == Result::kError) {
    *error_node = self;
    return r;
  }
  if (n.op == CompareOp::kNe) return r == Result::kTrue ? Result::kFalse : Result::kTrue;
  return r;
}

BoundFilter::Result BoundFilter::Eval(const Doc& d, uint32_t index, uint32_t base, uint32_t* error_node) const {
  const Node& n = nodes_[index];
  switch (n.kind) {
    case FilterKind::kCompare: return EvalCompare(d, n, base, error_node, index);
    case FilterKind::kPresent: return AnyPresent(d, n, base) ? Result::kTrue : Result::kFalse;
    case FilterKind::kAnd:
      for (uint32_t i = 0; i < n.child_count; ++i) {
        Result r = Eval(d, children_[n.child_first + i], base, error_node);
        if (r != Result::kTrue) return r;
      }
      return Result::kTrue;
    case FilterKind::kOr:
      for (uint32_t i = 0; i < n.child_count; ++i) {
        Result r = Eval(d, children_[n.child_first + i], base, error_node);
        if (r != Result::kFalse) return r;
      }
      return Result::kFalse;
    case FilterKind::kNot: {
      Result r = Eval(d, children_[n.child_first], base, error_node);
      return r == Result::kError ? r : (r == Result::kTrue ? Result::kFalse : Result::kTrue);
    }
    case FilterKind::kValuePath: {
      Result r = Result::kFalse;
      const uint32_t child = children_[n.child_first];
      Visit(d, n, base, true, [&](uint32_t element) {
        Result x = Eval(d, child, element, error_node);
        if (x == Result::kFalse) return false;
        r = x;
        return true;
      });
      return r;
    }
  }
  return Result::kFalse;
}

BoundFilter::Result BoundFilter::Evaluate(const Doc& doc) const {
  if (doc.empty() || nodes_.empty()) return Result::kFalse;
  uint32_t error_node = 0;
  return Eval(doc, 0, doc.root(), &error_node);
}

absl::Status BoundFilter::ErrorFor(const Doc& doc) const {
  uint32_t error_node = 0;
  if (doc.empty() || nodes_.empty() || Eval(doc, 0, doc.root(), &error_node) != Result::kError)
    return absl::OkStatus();
  const Node& n = nodes_[error_node];
  Location where;
  where.offset = n.span.begin;
  return MakeError(ErrorCode::kInvalidFilter,
                   CaretMessage(text_, n.span.begin,
                                "gt/ge/lt/le are not defined on boolean values (RFC 7644 sec 3.4.2.2)"),
                   where);
}

absl::StatusOr<bool> BoundFilter::Matches(const Doc& doc) const {
  Result r = Evaluate(doc);
  if (r == Result::kError) return ErrorFor(doc);
  return r == Result::kTrue;
}

}  // namespace preflight
