// The hand-written matchers must cut exactly where PCRE2 running the original regex cuts
// (which itself is checked against HF in the parity suite): random strings over an
// alphabet of every character class the patterns distinguish, plus the test corpus.
#include "tokenizer/fast_patterns.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "unicode/utf8.h"

namespace tokalign::tok {
namespace {

const std::vector<std::string> kAlphabet = {
    "a", "Z", "s", "S", "t", "T", "r", "e", "v", "m", "l", "L", "d", "D", "'", "\u017F", "\u2019",
    "0", "7", "\u0663", "\u00B2", "\u216B", " ", "  ", "\t", "\r", "\n", "\r\n", "\u00A0", "\u0085",
    "\u2028", "\u3000", "\u200B", ".", ",", "!", "-", "/", "(", "\u00E9", "e\u0301", "\u65E5",
    "\u3042", "\uAC00", "\u0E01", "\u0627", "\U0001F600", "\U0001F468\u200D\U0001F469", "\u2581", "_",
    "\x01", "\x7F", "\u00AD", "$", "\u20AC"};

void expect_same(const Pattern& fast, const Pattern& slow, const std::string& s) {
  auto a = fast.find_matches(s);
  auto b = slow.find_matches(s);
  ASSERT_EQ(a.size(), b.size()) << "input: " << s;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].start, b[i].start) << "input: " << s << " piece " << i;
    ASSERT_EQ(a[i].end, b[i].end) << "input: " << s << " piece " << i;
    ASSERT_EQ(a[i].is_match, b[i].is_match) << "input: " << s << " piece " << i;
  }
}

class FastPatterns : public ::testing::TestWithParam<std::string_view> {};

TEST_P(FastPatterns, AgreeWithPcre2OnRandomStrings) {
  auto fast = fast_pattern_for(GetParam());
  ASSERT_TRUE(fast);
  RegexPattern slow(GetParam());
  std::mt19937 rng(12345);
  for (int round = 0; round < 100000; ++round) {
    std::string s;
    size_t n = rng() % 16;
    for (size_t k = 0; k < n; ++k) s += kAlphabet[rng() % kAlphabet.size()];
    expect_same(*fast, slow, s);
  }
}

TEST_P(FastPatterns, AgreeWithPcre2OnTheCorpus) {
  std::ifstream in(std::string(TOKALIGN_SOURCE_DIR) + "/tests/corpus/corpus.jsonl");
  ASSERT_TRUE(in) << "tests/corpus/corpus.jsonl missing";
  auto fast = fast_pattern_for(GetParam());
  RegexPattern slow(GetParam());
  std::string line;
  size_t lines = 0;
  // The raw JSON lines are fine inputs too: escapes and quotes exercise the same classes.
  while (std::getline(in, line)) {
    expect_same(*fast, slow, line);
    ++lines;
  }
  EXPECT_GT(lines, 100u);
}

INSTANTIATE_TEST_SUITE_P(All, FastPatterns, ::testing::Values(kLlama3Regex, kQwenRegex, kGpt2Regex));

TEST(FastPatterns, OnlyExactSourcesAreRecognised) {
  EXPECT_FALSE(fast_pattern_for("\\p{N}{1,3}"));
  std::string almost(kLlama3Regex);
  almost.back() = '*';
  EXPECT_FALSE(fast_pattern_for(almost));
}

}  // namespace
}  // namespace tokalign::tok
