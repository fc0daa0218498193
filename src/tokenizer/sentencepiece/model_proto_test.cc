// The SentencePiece model reader against the real model files (skipped without ../shared),
// hand-made protobuf bytes, and damaged input; and big integers in tokenizer_config.json.
#include "tokenizer/sentencepiece/model_proto.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/error.h"
#include "util/file.h"
#include "util/json_big_int.h"

namespace tokalign::tok::spm {
namespace {

const std::string kShared = std::string(TOKALIGN_SOURCE_DIR) + "/../shared/data/tokenizers/";

TEST(SpmModelProto, RealModelsMatchTheirInventory) {
  if (!std::filesystem::exists(kShared)) GTEST_SKIP() << "../shared/data/tokenizers is absent";
  // Facts from ../shared/data/tokenizers/INVENTORY.md (parsed there with the protobuf library).
  const ModelProto l = parse_model_proto(read_file(kShared + "vicuna-7b-v1.5/tokenizer.model"), "vicuna");
  EXPECT_EQ(l.pieces.size(), 32000u);
  EXPECT_EQ(l.model_type, 2);
  EXPECT_TRUE(l.byte_fallback);
  EXPECT_TRUE(l.add_dummy_prefix);
  EXPECT_FALSE(l.remove_extra_whitespaces);
  EXPECT_EQ(l.normalizer_name, "identity");
  EXPECT_EQ(l.pieces[1].text, "<s>");
  EXPECT_EQ(l.pieces[1].type, 3);
  EXPECT_EQ(l.pieces[0].type, 2);
  EXPECT_EQ(l.pieces[3].text, "<0x00>");
  EXPECT_EQ(l.pieces[3].type, 6);
  const ModelProto y = parse_model_proto(read_file(kShared + "yi-34b/tokenizer.model"), "yi");
  EXPECT_EQ(y.pieces.size(), 64000u);
  EXPECT_FALSE(y.add_dummy_prefix);
  EXPECT_EQ(y.pieces[6].text, "<|im_start|>");
}

TEST(SpmModelProto, HandMadeBytesAndDamage) {
  // pieces {piece: "a", score: 1.5f, type: 4}, trainer_spec {model_type: 2, byte_fallback: 1},
  // normalizer_spec {add_dummy_prefix: 0}, and an unknown field 9 (skipped).
  const std::string b = std::string("\x0A\x0A\x0A\x01" "a" "\x15\x00\x00\xC0\x3F\x18\x04", 12) +
                        std::string("\x12\x05\x18\x02\x98\x02\x01", 7) + std::string("\x1A\x02\x18\x00", 4) +
                        std::string("\x48\x07", 2);
  const ModelProto m = parse_model_proto(b, "mem");
  ASSERT_EQ(m.pieces.size(), 1u);
  EXPECT_EQ(m.pieces[0].text, "a");
  EXPECT_FLOAT_EQ(m.pieces[0].score, 1.5f);
  EXPECT_EQ(m.pieces[0].type, 4);
  EXPECT_EQ(m.model_type, 2);
  EXPECT_TRUE(m.byte_fallback);
  EXPECT_FALSE(m.add_dummy_prefix);
  for (size_t cut = 1; cut < b.size(); ++cut) {
    try {
      parse_model_proto(b.substr(0, cut), "mem");
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("mem: not a SentencePiece model"), std::string::npos);
    }
  }
  EXPECT_THROW(parse_model_proto("", "mem"), Error);
  EXPECT_THROW(parse_model_proto("\x0A\xFF\xFF\xFF\xFF\x0F", "mem"), Error);
}

TEST(JsonBigInt, OnlyLongIntegersOutsideStrings) {
  EXPECT_EQ(widen_big_integers(R"({"m": 1000000000000000019884624838656, "s": "12345678901234567890123", "n": -3, "f": 1.5e300})"),
            R"({"m": 1000000000000000019884624838656.0, "s": "12345678901234567890123", "n": -3, "f": 1.5e300})");
  EXPECT_EQ(widen_big_integers(R"(["\"99999999999999999999", 18446744073709551615])"),
            R"(["\"99999999999999999999", 18446744073709551615])");
}

}  // namespace
}  // namespace tokalign::tok::spm
