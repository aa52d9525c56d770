#pragma once
// The lenient Java `Map.toString` form of a ProvisioningPlan, as IdentityIQ 7.x read it
// through flexjson 2.1's JSONTokener (docs/semantics.md, "Plan forms"):
//
//   {accounts=[{op=Modify, instance=null, application=Active_Directory,
//               attributes=[{op=Add, name=groupmbr, value=UnixAdministration}], nativeIdentity=null}]}
//
// Rules (JSONTokener's): a key is separated from its value by `=`, `=>` or `:`; members and
// items are separated by `,` or `;` (a trailing separator is allowed); an unquoted word runs
// until a control character or one of  , : ] } / \ " [ { ; = #  and is trimmed; a bare
// null/true/false (any case) is a literal and a bare -?[0-9]+ that fits 64 bits an integer;
// everything else bare is a string ("1.5" too). "..." and '...' strings take the JSON
// escapes plus \'. Comments `//...`, `/*...*/` and `#...` are skipped as the tokenizer does.
//
// Text in, AST out; the Spirit X3 grammar lives in plan_map.cc only. Errors are
// ErrorCode::kInvalidSyntax with line, column, byte offset and a caret message naming the
// expected token in words (a value that runs into , = { } [ is told to use the JSON form);
// a key repeated in one map is ErrorCode::kInvalidValue with its JSON pointer; nesting deeper
// than max_depth ({ and [ each count one level) is ErrorCode::kTooMany. The parser recurses
// once per level and never deeper than min(max_depth, kMaxNestingDepthCap). A leading UTF-8
// BOM is skipped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grammar/source_span.h"

namespace preflight {

struct MapFormNode {
  enum class Kind : uint8_t { kNull, kString, kBoolean, kInteger, kList, kMap };
  Kind kind = Kind::kNull;
  bool bare = false;  // written without quotes (true for bare null/true/false/numbers too)
  bool boolean = false;
  int64_t integer = 0;
  // kString: the decoded text. Bare scalars (null, true, 0012): the word as written, so that a
  // field that wants a string (nativeIdentity=0012) can take it unchanged.
  std::string text;
  std::vector<MapFormNode> items;  // kList items; kMap values, parallel to keys
  std::vector<std::string> keys;   // kMap keys, document order
  SourceSpan span;                 // the whole value in the source text
};

absl::StatusOr<MapFormNode> ParseMapForm(std::string_view text, int max_depth);

}  // namespace preflight
