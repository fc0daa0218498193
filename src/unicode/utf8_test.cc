#include "unicode/utf8.h"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <random>
#include <string>

namespace tokalign::unicode {
namespace {

// utf8proc's decoder as the reference: the offset of the first byte that does not start a
// valid char, or npos.
size_t reference_invalid(const std::string& s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t c;
    const utf8proc_ssize_t n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(s.size() - i), &c);
    if (n <= 0 || c < 0) return i;
    i += static_cast<size_t>(n);
  }
  return std::string::npos;
}

// Valid text of every encoded length, long enough for the SIMD check (64 bytes and more),
// with faults planted at random places: stray continuation bytes, truncated chars, overlong
// forms, surrogates, code points past U+10FFFF, bytes that never occur.
TEST(Utf8, FindInvalidAgreesWithUtf8proc) {
  const std::vector<std::string> chars = {"a", " ", "\n", "é", "▁", "中", "😀", "\x7f", "ß", "\xF4\x8F\xBF\xBF"};
  const std::vector<std::string> faults = {"\x80", "\xBF", "\xC3", "\xE4\xB8", "\xF0\x9F\x98", "\xC0\xAF",
                                           "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xFE", "\xC1\x81"};
  std::mt19937 rng(7);
  size_t valid = 0, invalid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t n = rng() % 300;
    while (s.size() < n) s += chars[rng() % chars.size()];
    const int planted = rng() % 3 == 0 ? 0 : 1 + static_cast<int>(rng() % 2);
    for (int k = 0; k < planted; ++k) {
      // At a char boundary or inside a char: both are faults to find.
      const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
      s.insert(at, faults[rng() % faults.size()]);
    }
    const size_t want = reference_invalid(s);
    ASSERT_EQ(find_invalid_utf8(s), want) << "round " << round << " size " << s.size();
    (want == std::string::npos ? valid : invalid)++;
  }
  // Both outcomes were reached, and often.
  EXPECT_GT(valid, 5000u);
  EXPECT_GT(invalid, 5000u);
}

}  // namespace
}  // namespace tokalign::unicode
