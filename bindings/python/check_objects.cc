#include "bindings/python/check_objects.h"

#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace preflight::python {
namespace {

// The UTF-8 of an exact str, or nullopt for one with a lone surrogate (the error cleared).
std::optional<std::string_view> Utf8(PyObject* s) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == nullptr) {
    PyErr_Clear();
    return std::nullopt;
  }
  return std::string_view(p, static_cast<size_t>(n));
}

// Whether json.dumps(v, ensure_ascii=False, allow_nan=False) writes a text the body's reader
// reads back as v: the exact JSON types only, containers at most `max_depth` deep. Adds an
// upper bound of that text's length to `bytes` (a string escapes to at most 6 bytes a byte,
// separators are ", " and ": ").
bool Plain(PyObject* v, int depth, int max_depth, size_t& bytes) {
  if (PyUnicode_CheckExact(v)) {
    auto text = Utf8(v);
    bytes += text ? 6 * text->size() + 2 : 0;
    return text.has_value();
  }
  if (v == Py_None || v == Py_True || v == Py_False) {
    bytes += 5;
    return true;
  }
  if (PyLong_CheckExact(v)) {  // 64 bits: the reader keeps a larger one as a number it can't hold
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(v, &overflow);
    bytes += 20;
    return overflow == 0;
  }
  if (PyFloat_CheckExact(v)) {  // its repr; NaN and infinities are not JSON
    bytes += 32;
    return std::isfinite(PyFloat_AS_DOUBLE(v));
  }
  const bool dict = PyDict_CheckExact(v), list = PyList_CheckExact(v), tuple = PyTuple_CheckExact(v);
  if (!dict && !list && !tuple) return false;
  if (++depth > max_depth) return false;
  bytes += 2;
  if (dict) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(v, &pos, &key, &value)) {
      // A key of another type would be written as text, and could then repeat another key.
      if (!PyUnicode_CheckExact(key)) return false;
      auto text = Utf8(key);
      if (!text) return false;
      bytes += 6 * text->size() + 6;
      if (!Plain(value, depth, max_depth, bytes)) return false;
    }
    return true;
  }
  const Py_ssize_t n = list ? PyList_GET_SIZE(v) : PyTuple_GET_SIZE(v);
  for (Py_ssize_t i = 0; i < n; ++i) {
    bytes += 2;
    if (!Plain(list ? PyList_GET_ITEM(v, i) : PyTuple_GET_ITEM(v, i), depth, max_depth, bytes)) return false;
  }
  return true;
}

// The member `name` of a dict (borrowed), or nullptr when absent. `name` is a str made once
// and kept (interned), so a lookup hashes nothing.
PyObject* Member(PyObject* dict, PyObject* name) {
  PyObject* value = PyDict_GetItemWithError(dict, name);  // a str key's lookup cannot fail
  return value;
}
PyObject* Name(const char* text) {
  PyObject* name = PyUnicode_InternFromString(text);
  if (name == nullptr) throw py::error_already_set();
  return name;
}

// A str member's UTF-8 (Plain has checked every str), or nullopt when absent or not a str.
std::optional<std::string_view> StringMember(PyObject* dict, PyObject* name) {
  PyObject* v = Member(dict, name);
  if (v == nullptr || !PyUnicode_CheckExact(v)) return std::nullopt;
  return Utf8(v);
}

}  // namespace

std::optional<CheckRequest> ReadRequestDict(py::handle request, const Limits& limits) {
  PyObject* body = request.ptr();
  if (!PyDict_CheckExact(body)) return std::nullopt;
  size_t bytes = 0;
  if (!Plain(body, 0, std::clamp(limits.max_nesting_depth, 1, kMaxNestingDepthCap), bytes) ||
      bytes > limits.max_input_bytes)
    return std::nullopt;
  // The members ParseCheckRequest reads, of the types it takes; a missing one, a null or a
  // wrong type is an error the JSON text reports.
  static PyObject* const kIdentity = Name("identity");  // kept for the life of the process
  static PyObject* const kPlan = Name("plan");
  static PyObject* const kValue = Name("value");
  static PyObject* const kType = Name("type");
  static PyObject* const kPolicies = Name("policies");
  CheckRequest out;
  auto identity = StringMember(body, kIdentity);
  if (!identity || identity->empty()) return std::nullopt;
  PyObject* plan = Member(body, kPlan);
  if (plan == nullptr || !PyDict_CheckExact(plan)) return std::nullopt;
  auto value = StringMember(plan, kValue), type = StringMember(plan, kType);
  if (!value || !type) return std::nullopt;
  out.identity = *identity;
  out.plan_value = *value;
  out.plan_type = *type;
  PyObject* policies = Member(body, kPolicies);
  if (policies == nullptr || policies == Py_None) return out;
  if (PyUnicode_CheckExact(policies)) {
    out.policies = SplitPolicyNames(*Utf8(policies));
    return out;
  }
  if (!PyList_CheckExact(policies) && !PyTuple_CheckExact(policies)) return std::nullopt;
  py::sequence items = py::reinterpret_borrow<py::sequence>(policies);
  std::vector<std::string>& names = out.policies.emplace();
  names.reserve(items.size());
  for (py::handle item : items) {
    if (!PyUnicode_CheckExact(item.ptr())) return std::nullopt;
    names.emplace_back(*Utf8(item.ptr()));
  }
  return out;
}

void ResponseTape::Clear() {
  events_.clear();
  text_.clear();
}

ResponseTape& ResponseTape::Int(int64_t value) {
  events_.push_back({Kind::kInt, static_cast<size_t>(value), 0});
  return *this;
}

ResponseTape& ResponseTape::AddText(Kind kind, std::string_view text) {
  events_.push_back({kind, text_.size(), text.size()});
  text_.append(text);
  return *this;
}

py::object ResponseTape::Build(size_t begin, size_t end) const {
  py::object root, key;
  absl::InlinedVector<PyObject*, 16> open;  // borrowed: each is held by its parent or root
  for (size_t i = begin; i < end; ++i) {
    const Event& e = events_[i];
    py::object value;
    switch (e.kind) {
      case Kind::kEnd: open.pop_back(); continue;
      case Kind::kKey:
        key = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(text_.data() + e.at, e.size, "strict"));
        if (!key) throw py::error_already_set();
        continue;
      case Kind::kBeginObject: value = py::reinterpret_steal<py::object>(PyDict_New()); break;
      case Kind::kBeginArray: value = py::reinterpret_steal<py::object>(PyList_New(0)); break;
      case Kind::kString:
        value = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(text_.data() + e.at, e.size, "strict"));
        break;
      case Kind::kInt: value = py::reinterpret_steal<py::object>(PyLong_FromLongLong(static_cast<int64_t>(e.at))); break;
      case Kind::kTrue: value = py::bool_(true); break;
      case Kind::kFalse: value = py::bool_(false); break;
      case Kind::kNull: value = py::none(); break;
    }
    if (!value) throw py::error_already_set();
    if (open.empty()) {
      root = value;
    } else if (PyDict_Check(open.back())) {
      if (PyDict_SetItem(open.back(), key.ptr(), value.ptr()) != 0) throw py::error_already_set();
    } else if (PyList_Append(open.back(), value.ptr()) != 0) {
      throw py::error_already_set();
    }
    if (e.kind == Kind::kBeginObject || e.kind == Kind::kBeginArray) open.push_back(value.ptr());
  }
  return root;
}

}  // namespace preflight::python
