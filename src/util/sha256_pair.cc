#include "util/sha256_pair.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define TOKALIGN_SHA_NI 1
#endif

namespace tokalign {

// The interleaved path's state: both streams have taken the same number of bytes, so one
// count and one fill level serve both.
struct Sha256Pair::Lanes {
  uint32_t h[2][8];
  unsigned char block[2][64];
  size_t filled = 0;   // bytes in block[*], < 64
  uint64_t total = 0;  // bytes taken by each stream
};

namespace {

#ifdef TOKALIGN_SHA_NI

// FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// Runs `blocks` 64-byte blocks of each stream through its state, the two streams' rounds
// side by side. SHA256RNDS2 does two rounds on the state held as {A,B,E,F} and {C,D,G,H}
// (Intel's SHA extensions reference); the message schedule's words four at a time with
// SHA256MSG1 (W[t-16] + sigma0(W[t-15])), the W[t-7] words, and SHA256MSG2 (+ sigma1(W[t-2])).
__attribute__((target("sha,sse4.1,ssse3"))) void compress2(uint32_t (*h)[8], const unsigned char* p0,
                                                          const unsigned char* p1, size_t blocks) {
  const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  const unsigned char* p[2] = {p0, p1};
  __m128i abef[2], cdgh[2];
  for (int l = 0; l < 2; ++l) {
    const __m128i badc = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h[l])), 0xB1);
    const __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h[l] + 4)), 0x1B);
    abef[l] = _mm_alignr_epi8(badc, hgfe, 8);
    cdgh[l] = _mm_blend_epi16(hgfe, badc, 0xF0);
  }
  for (size_t b = 0; b < blocks; ++b) {
    __m128i saved_abef[2], saved_cdgh[2], w[2][4];
    for (int l = 0; l < 2; ++l) {
      saved_abef[l] = abef[l];
      saved_cdgh[l] = cdgh[l];
    }
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {  // rounds 4g .. 4g+3
      __m128i k[2];
      for (int l = 0; l < 2; ++l) {
        __m128i m;
        if (g < 4) {
          m = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p[l] + 64 * b + 16 * g)), big_endian);
        } else {
          __m128i t = _mm_sha256msg1_epu32(w[l][g & 3], w[l][(g + 1) & 3]);
          t = _mm_add_epi32(t, _mm_alignr_epi8(w[l][(g + 3) & 3], w[l][(g + 2) & 3], 4));
          m = _mm_sha256msg2_epu32(t, w[l][(g + 3) & 3]);
        }
        w[l][g & 3] = m;
        k[l] = _mm_add_epi32(m, _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * g)));
      }
      // Each lane's two instructions depend on each other: the lanes alternate.
      for (int l = 0; l < 2; ++l) cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], k[l]);
      for (int l = 0; l < 2; ++l) abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(k[l], 0x0E));
    }
    for (int l = 0; l < 2; ++l) {
      abef[l] = _mm_add_epi32(abef[l], saved_abef[l]);
      cdgh[l] = _mm_add_epi32(cdgh[l], saved_cdgh[l]);
    }
  }
  for (int l = 0; l < 2; ++l) {
    const __m128i feba = _mm_shuffle_epi32(abef[l], 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh[l], 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h[l]), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h[l] + 4), _mm_alignr_epi8(dchg, feba, 8));
  }
}

bool cpu_has_sha_ni() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b & bit_SHA) != 0;
}

#else

void compress2(uint32_t (*)[8], const unsigned char*, const unsigned char*, size_t) {}
bool cpu_has_sha_ni() { return false; }

#endif

// The state words, big-endian (FIPS 180-4, 6.2.2: the digest is H0..H7), as hex.
std::string hex_of(const uint32_t h[8]) {
  unsigned char md[32];
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k) md[4 * i + k] = static_cast<unsigned char>(h[i] >> (24 - 8 * k));
  return digest_hex(md, sizeof md);
}

}  // namespace

bool Sha256Pair::interleave_available() {
  static const bool available = cpu_has_sha_ni();
  return available;
}

Sha256Pair::Sha256Pair(bool interleave) {
  if (interleave && interleave_available()) {
    lanes_ = std::make_unique<Lanes>();
    static constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};  // FIPS 180-4, 5.3.3
    for (auto& h : lanes_->h) std::memcpy(h, kInitial, sizeof kInitial);
  } else {
    a_ = std::make_unique<Sha256>();
    b_ = std::make_unique<Sha256>();
  }
}

Sha256Pair::~Sha256Pair() = default;

void Sha256Pair::update(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) throw std::logic_error("Sha256Pair::update: the two streams must take equal lengths");
  if (!lanes_) {
    a_->update(a);
    b_->update(b);
    return;
  }
  Lanes& s = *lanes_;
  s.total += a.size();
  const auto* pa = reinterpret_cast<const unsigned char*>(a.data());
  const auto* pb = reinterpret_cast<const unsigned char*>(b.data());
  size_t n = a.size();
  if (s.filled) {
    const size_t take = std::min(n, 64 - s.filled);
    std::memcpy(s.block[0] + s.filled, pa, take);
    std::memcpy(s.block[1] + s.filled, pb, take);
    s.filled += take;
    pa += take, pb += take, n -= take;
    if (s.filled < 64) return;
    compress2(s.h, s.block[0], s.block[1], 1);
    s.filled = 0;
  }
  if (n >= 64) {
    compress2(s.h, pa, pb, n / 64);
    pa += n & ~size_t{63}, pb += n & ~size_t{63}, n &= 63;
  }
  std::memcpy(s.block[0], pa, n);
  std::memcpy(s.block[1], pb, n);
  s.filled = n;
}

std::pair<std::string, std::string> Sha256Pair::hex() {
  if (!lanes_) return {a_->hex(), b_->hex()};
  Lanes& s = *lanes_;
  // FIPS 180-4, 5.1.1: a 1 bit, zeros to 56 bytes mod 64, the length in bits, big-endian.
  unsigned char tail[2][128] = {};
  const size_t len = s.filled < 56 ? 64 : 128;
  const uint64_t bits = s.total * 8;
  for (int l = 0; l < 2; ++l) {
    std::memcpy(tail[l], s.block[l], s.filled);
    tail[l][s.filled] = 0x80;
    for (int i = 0; i < 8; ++i) tail[l][len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  }
  compress2(s.h, tail[0], tail[1], len / 64);
  return {hex_of(s.h[0]), hex_of(s.h[1])};
}

}  // namespace tokalign
