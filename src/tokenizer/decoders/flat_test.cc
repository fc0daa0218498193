// The flat decoder must decode exactly as the general decoder chain does, on every real
// tokenizer we can reach and on id sequences that stress it: byte-fallback runs (valid and
// broken UTF-8), special tokens with and without skipping, ids without a token.
#include "tokenizer/decoders/flat.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "tokenizer/test_files.h"
#include "tokenizer/tokenizer.h"

namespace tokalign::tok {
namespace {

// Ids that encode real text, random ids (a quarter of them byte-fallback ids, where there
// are), and a multi-byte char spelled in byte tokens.
std::vector<std::vector<uint32_t>> id_cases(const Tokenizer& t, size_t rounds, size_t max_len) {
  std::vector<std::vector<uint32_t>> cases;
  for (const char* text : {"Hello, world! ", " leading space", "日本語 and émoji 🤗 𝔘", "<s>[INST] x [/INST]</s>",
                           "\t tabs\n\nnewlines  ", "", "  A longer answer, with some words: more than sixteen bytes."})
    cases.push_back(t.encode(text).ids);
  std::mt19937 rng(7);
  const size_t n = t.vocab_size() + 3;
  std::vector<uint32_t> bytes;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    if (auto id = t.token_to_id(name)) bytes.push_back(*id);
  }
  for (size_t round = 0; round < rounds; ++round) {
    std::vector<uint32_t> ids(1 + rng() % max_len);
    for (uint32_t& id : ids) {
      const unsigned pick = rng() % 4;
      id = pick == 0 && !bytes.empty() ? bytes[rng() % bytes.size()] : pick == 1 ? rng() % 300 : rng() % n;
    }
    cases.push_back(ids);
  }
  if (!bytes.empty()) cases.push_back({bytes[0xE6], bytes[0x97], bytes[0xA5]});  // "日" in bytes
  return cases;
}

TEST(FlatDecoder, AgreesWithTheDecoderChainOnRealTokenizers) {
  const std::vector<std::string> files = testing::real_tokenizer_files();
  if (files.empty()) GTEST_SKIP() << "no tokenizer files (make deps installs the oracle packages)";
  size_t with_plan = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const Tokenizer fast = Tokenizer::from_file(file);
    const Tokenizer general = Tokenizer::from_file(file);
    ::setenv("TOKALIGN_NO_FLAT_DECODE", "1", 1);
    (void)general.decode(std::vector<uint32_t>{0});  // the general path, fixed on first use
    ::unsetenv("TOKALIGN_NO_FLAT_DECODE");
    const std::vector<std::vector<uint32_t>> cases = id_cases(fast, 300, 12);
    for (const auto& ids : cases)
      for (bool skip : {false, true}) {
        std::string got;
        fast.decode(ids, got, skip);
        ASSERT_EQ(got, general.decode(ids, skip)) << "ids " << ::testing::PrintToString(ids) << " skip " << skip;
      }
    with_plan += fast.decodes_flat();
    EXPECT_FALSE(general.decodes_flat());
    if (file.find("llama2") != std::string::npos || file.find("llama3") != std::string::npos) {
      EXPECT_TRUE(fast.decodes_flat()) << "the SentencePiece and ByteLevel chains have a flat plan";
    }
  }
  EXPECT_GT(with_plan, 0u);
}

TEST(FlatDecoder, DecodesToIsDecodeThenCompare) {
  // decodes_to(ids, want) compares in place: true exactly when decode(ids) == want (on these
  // plans, which it can all take), over the texts decode gives and near misses of them.
  const std::vector<std::string> files = testing::real_tokenizer_files();
  if (files.empty()) GTEST_SKIP() << "no tokenizer files (make deps installs the oracle packages)";
  size_t checked = 0, found = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const Tokenizer t = Tokenizer::from_file(file);
    if (!t.decodes_flat()) continue;
    for (const auto& ids : id_cases(t, 400, 30)) {
      const std::string text = t.decode(ids);
      std::vector<std::string> wants = {text, text + "x", " " + text, "  " + text};
      if (!text.empty()) {
        wants.push_back(text.substr(1));
        wants.push_back(text.substr(0, text.size() - 1));
        std::string changed = text;
        changed[changed.size() / 2] ^= 1;
        wants.push_back(changed);
      }
      for (const std::string& want : wants) {
        // want is a view of a larger buffer too, so the 16-byte compares read real bytes past it.
        const std::string padded = want + std::string(20, text.empty() ? 'z' : text[0]);
        for (std::string_view w : {std::string_view(want), std::string_view(padded).substr(0, want.size())}) {
          const bool says = t.decodes_to(ids, w);
          // Never true for another text; false for the same text only where a byte-level
          // decode repaired broken UTF-8 (U+FFFD): that is left to decode and compare.
          if (says || text.find("\xEF\xBF\xBD") == std::string::npos) {
            ASSERT_EQ(says, text == w) << "ids " << ::testing::PrintToString(ids) << " want \"" << w << "\"";
          }
          found += says;
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_GT(found, checked);  // the text itself, found in place (twice a case) far more often than not
}

}  // namespace
}  // namespace tokalign::tok
