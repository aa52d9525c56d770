#include "engine/wire/filter_json.h"

#include "engine/util/json_writer.h"
#include "grammar/scim_filter.h"

namespace preflight {
namespace {

std::string_view KindName(FilterKind k) {
  switch (k) {
    case FilterKind::kCompare: return "compare";
    case FilterKind::kPresent: return "present";
    case FilterKind::kAnd: return "and";
    case FilterKind::kOr: return "or";
    case FilterKind::kNot: return "not";
    case FilterKind::kValuePath: return "valuePath";
  }
  return "compare";
}

std::string_view LiteralKindName(LiteralKind k) {
  switch (k) {
    case LiteralKind::kString: return "string";
    case LiteralKind::kNumber: return "number";
    case LiteralKind::kTrue: return "true";
    case LiteralKind::kFalse: return "false";
    case LiteralKind::kNull: return "null";
  }
  return "null";
}

void OptionalString(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key);
  if (value.empty()) w.Null();
  else w.String(value);
}

void Write(JsonWriter& w, const FilterNode& node) {
  const bool has_path =
      node.kind == FilterKind::kCompare || node.kind == FilterKind::kPresent || node.kind == FilterKind::kValuePath;
  w.BeginObject();
  w.Field("kind", KindName(node.kind));
  w.Key("op");
  if (node.kind == FilterKind::kCompare) w.String(CompareOpName(node.op));
  else w.Null();
  if (has_path) {
    w.Field("path", node.path.ToString());
    OptionalString(w, "uri", node.path.uri);
    w.Field("name", node.path.name);
    OptionalString(w, "sub", node.path.sub);
  } else {
    for (std::string_view key : {"path", "uri", "name", "sub"}) w.Key(key).Null();
  }
  if (node.kind == FilterKind::kCompare) {
    w.Field("valueKind", LiteralKindName(node.value.kind)).Field("valueText", node.value.text);
  } else {
    w.Key("valueKind").Null().Key("valueText").Null();
  }
  w.Key("span").BeginArray().Int(node.span.begin).Int(node.span.end).EndArray();
  w.Field("sexpr", ToSexpr(node)).Field("text", ToFilterText(node));
  w.Key("children").BeginArray();
  for (const FilterNode& child : node.children) Write(w, child);
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string FilterNodeJson(const FilterNode& node) {
  JsonWriter w;
  Write(w, node);
  return w.Take();
}

}  // namespace preflight
