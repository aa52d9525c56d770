#include "engine/util/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// How a byte is written in a JSON string: extra is 0 (as it is), 1 (a two-byte escape: first
// and second) or 5 (\u00XX).
struct EscapeTable {
  uint8_t extra[256];
  char first[256];
  char second[256];
};
constexpr EscapeTable kEscape = [] {
  EscapeTable t{};
  for (int c = 0; c < 256; ++c) {
    t.extra[c] = c < 0x20 ? 5 : 0;
    t.first[c] = t.second[c] = static_cast<char>(c);
  }
  const char escaped[][2] = {{'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};
  for (const auto& [c, letter] : escaped) {
    const auto i = static_cast<unsigned char>(c);
    t.extra[i] = 1;
    t.first[i] = '\\';
    t.second[i] = letter;
  }
  return t;
}();

// Whether the 16 bytes at p need no escape: no control character, '"' or '\\'.
inline bool Plain16(const unsigned char* p) {
#if defined(__SSE2__)
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low = _mm_set1_epi8(0x1F);
  const __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                   _mm_cmpeq_epi8(_mm_max_epu8(x, low), low));  // a byte <= 0x1F
  return _mm_movemask_epi8(bad) == 0;
#else
  for (int i = 0; i < 16; ++i)
    if (kEscape.extra[p[i]] != 0) return false;
  return true;
#endif
}

// Byte c as a JSON string holds it, written at d (room for six bytes, and for a plain
// byte's unused second); returns the end.
inline char* EscapeByte(char* d, unsigned char c) {
  if (kEscape.extra[c] <= 1) {
    d[0] = kEscape.first[c];
    d[1] = kEscape.second[c];
    return d + 1 + kEscape.extra[c];
  }
  std::memcpy(d, "\\u00", 4);
  d[4] = kHex[c >> 4];
  d[5] = kHex[c & 15];
  return d + 6;
}

// Whether the n bytes at p need no escape, read sixteen at a time (a shorter text is put
// together from two overlapping reads within it).
inline bool Plain(const unsigned char* p, size_t n) {
  if (n >= 16) {
    for (size_t i = 0; i + 16 < n; i += 16)
      if (!Plain16(p + i)) return false;
    return Plain16(p + n - 16);
  }
  unsigned char b[16];
  if (n >= 8) {
    std::memcpy(b, p, 8);
    std::memcpy(b + 8, p + n - 8, 8);
    return Plain16(b);
  }
  if (n >= 4) {
    std::memcpy(b, p, 4);
    std::memcpy(b + 4, p + n - 4, 4);
    std::memcpy(b + 8, b, 8);
    return Plain16(b);
  }
  for (size_t i = 0; i < n; ++i)
    if (kEscape.extra[p[i]] != 0) return false;
  return true;
}

// AppendEscaped's text with something to escape (out of line: the common plain text's path
// stays small).
[[gnu::noinline]] void AppendEscapedSlow(std::string& out, std::string_view s, bool ascii_only) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  if (!ascii_only) {
    const bool sparse = e - p >= 16 && Plain16(p);
    out.push_back('"');
    // A chunk at a time into a buffer on the stack that holds its worst case, then one
    // append. A text whose first sixteen bytes need no escape (a map-form plan) is copied
    // sixteen bytes at a time where it can be; one that starts with escapes (a JSON plan has
    // a quote every few bytes) goes through the table a byte at a time, without a branch on
    // which kind: testing blocks would only cost it.
    constexpr size_t kChunk = 256;
    char buf[kChunk * 6 + 2];  // the worst case, and room for a plain byte's unused second
    char* d = buf;
    for (;;) {
      const auto* end = p + std::min<size_t>(kChunk, static_cast<size_t>(e - p));
      while (p < end) {
        const auto* step = end;  // the bytes to escape one at a time
        if (sparse && end - p >= 16) {
          if (Plain16(p)) {
            std::memcpy(d, p, 16);
            p += 16;
            d += 16;
            continue;
          }
          step = p + 16;
        }
        for (; p < step; ++p) d = EscapeByte(d, *p);
      }
      if (p == e) *d++ = '"';
      out.append(buf, static_cast<size_t>(d - buf));
      if (p == e) return;
      d = buf;
    }
  }
  // ASCII only: every non-ASCII character is a \u escape.
  out.push_back('"');
  while (p < e) {
    const unsigned char c = *p;
    if (c >= 0x80) {
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
    if (kEscape.extra[c] == 0) out.push_back(static_cast<char>(c));
    else if (kEscape.extra[c] == 1) out += {kEscape.first[c], kEscape.second[c]};
    else AppendU4(out, c);
    ++p;
  }
  out.push_back('"');
}

}  // namespace

void JsonWriter::AppendEscaped(std::string& out, std::string_view s, bool ascii_only) {
  // A text with nothing to escape (names, descriptions: most strings of an answer) is
  // appended as it is, in one piece.
  if (!ascii_only && Plain(reinterpret_cast<const unsigned char*>(s.data()), s.size())) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  AppendEscapedSlow(out, s, ascii_only);
}

char* JsonWriter::WriteEscaped(char* d, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  *d++ = '"';
  if (Plain(p, s.size())) {
    std::memcpy(d, p, s.size());
    d += s.size();
  } else {
    for (const auto* e = p + s.size(); p < e; ++p) d = EscapeByte(d, *p);
  }
  *d++ = '"';
  return d;
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
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out_.append(buf, static_cast<size_t>(end - buf));
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
