// A 64-byte block of JSON text as bit masks (bit k: byte k), the shared step of the two
// scans that find a JSON array's elements: the reader's (record_stream.cc), element by
// element, and the helpers' (element_index.cc), chunk by chunk ahead of it. Internal to those.
//
// Which bytes are in strings is the prefix XOR of the unescaped quotes (the opening quote in,
// the closing one out), where every backslash is taken to be in a string: a backslash outside
// strings is not JSON, and the scans hand such text to a byte-by-byte scan.
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tokalign::chat::masks {

struct Block {
  uint64_t quotes = 0, backslashes = 0;
  uint64_t structural = 0;  // '{', '}', '[', ']' and ','
  uint64_t newlines = 0;
};

// Which of a block's bytes its backslashes escape: each escapes the byte after it, and an
// escaped backslash nothing. `carry`: the block's first byte is escaped (in), the next
// block's is (out). Backslashes are rare: one at a time.
inline uint64_t escaped_bytes(uint64_t backslashes, bool& carry) {
  uint64_t escaped = carry ? 1 : 0;
  carry = false;
  for (uint64_t b = backslashes & ~escaped; b != 0;) {
    const unsigned k = static_cast<unsigned>(__builtin_ctzll(b));
    if (k == 63) {
      carry = true;
      break;
    }
    escaped |= uint64_t{2} << k;
    b &= ~(uint64_t{3} << k);
  }
  return escaped;
}

#if defined(__SSE2__)
// x86-64's baseline: four 16-byte loads, the prefix XOR in twelve instructions.
struct Sse2 {
  static inline Block load(const char* p) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), comma = _mm_set1_epi8(',');
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}'), lower = _mm_set1_epi8(0x20);
    const __m128i newline = _mm_set1_epi8('\n');
    Block m;
    for (int k = 0; k < 4; ++k) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      const __m128i y = _mm_or_si128(x, lower);  // '[' and ']' become '{' and '}'
      const __m128i s = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(y, open), _mm_cmpeq_epi8(y, close)), _mm_cmpeq_epi8(x, comma));
      m.quotes |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, quote)))) << (16 * k);
      m.backslashes |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, backslash)))) << (16 * k);
      m.structural |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(s))) << (16 * k);
      m.newlines |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, newline)))) << (16 * k);
    }
    return m;
  }
  // Bit k: the XOR of q's bits 0 to k.
  static inline uint64_t prefix_xor(uint64_t q) {
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q ^= q << 8;
    q ^= q << 16;
    q ^= q << 32;
    return q;
  }
};
#endif

#if defined(__x86_64__)
// AVX2 and a carry-less multiply where the CPU has them (have_avx2): two 32-byte loads, the
// prefix XOR in one instruction (the 665k mixture's 1.08 GB: 0.16 s against 0.22 s on the VM).
// Callers carry the same target attribute and flatten (inlining these).
struct Avx2 {
  [[gnu::target("avx2")]] static inline uint64_t mask64(__m256i lo, __m256i hi) {
    return static_cast<uint32_t>(_mm256_movemask_epi8(lo)) | static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hi))) << 32;
  }
  [[gnu::target("avx2,pclmul,popcnt")]] static inline Block load(const char* p) {
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\'), comma = _mm256_set1_epi8(',');
    const __m256i open = _mm256_set1_epi8('{'), close = _mm256_set1_epi8('}'), lower = _mm256_set1_epi8(0x20);
    const __m256i newline = _mm256_set1_epi8('\n');
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i ylo = _mm256_or_si256(lo, lower), yhi = _mm256_or_si256(hi, lower);  // '[' ']' as '{' '}'
    Block m;
    m.quotes = mask64(_mm256_cmpeq_epi8(lo, quote), _mm256_cmpeq_epi8(hi, quote));
    m.backslashes = mask64(_mm256_cmpeq_epi8(lo, backslash), _mm256_cmpeq_epi8(hi, backslash));
    m.newlines = mask64(_mm256_cmpeq_epi8(lo, newline), _mm256_cmpeq_epi8(hi, newline));
    m.structural =
        mask64(_mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(ylo, open), _mm256_cmpeq_epi8(ylo, close)), _mm256_cmpeq_epi8(lo, comma)),
               _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(yhi, open), _mm256_cmpeq_epi8(yhi, close)), _mm256_cmpeq_epi8(hi, comma)));
    return m;
  }
  // q times all ones, carry-less.
  [[gnu::target("avx2,pclmul,popcnt")]] static inline uint64_t prefix_xor(uint64_t q) {
    const __m128i ones = _mm_set1_epi8(static_cast<char>(0xFF));
    return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(q)), ones, 0)));
  }
};

inline bool have_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("popcnt");
}
#else
inline bool have_avx2() { return false; }
#endif

}  // namespace tokalign::chat::masks
