// Memory at an alignment larger than new gives: the tokenizer's big lookup tables (cache
// lines, huge pages: util/hash_map.h) and the shard writer's O_DIRECT buffers (pages:
// shard/writer.cc).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace tokalign {

// `bytes` rounded up to a multiple of `align` (a power of two) from std::aligned_alloc, which
// wants that multiple; std::bad_alloc when there is none. Freed with std::free.
inline void* alloc_aligned(size_t align, size_t bytes) {
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  return p;
}

// A standard allocator whose blocks start at multiples of Align.
template <class T, size_t Align>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Align>;
  };
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Align>&) {}
  T* allocate(size_t n) { return static_cast<T*>(alloc_aligned(Align, n * sizeof(T))); }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U, Align>&) const { return true; }
};

}  // namespace tokalign
