#pragma once
// The image's checksum: XXH3-64 (Debian's libxxhash-dev, used header-only). Opening an
// image hashes the whole file, so the hash runs with AVX2 where the CPU has it
// (checksum_avx2.cc); every vector width gives the same value.

#include <cstdint>
#include <string_view>

namespace preflight::image {

uint64_t Checksum(std::string_view bytes);

// The AVX2 build of the same hash; false when this build or this CPU has none.
bool ChecksumAvx2(std::string_view bytes, uint64_t& out);

}  // namespace preflight::image
