#pragma once
// A check from Python objects and back without JSON text in between: a request dict read
// straight into the body's fields, and a response built as dicts and lists from the engine's
// JsonSink events. The answers are the JSON path's by construction: a dict is read only when
// json.dumps would write it as a body the engine reads without an error, and then into the
// very fields that reading gives; anything else goes through its JSON text (and gets that
// text's error).

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/preflight.h"

namespace preflight::python {

namespace py = pybind11;

// The fields of `request` when it is a dict json.dumps writes as a body the engine reads
// without an error: exact dict, list, tuple, str, int, float, bool and None throughout, str
// keys, no lone surrogate, ints of 64 bits, finite floats, nesting and size within `limits`,
// and identity, plan.value, plan.type and policies of the types the body needs. Otherwise
// nullopt (Python's error state untouched).
std::optional<CheckRequest> ReadRequestDict(py::handle request, const Limits& limits);

// The response events of one or more checks, recorded without the GIL; Build makes the
// Python objects of one response (GIL held), as json.loads would from the response text.
class ResponseTape final : public JsonSink {
 public:
  void Clear();
  size_t Mark() const { return events_.size(); }  // where the next response begins
  size_t Capacity() const { return events_.capacity() * sizeof(Event) + text_.capacity(); }
  py::object Build(size_t begin, size_t end) const;

  ResponseTape& BeginObject() override { return Add(Kind::kBeginObject); }
  ResponseTape& EndObject() override { return Add(Kind::kEnd); }
  ResponseTape& BeginArray() override { return Add(Kind::kBeginArray); }
  ResponseTape& EndArray() override { return Add(Kind::kEnd); }
  ResponseTape& Key(std::string_view key) override { return AddText(Kind::kKey, key); }
  ResponseTape& String(std::string_view value) override { return AddText(Kind::kString, value); }
  ResponseTape& Int(int64_t value) override;
  ResponseTape& Bool(bool value) override { return Add(value ? Kind::kTrue : Kind::kFalse); }
  ResponseTape& Null() override { return Add(Kind::kNull); }

 private:
  enum class Kind : uint8_t { kBeginObject, kBeginArray, kEnd, kKey, kString, kInt, kTrue, kFalse, kNull };
  struct Event {
    Kind kind;
    size_t at = 0;    // kKey, kString: offset in text_; kInt: the value's bits
    size_t size = 0;  // kKey, kString: length in text_
  };
  ResponseTape& Add(Kind kind) {
    events_.push_back({kind});
    return *this;
  }
  ResponseTape& AddText(Kind kind, std::string_view text);

  std::vector<Event> events_;
  std::string text_;
};

}  // namespace preflight::python
