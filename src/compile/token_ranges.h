// Passes over a chunk's token ranges ([start, end) byte pairs, laid out as Encoding::offsets)
// that the compiler makes for every token: four tokens a step in SSE2 registers, where the
// plain loops over the pairs did not vectorize (some 12 instructions a token for encode's two,
// 8 for verify's), and the two SSE2 steps they share with the coverage sweep (coverage.h).
// token_ranges_test.cc holds them to the plain loops on random ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tokalign::compile {

using TokenRange = std::pair<uint32_t, uint32_t>;
static_assert(sizeof(TokenRange) == 8);

#if defined(__SSE2__)
// Eight 32-bit words from `w` (four (start, end) pairs) as their even and odd words, one per
// lane: four starts and four ends when w is at a token's start.
inline void split_pairs(const void* w, __m128i& even, __m128i& odd) {
  const __m128 a = _mm_loadu_ps(static_cast<const float*>(w));
  const __m128 b = _mm_loadu_ps(static_cast<const float*>(w) + 4);
  even = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
  odd = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
// x > y, lane by lane, as unsigned 32-bit numbers (signed compares with the top bit flipped).
inline __m128i above_u32(__m128i x, __m128i y) {
  const __m128i bias = _mm_set1_epi32(INT32_MIN);
  return _mm_cmpgt_epi32(_mm_xor_si128(x, bias), _mm_xor_si128(y, bias));
}
#endif

// For n tokens (`added[j]` non-zero: put there by the post-processor): run_end[j] is
// UINT32_MAX for an added or empty token, else the token's end. Returns whether starts and ends
// never decrease from one token to the next.
inline bool run_ends(const TokenRange* r, const uint8_t* added, size_t n, uint32_t* run_end) {
  size_t j = 0;
  bool disorder = false;
#if defined(__SSE2__)
  // Unsigned compares as signed ones on values with the top bit flipped.
  const __m128i bias = _mm_set1_epi32(INT32_MIN), zero = _mm_setzero_si128(), ones = _mm_set1_epi32(-1);
  __m128i prev_s = bias, prev_e = bias;  // the unsigned minimum: the first token has nothing before it
  __m128i order = zero;
  for (; j + 4 <= n; j += 4) {
    __m128i s, e;  // four starts, four ends
    split_pairs(r + j, s, e);
    int32_t m4;
    std::memcpy(&m4, added + j, 4);
    const __m128i m = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(m4), zero), zero);
    const __m128i sb = _mm_xor_si128(s, bias), eb = _mm_xor_si128(e, bias);
    const __m128i unlabelled = _mm_or_si128(_mm_xor_si128(_mm_cmpeq_epi32(m, zero), ones),  // added
                                            _mm_xor_si128(_mm_cmpgt_epi32(eb, sb), ones));  // end <= start
    _mm_storeu_si128(reinterpret_cast<__m128i*>(run_end + j), _mm_or_si128(e, unlabelled));
    // Each lane against the lane before (the last of the previous step for the first).
    const __m128i ps = _mm_or_si128(_mm_slli_si128(sb, 4), _mm_srli_si128(prev_s, 12));
    const __m128i pe = _mm_or_si128(_mm_slli_si128(eb, 4), _mm_srli_si128(prev_e, 12));
    order = _mm_or_si128(order, _mm_or_si128(_mm_cmpgt_epi32(ps, sb), _mm_cmpgt_epi32(pe, eb)));
    prev_s = sb;
    prev_e = eb;
  }
  disorder = _mm_movemask_epi8(order) != 0;
#endif
  for (; j < n; ++j) {
    run_end[j] = ((added[j] != 0) | (r[j].second <= r[j].first)) ? UINT32_MAX : r[j].second;
    if (j > 0) disorder |= (r[j - 1].first > r[j].first) | (r[j - 1].second > r[j].second);
  }
  return !disorder;
}

// Whether each of n tokens starts where the one before it ends; `w` holds their ranges as 2n
// 32-bit words (start, end, start, end, ...): w[2k + 1] == w[2k + 2] for k < n - 1.
inline bool contiguous(const uint32_t* w, size_t n) {
  if (n < 2) return true;
  const size_t pairs = n - 1;
  size_t k = 0;
  uint32_t broken = 0;
#if defined(__SSE2__)
  __m128i same = _mm_set1_epi32(-1);
  for (; k + 4 <= pairs; k += 4) {
    __m128i ends, starts;  // token k's end beside token k + 1's start, four times
    split_pairs(w + 2 * k + 1, ends, starts);
    same = _mm_and_si128(same, _mm_cmpeq_epi32(ends, starts));
  }
  broken = _mm_movemask_epi8(same) != 0xFFFF;
#endif
  for (; k < pairs; ++k) broken |= w[2 * k + 1] != w[2 * k + 2];
  return !broken;
}

}  // namespace tokalign::compile
