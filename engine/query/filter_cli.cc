#include "engine/query/filter_cli.h"

#include "engine/util/error.h"

namespace preflight {

absl::StatusOr<std::string> FilterToSexpr(std::string_view filter, const Limits& limits) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(filter, FilterParseOptions::From(limits));
  if (!ast.ok()) return ast.status();
  return ToSexpr(*ast);
}

absl::StatusOr<std::string> PathToSexpr(std::string_view path, const Limits& limits) {
  absl::StatusOr<PathAst> ast = ParseScimPath(path, FilterParseOptions::From(limits));
  if (!ast.ok()) return ast.status();
  return ToSexpr(*ast);
}

ResourceSchema SchemaForResource(const Doc& doc) {
  std::string_view core;
  if (!doc.empty()) {
    uint32_t schemas = doc.Find(doc.root(), "schemas");
    if (schemas != Doc::kNone && doc.node(schemas).type == DocType::kArray) {
      const DocNode& a = doc.node(schemas);
      for (uint32_t i = 0; i < a.size; ++i) {
        const DocNode& s = doc.node(a.first + i);
        if (s.type == DocType::kString &&
            doc.lower_str(s).substr(0, 34) == "urn:ietf:params:scim:schemas:core:") {
          core = doc.str(s);
          break;
        }
      }
    }
  }
  return ResourceSchema::WithScimDefaults(core);
}

namespace {

// Parse the filter, then the resource, then bind against `schema` or, when null, the
// schema the resource names.
absl::StatusOr<bool> Eval(std::string_view filter, std::string_view json, const ResourceSchema* schema,
                          const Limits& limits) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(filter, FilterParseOptions::From(limits));
  if (!ast.ok()) return ast.status();
  absl::StatusOr<Doc> doc = DocFromJson(json, limits);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<BoundFilter> bound = BindFilter(*ast, schema ? *schema : SchemaForResource(*doc), filter);
  if (!bound.ok()) return bound.status();
  return bound->Matches(*doc);
}

}  // namespace

absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json, const ResourceSchema& schema,
                                      const Limits& limits) {
  return Eval(filter, json, &schema, limits);
}

absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json, const Limits& limits) {
  return Eval(filter, json, nullptr, limits);
}

}  // namespace preflight
