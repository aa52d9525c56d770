#include "engine/util/json_writer.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace preflight {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendU4(std::string& out, uint32_t v) {
  out += "\\u";
  out.push_back(kHex[(v >> 12) & 15]);
  out.push_back(kHex[(v >> 8) & 15]);
  out.push_back(kHex[(v >> 4) & 15]);
  out.push_back(kHex[v & 15]);
}

// The code point of the UTF-8 sequence at p and its length, or 0 when it is not UTF-8
// (overlong forms and surrogates included).
size_t DecodeUtf8(const unsigned char* p, const unsigned char* e, uint32_t& cp) {
  const unsigned char c = p[0];
  size_t n;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  if (static_cast<size_t>(e - p) < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

}  // namespace

void JsonWriter::AppendEscaped(std::string& out, std::string_view s, bool ascii_only) {
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    const unsigned char c = *p;
    if (c >= 0x80 && ascii_only) {
      uint32_t cp = 0;
      size_t n = DecodeUtf8(p, e, cp);
      if (n == 0) {  // not UTF-8: the byte as a Latin-1 character
        AppendU4(out, c);
        ++p;
        continue;
      }
      if (cp >= 0x10000) {
        cp -= 0x10000;
        AppendU4(out, 0xD800 + (cp >> 10));
        AppendU4(out, 0xDC00 + (cp & 0x3FF));
      } else {
        AppendU4(out, cp);
      }
      p += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) AppendU4(out, c);
        else out.push_back(static_cast<char>(c));
    }
    ++p;
  }
  out.push_back('"');
}

void JsonWriter::Newline() {
  if (indent_ <= 0) return;
  out_.push_back('\n');
  out_.append(counts_.size() * indent_, ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!counts_.empty()) {
    if (counts_.back()++ > 0) out_.push_back(',');
    Newline();
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  counts_.push_back(0);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  bool had = counts_.back() > 0;
  counts_.pop_back();
  if (had) Newline();
  out_.push_back('}');
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  counts_.push_back(0);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  bool had = counts_.back() > 0;
  counts_.pop_back();
  if (had) Newline();
  out_.push_back(']');
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendEscaped(out_, key);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendEscaped(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", value);
  out_.append(buf, n);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_ += json;
  return *this;
}

}  // namespace preflight
