#pragma once
// SCIM filter evaluation over Doc resources (RFC 7643/7644 rules; research/scim-filter.md sec 2,
// choices in docs/scim-filter-semantics.md).
//
// A filter AST is bound once against a ResourceSchema: attribute paths become sequences of
// lower-cased keys, each leaf knows its attribute characteristics (type, caseExact,
// returned=never), literals are pre-converted (lower-cased copy, number, dateTime). Evaluation
// then walks flat arrays and does no allocation; a BoundFilter is immutable and can be shared by
// threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/query/doc.h"
#include "grammar/scim_filter.h"

namespace preflight {

// RFC 7643 sec 2.3 types. kInferred: not declared, the JSON type of each value decides.
enum class AttrType : uint8_t {
  kInferred, kString, kBoolean, kDecimal, kInteger, kDateTime, kBinary, kReference, kComplex
};

struct AttrInfo {
  AttrType type = AttrType::kInferred;
  bool case_exact = false;      // RFC 7643 default: false
  bool returned_never = false;  // e.g. password: never matches, never projected
  bool multi_valued = false;
};

// What the binder knows about one resource type. A default-constructed schema declares
// nothing (every attribute caseExact=false, types inferred from the JSON).
class ResourceSchema {
 public:
  ResourceSchema() = default;
  // `core_urn` ("urn:ietf:params:scim:schemas:core:2.0:User") is the schema whose attributes
  // live at the top level of the resource; other URN prefixes name extension objects. With an
  // empty core URN, any "urn:ietf:params:scim:schemas:core:" prefix is taken as core.
  explicit ResourceSchema(std::string_view core_urn);

  // The RFC 7643 common and User defaults: id, externalId, meta.version caseExact;
  // meta.created, meta.lastModified dateTime; password returned=never.
  static ResourceSchema WithScimDefaults(std::string_view core_urn);

  // Declares (or replaces) the characteristics of an attribute given in attribute notation:
  // "userName", "name.givenName", "emails.value",
  // "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
  absl::Status Declare(std::string_view path, AttrInfo info);
  absl::Status DeclareCaseExact(std::string_view path);
  absl::Status DeclareDateTime(std::string_view path);

  const std::string& core_urn_lower() const { return core_urn_lower_; }
  // Lookup by the canonical key that KeysOf() produces (segments joined by '|').
  const AttrInfo* Find(std::string_view canonical_key) const;
  // Lower-cased key segments of a path: [extension-urn?, name, sub?]. A core-URN prefix is
  // dropped; an extension URN becomes the first segment.
  std::vector<std::string> KeysOf(const AttrPath& path) const;
  static std::string Canonical(const std::vector<std::string>& keys);

 private:
  std::string core_urn_lower_;
  absl::flat_hash_map<std::string, AttrInfo> attributes_;
};

// Parses a dateTime (xsd:dateTime as RFC 7643 sec 2.3.5 uses it: "2015-02-27T05:29:39.123-06:00";
// no offset means UTC). Returns false if malformed.
struct DateTime {
  int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  int32_t nanos = 0;
  bool operator==(const DateTime& o) const { return seconds == o.seconds && nanos == o.nanos; }
  bool operator<(const DateTime& o) const {
    return seconds < o.seconds || (seconds == o.seconds && nanos < o.nanos);
  }
};
bool ParseDateTime(std::string_view text, DateTime* out);

class BoundFilter {
 public:
  enum class Result : uint8_t { kFalse, kTrue, kError };

  // True/false, or an invalidFilter error (ordering on a boolean value met during evaluation).
  absl::StatusOr<bool> Matches(const Doc& doc) const;
  // Fast form: no Status construction unless there is an error.
  Result Evaluate(const Doc& doc) const;
  // The error Evaluate() reported as kError, rebuilt (with location) for the caller.
  absl::Status ErrorFor(const Doc& doc) const;

  const std::string& text() const { return text_; }

 private:
  friend class FilterBinder;
  struct Node {
    FilterKind kind = FilterKind::kPresent;
    CompareOp op = CompareOp::kEq;
    LiteralKind lit = LiteralKind::kNull;
    uint8_t nkeys = 0;
    bool never = false;            // returned=never: behaves as unassigned
    bool primary_default = false;  // last key is "primary" inside a complex value: missing = false
    bool datetime_literal = false; // the string literal parses as a dateTime
    bool lit_is_int = false;
    AttrInfo info;
    uint32_t key_off[3] = {0, 0, 0};
    uint32_t key_len[3] = {0, 0, 0};
    uint32_t child_first = 0;  // index into children_
    uint32_t child_count = 0;
    uint32_t str_off = 0, str_len = 0, lower_off = 0;
    int64_t int_value = 0;
    double number = 0;
    DateTime time;
    SourceSpan span;
  };

  Result Eval(const Doc& d, uint32_t node, uint32_t base, uint32_t* error_node) const;
  Result EvalCompare(const Doc& d, const Node& n, uint32_t base, uint32_t* error_node, uint32_t self) const;
  bool AnyPresent(const Doc& d, const Node& n, uint32_t base) const;
  template <typename F>
  bool Visit(const Doc& d, const Node& n, uint32_t base, bool presence, F&& f) const;
  Result CompareValue(const Doc& d, const Node& n, uint32_t value) const;
  std::string_view Key(const Node& n, int i) const { return {keys_.data() + n.key_off[i], n.key_len[i]}; }
  std::string_view Lit(const Node& n) const { return {keys_.data() + n.str_off, n.str_len}; }
  std::string_view LowerLit(const Node& n) const { return {keys_.data() + n.lower_off, n.str_len}; }

  std::vector<Node> nodes_;       // nodes_[0] is the root
  std::vector<uint32_t> children_;
  std::string keys_;              // arena for keys and literals
  std::string text_;              // the filter text, for error messages
};

// Binds a parsed filter. Errors (kInvalidFilter): ordering with null, ordering on a declared
// boolean or binary attribute, ordering with a boolean literal on a declared attribute, a
// string literal that is not a dateTime compared with a declared dateTime attribute.
absl::StatusOr<BoundFilter> BindFilter(const FilterAst& ast, const ResourceSchema& schema,
                                       std::string_view text = {});
// Parse + bind.
absl::StatusOr<BoundFilter> CompileFilter(std::string_view text, const ResourceSchema& schema,
                                          const FilterParseOptions& options = {});

}  // namespace preflight
