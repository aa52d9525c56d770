#pragma once
// A content hash of a snapshot's sources, the same in every process and on every
// machine (unlike absl::Hash, which is seeded per process): the service reports it so
// that a client can tell which snapshot answered. Not a cryptographic hash.
//
// FNV-1a (64-bit offset basis and prime) over 64-bit little-endian words instead of
// single bytes, eight times fewer multiplications, each step followed by an xorshift
// so that high input bits reach the low bits. Each source contributes its length, then
// its bytes (the last word zero-padded), in load order.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace preflight {

class SourceHash {
 public:
  void Add(std::string_view bytes) {
    Start(bytes.size());
    Part(bytes);
  }
  // Add() a source read in parts: Start(its size), then Part() for each part in order,
  // every part but the last a multiple of 8 bytes.
  void Start(uint64_t size) { Mix(size); }
  void Part(std::string_view bytes) {
    size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) Mix(Word(bytes.data() + i));
    if (i < bytes.size()) Mix(Load(bytes.data() + i, bytes.size() - i));
  }
  uint64_t value() const { return h_; }
  // 16 lowercase hex digits.
  std::string Hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i) out[15 - i] = kDigits[(h_ >> (4 * i)) & 0xf];
    return out;
  }

 private:
  static uint64_t Word(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
  }
  static uint64_t Load(const char* p, size_t n) {
    uint64_t w = 0;
    for (size_t k = 0; k < n; ++k) w |= static_cast<uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
    return w;
  }
  void Mix(uint64_t word) {
    h_ = (h_ ^ word) * 0x100000001b3ull;
    h_ ^= h_ >> 29;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace preflight
