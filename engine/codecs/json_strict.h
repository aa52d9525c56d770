#pragma once
// What the JSON readers (the check request, JSON plans) add to simdjson's DOM parse so that
// a text has exactly one reading and every error a place:
//   - a key repeated in one object is an error (simdjson keeps both and a lookup finds the
//     first; Python's json and IdentityIQ's readers keep the last, issue 14);
//   - a syntax error gets a byte offset, line and column (simdjson reports none): a small
//     iterative RFC 8259 scanner finds the first one;
//   - nesting is bounded by max_nesting_depth, counted as the XML and map-form readers do.
// Internal to engine/codecs (it exposes simdjson types).

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "simdjson.h"

namespace preflight::json_strict {

// A leading UTF-8 byte order mark: 3, else 0. RFC 8259 lets a parser ignore it; we do.
size_t BomLength(std::string_view text);

// Parses `text` into `out` with `parser`, admitting up to `max_depth` nested containers
// (clamped to kMaxNestingDepthCap). The parser's buffers are reused across calls.
simdjson::error_code Parse(simdjson::dom::parser& parser, std::string_view text, int max_depth,
                           simdjson::dom::element& out);

struct DuplicateKey {
  std::string pointer;  // JSON pointer of the second occurrence
  std::string key;
};
// The first key that repeats within one object, in document order. Iterative.
std::optional<DuplicateKey> FirstDuplicateKey(simdjson::dom::element root);

struct SyntaxError {
  size_t offset = 0;
  std::string what;
};
// The first RFC 8259 syntax error in text, or nullopt when the scanner finds none. Iterative.
std::optional<SyntaxError> FindSyntaxError(std::string_view text);

// The error for a failed Parse: kTooMany for depth and size, else kInvalidSyntax with the
// scanner's description, byte offset, line and column. `subject` names the text ("request
// body", "JSON plan"); `original` is the text as given, of which the parser saw all but the
// first `bom` bytes.
absl::Status ParseError(simdjson::error_code err, std::string_view subject, std::string_view original, size_t bom,
                        int max_depth);

}  // namespace preflight::json_strict
