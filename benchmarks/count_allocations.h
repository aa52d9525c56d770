#pragma once
// Counts every heap allocation of the process, per thread, for the suites' allocation
// counters: include it from exactly one file of a benchmark executable (it replaces the
// global operator new and delete), read preflight::bench::Allocations() around the call.

#include <cstdint>
#include <cstdlib>
#include <new>

namespace preflight::bench {
namespace count_allocations_internal {
inline thread_local uint64_t allocations = 0;
inline void* Allocate(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
inline void* AllocateAligned(std::size_t n, std::align_val_t al) {
  ++allocations;
  std::size_t a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace count_allocations_internal

// Heap allocations made by the calling thread so far.
inline uint64_t Allocations() { return count_allocations_internal::allocations; }

}  // namespace preflight::bench

void* operator new(std::size_t n) { return preflight::bench::count_allocations_internal::Allocate(n); }
void* operator new[](std::size_t n) { return preflight::bench::count_allocations_internal::Allocate(n); }
void* operator new(std::size_t n, std::align_val_t al) {
  return preflight::bench::count_allocations_internal::AllocateAligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al) {
  return preflight::bench::count_allocations_internal::AllocateAligned(n, al);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
