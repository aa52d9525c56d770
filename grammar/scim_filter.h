#pragma once
// SCIM 2.0 filters (RFC 7644 sec 3.4.2.2) and PATCH paths (sec 3.5.2): text in, AST out.
//
// The grammar is the effective grammar of research/scim-filter.md sec 1.3: case-insensitive
// keywords and attribute names, case-sensitive true/false/null, JSON strings and numbers,
// runs of SP/HTAB between tokens, `not (` with or without the space, `$ref`, no nested
// valuePath, RFC precedence (grouping > attribute operators > not > and > or).
// The parser is Boost.Spirit X3, kept inside scim_filter.cc so that this header stays light;
// the printers are in scim_filter_print.cc.
//
// Errors: ErrorCode::kInvalidFilter (kInvalidPath for ParseScimPath) with the byte offset of
// the problem and a caret message. Budgets: a filter longer than max_length bytes, or nested
// deeper than max_depth (each "(", "[" and "not" counts one level), is ErrorCode::kTooMany,
// as for every other budget of engine/util/limits.h; the message names the budget. The
// grammar recurses once per level, never deeper than kMaxFilterDepthCap (limits.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/util/limits.h"
#include "grammar/source_span.h"

namespace preflight {

enum class CompareOp : uint8_t { kEq, kNe, kCo, kSw, kEw, kGt, kGe, kLt, kLe };
std::string_view CompareOpName(CompareOp op);  // lower-case: "eq", "ne", ...

enum class LiteralKind : uint8_t { kString, kNumber, kTrue, kFalse, kNull };

struct FilterLiteral {
  LiteralKind kind = LiteralKind::kNull;
  // kString: the decoded value (UTF-8); kNumber: the number exactly as written ("100e+2").
  std::string text;
  SourceSpan span;
  bool operator==(const FilterLiteral& o) const { return kind == o.kind && text == o.text; }
};

// attrPath = [URI ":"] ATTRNAME ["." subAttr]. The URI is everything before the last ':'.
struct AttrPath {
  std::string uri;   // empty when not qualified
  std::string name;  // as written
  std::string sub;   // empty when absent
  SourceSpan span;
  // The path as written ("urn:...:User:name.givenName").
  std::string ToString() const;
  // Case-insensitive equality of all three parts.
  bool EqualsIgnoreCase(const AttrPath& o) const;
};

enum class FilterKind : uint8_t { kCompare, kPresent, kAnd, kOr, kNot, kValuePath };

struct FilterNode {
  FilterKind kind = FilterKind::kPresent;
  SourceSpan span;
  CompareOp op = CompareOp::kEq;     // kCompare
  AttrPath path;                     // kCompare, kPresent, kValuePath
  FilterLiteral value;               // kCompare
  std::vector<FilterNode> children;  // kAnd/kOr: two or more; kNot, kValuePath: exactly one
};

struct FilterAst {
  FilterNode root;
};

// PATH = attrPath / valuePath [subAttr]
struct PathAst {
  AttrPath attr;
  std::optional<FilterNode> filter;  // the valuePath filter, when present
  std::string sub_attr;              // after "]", empty when absent
  SourceSpan span;
};

struct FilterParseOptions {
  size_t max_length = DefaultLimits().max_filter_length;
  int max_depth = DefaultLimits().max_filter_depth;

  static FilterParseOptions From(const Limits& limits) {
    FilterParseOptions o;
    o.max_length = limits.max_filter_length;
    o.max_depth = limits.max_filter_depth;
    return o;
  }
};

absl::StatusOr<FilterAst> ParseScimFilter(std::string_view text, const FilterParseOptions& options = {});
absl::StatusOr<PathAst> ParseScimPath(std::string_view text, const FilterParseOptions& options = {});

// The S-expression notation of tests/corpus/scim-filter/SOURCES.md:
// (and (eq userType "Employee") (pr title)); same-operator chains flattened; strings JSON-encoded
// with non-ASCII as lower-case \uXXXX; numbers as written; paths printed as written.
std::string ToSexpr(const FilterNode& node);
std::string ToSexpr(const FilterAst& ast);
std::string ToSexpr(const PathAst& path);  // (path attr), (path attr F), (path attr F sub)

// Back to SCIM filter text that parses to an equal AST (compared with ToSexpr).
std::string ToFilterText(const FilterNode& node);
std::string ToFilterText(const FilterAst& ast);
std::string ToPathText(const PathAst& path);

}  // namespace preflight
