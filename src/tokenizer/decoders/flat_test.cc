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
    // Ids that encode real text, then random ids, then runs of the byte-fallback ids.
    std::vector<std::vector<uint32_t>> cases;
    for (const char* text : {"Hello, world! ", " leading space", "日本語 and émoji 🤗 𝔘", "<s>[INST] x [/INST]</s>",
                             "\t tabs\n\nnewlines  ", ""})
      cases.push_back(fast.encode(text).ids);
    std::mt19937 rng(7);
    const size_t n = fast.vocab_size() + 3;
    std::vector<uint32_t> bytes;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      if (auto id = fast.token_to_id(name)) bytes.push_back(*id);
    }
    for (int round = 0; round < 300; ++round) {
      std::vector<uint32_t> ids(1 + rng() % 12);
      for (uint32_t& id : ids) {
        const unsigned pick = rng() % 4;
        id = pick == 0 && !bytes.empty() ? bytes[rng() % bytes.size()] : pick == 1 ? rng() % 300 : rng() % n;
      }
      cases.push_back(ids);
    }
    if (!bytes.empty()) cases.push_back({bytes[0xE6], bytes[0x97], bytes[0xA5]});  // "日" in bytes
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

}  // namespace
}  // namespace tokalign::tok
