#pragma once
// A small streaming JSON writer: compact or indented, RFC 8259 string escaping.
// Every JSON output of the engine (responses, plans, ASTs, query results) goes through it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace preflight {

class JsonWriter {
 public:
  explicit JsonWriter(int indent = 0) : indent_(indent) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialized JSON as one value.
  JsonWriter& Raw(std::string_view json);

  // Convenience: "key": "value".
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

  // `s` as a JSON string, quotes included. With ascii_only, every non-ASCII character is a
  // lower-case \uXXXX escape (a surrogate pair beyond the BMP) and a byte that is not UTF-8
  // is escaped as its Latin-1 character: the S-expression notation of SCIM filters wants it.
  static void AppendEscaped(std::string& out, std::string_view s, bool ascii_only = false);

 private:
  void BeforeValue();
  void Newline();
  std::string out_;
  int indent_;
  // One entry per open container: number of values written so far.
  std::vector<int> counts_;
  bool after_key_ = false;
};

}  // namespace preflight
