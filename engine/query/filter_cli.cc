#include "engine/query/filter_cli.h"

#include "engine/util/error.h"

namespace preflight {

absl::StatusOr<std::string> FilterToSexpr(std::string_view filter) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(filter);
  if (!ast.ok()) return ast.status();
  return ToSexpr(*ast);
}

absl::StatusOr<std::string> PathToSexpr(std::string_view path) {
  absl::StatusOr<PathAst> ast = ParseScimPath(path);
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

absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json, const ResourceSchema& schema) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(filter);
  if (!ast.ok()) return ast.status();
  absl::StatusOr<Doc> doc = DocFromJson(json);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<BoundFilter> bound = BindFilter(*ast, schema, filter);
  if (!bound.ok()) return bound.status();
  return bound->Matches(*doc);
}

absl::StatusOr<bool> EvalFilterOnJson(std::string_view filter, std::string_view json) {
  absl::StatusOr<FilterAst> ast = ParseScimFilter(filter);
  if (!ast.ok()) return ast.status();
  absl::StatusOr<Doc> doc = DocFromJson(json);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<BoundFilter> bound = BindFilter(*ast, SchemaForResource(*doc), filter);
  if (!bound.ok()) return bound.status();
  return bound->Matches(*doc);
}

}  // namespace preflight
