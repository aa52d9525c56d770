#pragma once
// String concatenation over std::string_view, integers and doubles. absl::StrCat takes
// absl::string_view, which Debian's Abseil keeps distinct from std::string_view
// (research/toolchain.md, pitfall 1); the service's strings are all std.

#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>

namespace preflight::http {

inline void AppendPiece(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) { out.append(s); }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void AppendPiece(std::string& out, T v) {
  out += std::to_string(v);
}
inline void AppendPiece(std::string& out, double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.9g", v);
  out.append(buf, static_cast<size_t>(n));
}

template <class... Args>
void CatTo(std::string& out, const Args&... args) {
  (AppendPiece(out, args), ...);
}

template <class... Args>
std::string Cat(const Args&... args) {
  std::string out;
  CatTo(out, args...);
  return out;
}

}  // namespace preflight::http
