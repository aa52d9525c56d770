#pragma once
// A dynamically typed value as IdentityIQ stores it in <Attributes><Map>, in
// AttributeRequest values, and in the JSON/map plan forms: null, string, boolean,
// integer, date (epoch millis), list or map. Maps keep their key order.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preflight {

struct Value {
  enum class Kind { kNull, kString, kBoolean, kInteger, kDate, kList, kMap };

  Kind kind = Kind::kNull;
  std::string str;     // kString
  bool boolean = false;  // kBoolean
  int64_t integer = 0;   // kInteger, kDate (epoch millis)
  std::vector<Value> list;                          // kList
  std::vector<std::pair<std::string, Value>> map;  // kMap, document order

  static Value Null() { return {}; }
  static Value String(std::string s) { Value v; v.kind = Kind::kString; v.str = std::move(s); return v; }
  static Value Boolean(bool b) { Value v; v.kind = Kind::kBoolean; v.boolean = b; return v; }
  static Value Integer(int64_t i) { Value v; v.kind = Kind::kInteger; v.integer = i; return v; }
  static Value Date(int64_t millis) { Value v; v.kind = Kind::kDate; v.integer = millis; return v; }
  static Value List(std::vector<Value> items = {}) { Value v; v.kind = Kind::kList; v.list = std::move(items); return v; }
  static Value Map() { Value v; v.kind = Kind::kMap; return v; }

  bool is_null() const { return kind == Kind::kNull; }
  bool is_list() const { return kind == Kind::kList; }
  // A map lookup (first key equal); nullptr when absent or not a map.
  const Value* Find(std::string_view key) const;
  // The value as the flat list of strings IIQ compares entitlements with: a string
  // gives one item, a list gives its scalar items, null/empty gives none. Booleans,
  // integers and dates give their text ("true", "42").
  std::vector<std::string> Strings() const;
  // The same items as Strings(), passed to f(std::string_view) without copying strings.
  template <typename F>
  void ForEachString(F f) const {
    auto one = [&](const Value& v) {
      if (v.kind == Kind::kString) f(std::string_view(v.str));
      else if (v.kind != Kind::kNull && v.kind != Kind::kList && v.kind != Kind::kMap) {
        std::string text = v.ScalarText();
        f(std::string_view(text));
      }
    };
    if (kind == Kind::kList) {
      for (const Value& item : list) one(item);
    } else {
      one(*this);
    }
  }
  // Text of a scalar ("" for null, lists and maps).
  std::string ScalarText() const;

  friend bool operator==(const Value& a, const Value& b);
};

// An ordered <Attributes><Map> / "args" map.
using AttributeMap = std::vector<std::pair<std::string, Value>>;
const Value* FindAttribute(const AttributeMap& map, std::string_view key);

}  // namespace preflight
