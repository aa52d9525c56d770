// libFuzzer target: SCIM filter parse -> print -> parse must give an equal AST.
// Oracle: ToSexpr(parse(ToFilterText(parse(x)))) == ToSexpr(parse(x)) for every accepted x;
// every rejected x must carry invalidFilter or tooMany. Also exercises binding and evaluation
// on a fixed resource (must not crash; errors only of the documented kinds).
// Seed: tests/corpus/scim-filter (filters), dictionary: fuzz/scim_filter.dict. Size cap: 4 KiB.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/query/bound_filter.h"
#include "engine/query/doc.h"
#include "engine/util/error.h"
#include "grammar/scim_filter.h"

using namespace preflight;

namespace {
const Doc& Resource() {
  static const Doc doc = *DocFromJson(
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223","userName":"bjensen",)"
      R"("name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"weight":70.5,"children":2,)"
      R"("emails":[{"value":"b@example.com","type":"work","primary":true},{"value":"babs@home.org"}],)"
      R"("meta":{"created":"2011-08-01T18:29:49.793Z"},"tags":["a","b"],"nil":null,"empty":[],)"
      R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"x"}}})");
  return doc;
}

[[noreturn]] void Die(const char* what, std::string_view a, std::string_view b) {
  std::fprintf(stderr, "%s\n  first:  %.*s\n  second: %.*s\n", what, static_cast<int>(a.size()), a.data(),
               static_cast<int>(b.size()), b.data());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<FilterAst> ast = ParseScimFilter(text);
  if (!ast.ok()) {
    ErrorCode code = ErrorCodeOf(ast.status());
    if (code != ErrorCode::kInvalidFilter && code != ErrorCode::kTooMany) Die("unexpected error code", text, "");
    return 0;
  }
  const std::string sexpr = ToSexpr(*ast);
  const std::string printed = ToFilterText(*ast);
  absl::StatusOr<FilterAst> again = ParseScimFilter(printed);
  if (!again.ok()) Die("printed filter does not parse", text, printed);
  const std::string sexpr2 = ToSexpr(*again);
  if (sexpr != sexpr2) Die("round trip changed the AST", sexpr, sexpr2);

  static const ResourceSchema schema =
      ResourceSchema::WithScimDefaults("urn:ietf:params:scim:schemas:core:2.0:User");
  absl::StatusOr<BoundFilter> bound = BindFilter(*ast, schema, text);
  if (bound.ok()) {
    absl::StatusOr<bool> m = bound->Matches(Resource());
    if (!m.ok() && ErrorCodeOf(m.status()) != ErrorCode::kInvalidFilter) Die("unexpected eval error", text, "");
  } else if (ErrorCodeOf(bound.status()) != ErrorCode::kInvalidFilter) {
    Die("unexpected bind error", text, "");
  }
  return 0;
}
