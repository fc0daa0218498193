// The quick check may only say "unchanged" when utf8proc's normalization agrees; checked
// for every code point alone, after a base letter, and before a combining mark.
#include "unicode/normalize.h"

#include <gtest/gtest.h>

#include "unicode/utf8.h"

namespace tokalign::unicode {
namespace {

std::string utf8(std::initializer_list<char32_t> cs) {
  std::string s;
  for (char32_t c : cs) append_utf8(s, c);
  return s;
}

TEST(Normalize, QuickCheckNeverLies) {
  size_t checked = 0, unchanged = 0;
  for (Form f : {Form::NFC, Form::NFD, Form::NFKC, Form::NFKD}) {
    for (char32_t c = 0x80; c < 0x32000; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      if (!stays_unchanged(c, f)) continue;
      ++unchanged;
      for (const std::string& s : {utf8({c}), utf8({'a', c}), utf8({0x1100, c}), utf8({0xAC00, c}),
                                   utf8({0x0B47, c}), utf8({0x304B, c}), utf8({c, 'b'})}) {
        ++checked;
        if (!quick_check_unchanged(s, f)) continue;  // the neighbour itself may change
        ASSERT_EQ(normalize(s, f), s) << "U+" << std::hex << static_cast<uint32_t>(c) << " form " << int(f);
      }
    }
  }
  EXPECT_GT(unchanged, 100000u);
  EXPECT_GT(checked, 500000u);
}

TEST(Normalize, QuickCheckCatchesWhatChanges) {
  EXPECT_FALSE(quick_check_unchanged("e\u0301", Form::NFC));   // composes
  EXPECT_FALSE(quick_check_unchanged("\u00E9", Form::NFD));    // decomposes
  EXPECT_FALSE(quick_check_unchanged("\u212B", Form::NFC));    // singleton
  EXPECT_FALSE(quick_check_unchanged("\uFB01", Form::NFKC));   // compatibility
  EXPECT_FALSE(quick_check_unchanged("\u1100\u1161", Form::NFC));  // Hangul jamo
  EXPECT_TRUE(quick_check_unchanged("caf\u00E9 \u2019 \u65E5\u672C", Form::NFC));
}

}  // namespace
}  // namespace tokalign::unicode
