#include "engine/model/value.h"

namespace preflight {

const Value* Value::Find(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

std::string Value::ScalarText() const {
  switch (kind) {
    case Kind::kString: return str;
    case Kind::kBoolean: return boolean ? "true" : "false";
    case Kind::kInteger:
    case Kind::kDate: return std::to_string(integer);
    default: return {};
  }
}

std::vector<std::string> Value::Strings() const {
  std::vector<std::string> out;
  if (kind == Kind::kList) {
    out.reserve(list.size());
    for (const Value& item : list)
      if (item.kind != Kind::kNull && item.kind != Kind::kList && item.kind != Kind::kMap)
        out.push_back(item.ScalarText());
  } else if (kind != Kind::kNull && kind != Kind::kMap) {
    out.push_back(ScalarText());
  }
  return out;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNull: return true;
    case Value::Kind::kString: return a.str == b.str;
    case Value::Kind::kBoolean: return a.boolean == b.boolean;
    case Value::Kind::kInteger:
    case Value::Kind::kDate: return a.integer == b.integer;
    case Value::Kind::kList: return a.list == b.list;
    case Value::Kind::kMap: return a.map == b.map;
  }
  return false;
}

const Value* FindAttribute(const AttributeMap& map, std::string_view key) {
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace preflight
