// SCIM filter AST helpers and printers: the S-expression notation and filter text
// (grammar/scim_filter.h). The X3 parser is in scim_filter.cc.

#include <string>

#include "engine/util/json_writer.h"
#include "grammar/scim_filter.h"

namespace preflight {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "eq";
    case CompareOp::kNe: return "ne";
    case CompareOp::kCo: return "co";
    case CompareOp::kSw: return "sw";
    case CompareOp::kEw: return "ew";
    case CompareOp::kGt: return "gt";
    case CompareOp::kGe: return "ge";
    case CompareOp::kLt: return "lt";
    case CompareOp::kLe: return "le";
  }
  return "eq";
}

std::string AttrPath::ToString() const {
  std::string out;
  out.reserve(uri.size() + name.size() + sub.size() + 2);
  if (!uri.empty()) {
    out += uri;
    out += ':';
  }
  out += name;
  if (!sub.empty()) {
    out += '.';
    out += sub;
  }
  return out;
}

namespace {
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}
}  // namespace

bool AttrPath::EqualsIgnoreCase(const AttrPath& o) const {
  return preflight::EqualsIgnoreCase(uri, o.uri) && preflight::EqualsIgnoreCase(name, o.name) &&
         preflight::EqualsIgnoreCase(sub, o.sub);
}

// ------------------------------------------------------------------ printers

namespace {

void AppendLiteral(std::string& out, const FilterLiteral& v) {
  switch (v.kind) {
    case LiteralKind::kString: JsonWriter::AppendEscaped(out, v.text, /*ascii_only=*/true); break;
    case LiteralKind::kNumber: out += v.text; break;
    case LiteralKind::kTrue: out += "true"; break;
    case LiteralKind::kFalse: out += "false"; break;
    case LiteralKind::kNull: out += "null"; break;
  }
}

void SexprChildren(std::string& out, const FilterNode& node, FilterKind kind);

void Sexpr(std::string& out, const FilterNode& node) {
  switch (node.kind) {
    case FilterKind::kCompare:
      out += '(';
      out += CompareOpName(node.op);
      out += ' ';
      out += node.path.ToString();
      out += ' ';
      AppendLiteral(out, node.value);
      out += ')';
      return;
    case FilterKind::kPresent:
      out += "(pr ";
      out += node.path.ToString();
      out += ')';
      return;
    case FilterKind::kAnd:
    case FilterKind::kOr:
      out += node.kind == FilterKind::kAnd ? "(and" : "(or";
      SexprChildren(out, node, node.kind);
      out += ')';
      return;
    case FilterKind::kNot:
      out += "(not ";
      Sexpr(out, node.children.at(0));
      out += ')';
      return;
    case FilterKind::kValuePath:
      out += "(valuePath ";
      out += node.path.ToString();
      out += ' ';
      Sexpr(out, node.children.at(0));
      out += ')';
      return;
  }
}

void SexprChildren(std::string& out, const FilterNode& node, FilterKind kind) {
  for (const FilterNode& c : node.children) {
    if (c.kind == kind) {
      SexprChildren(out, c, kind);
    } else {
      out += ' ';
      Sexpr(out, c);
    }
  }
}

void Text(std::string& out, const FilterNode& node) {
  switch (node.kind) {
    case FilterKind::kCompare:
      out += node.path.ToString();
      out += ' ';
      out += CompareOpName(node.op);
      out += ' ';
      AppendLiteral(out, node.value);
      return;
    case FilterKind::kPresent:
      out += node.path.ToString();
      out += " pr";
      return;
    case FilterKind::kAnd:
    case FilterKind::kOr: {
      bool first = true;
      for (const FilterNode& c : node.children) {
        if (!first) out += node.kind == FilterKind::kAnd ? " and " : " or ";
        first = false;
        bool paren = c.kind == FilterKind::kAnd || c.kind == FilterKind::kOr;
        if (paren) out += '(';
        Text(out, c);
        if (paren) out += ')';
      }
      return;
    }
    case FilterKind::kNot:
      out += "not (";
      Text(out, node.children.at(0));
      out += ')';
      return;
    case FilterKind::kValuePath:
      out += node.path.ToString();
      out += '[';
      Text(out, node.children.at(0));
      out += ']';
      return;
  }
}

}  // namespace

std::string ToSexpr(const FilterNode& node) {
  std::string out;
  Sexpr(out, node);
  return out;
}
std::string ToSexpr(const FilterAst& ast) { return ToSexpr(ast.root); }

std::string ToSexpr(const PathAst& p) {
  std::string out = "(path ";
  out += p.attr.ToString();
  if (p.filter) {
    out += ' ';
    Sexpr(out, *p.filter);
    if (!p.sub_attr.empty()) {
      out += ' ';
      out += p.sub_attr;
    }
  }
  out += ')';
  return out;
}

std::string ToFilterText(const FilterNode& node) {
  std::string out;
  Text(out, node);
  return out;
}
std::string ToFilterText(const FilterAst& ast) { return ToFilterText(ast.root); }

std::string ToPathText(const PathAst& p) {
  std::string out = p.attr.ToString();
  if (p.filter) {
    out += '[';
    Text(out, *p.filter);
    out += ']';
    if (!p.sub_attr.empty()) {
      out += '.';
      out += p.sub_attr;
    }
  }
  return out;
}

}  // namespace preflight
