#pragma once
// A small streaming JSON writer: compact or indented, RFC 8259 string escaping.
// Every JSON output of the engine (responses, plans, ASTs, query results) goes through it.
// JsonSink is the same events without the text: a writer that builds something else from
// them (the Python module builds dicts and lists from a check response) implements it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"

namespace preflight {

// One JSON document as events, in document order. Keys and strings are UTF-8 and live only
// for the call.
class JsonSink {
 public:
  virtual ~JsonSink() = default;
  virtual JsonSink& BeginObject() = 0;
  virtual JsonSink& EndObject() = 0;
  virtual JsonSink& BeginArray() = 0;
  virtual JsonSink& EndArray() = 0;
  virtual JsonSink& Key(std::string_view key) = 0;
  virtual JsonSink& String(std::string_view value) = 0;
  virtual JsonSink& Int(int64_t value) = 0;
  virtual JsonSink& Bool(bool value) = 0;
  virtual JsonSink& Null() = 0;

  // Convenience: "key": "value".
  JsonSink& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
};

class JsonWriter final : public JsonSink {
 public:
  explicit JsonWriter(int indent = 0) : indent_(indent) {}

  JsonWriter& BeginObject() override;
  JsonWriter& EndObject() override;
  JsonWriter& BeginArray() override;
  JsonWriter& EndArray() override;
  JsonWriter& Key(std::string_view key) override;
  JsonWriter& String(std::string_view value) override;
  JsonWriter& Int(int64_t value) override;
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value) override;
  JsonWriter& Null() override;
  // Inserts already-serialized JSON as one value.
  JsonWriter& Raw(std::string_view json);
  // The same, the value's text appended by `write(std::string& out)` in place (no copy): for
  // a writer of many values of one shape. Its text is compact: for indent() 0.
  template <typename F>
  JsonWriter& RawWith(F&& write) {
    BeforeValue();
    write(out_);
    return *this;
  }
  int indent() const { return indent_; }

  // Convenience: "key": "value".
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }

  // Room for `bytes` of output, to write a document of a known size without regrowing.
  void Reserve(size_t bytes) { out_.reserve(bytes); }
  // Empty again, for another document, keeping the memory (a writer reused per thread).
  void Reset(int indent = 0) {
    out_.clear();
    counts_.clear();
    after_key_ = false;
    indent_ = indent;
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

  // `s` as a JSON string, quotes included. With ascii_only, every non-ASCII character is a
  // lower-case \uXXXX escape (a surrogate pair beyond the BMP) and a byte that is not UTF-8
  // is escaped as its Latin-1 character: the S-expression notation of SCIM filters wants it.
  static void AppendEscaped(std::string& out, std::string_view s, bool ascii_only = false);
  // The same (not ascii_only) written at `d`, which has room for EscapedBound(s.size())
  // bytes; returns the end: for a writer that puts many strings together in one buffer.
  static constexpr size_t EscapedBound(size_t size) { return 6 * size + 3; }
  static char* WriteEscaped(char* d, std::string_view s);

 private:
  void BeforeValue();
  void Newline();
  std::string out_;
  int indent_;
  // One entry per open container: number of values written so far (inline: documents are
  // rarely deeper, and a response is written without allocating beyond its text).
  absl::InlinedVector<int, 16> counts_;
  bool after_key_ = false;
};

}  // namespace preflight
