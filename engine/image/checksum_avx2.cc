// XXH3-64 compiled for AVX2 (CMakeLists.txt gives this file -mavx2 on x86-64 only).

#include "engine/image/checksum.h"

#if defined(__AVX2__)
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>
#endif

namespace preflight::image {

bool ChecksumAvx2(std::string_view bytes, uint64_t& out) {
#if defined(__AVX2__)
  if (!__builtin_cpu_supports("avx2")) return false;
  out = XXH3_64bits(bytes.data(), bytes.size());
  return true;
#else
  (void)bytes;
  (void)out;
  return false;
#endif
}

}  // namespace preflight::image
