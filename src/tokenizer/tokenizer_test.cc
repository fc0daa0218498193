// Byte offsets (EncodeOptions::byte_offsets) name the same spans as the char offsets HF
// reports (which tests/parity checks against HF): on every real tokenizer we can reach, over
// the parity corpus, with and without the post-processor's tokens.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <span>
#include <string_view>

#include "tokenizer/test_files.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::tok {
namespace {

std::vector<std::string> corpus_texts() {
  std::vector<std::string> out = {"", " ", "a", "日本語のテキスト", "🤗 emoji 𝔘 and ſ", "  two  spaces  ", "<s> </s> <unk>",
                                  "\xE2\x96\x81 already a metaspace", "tabs\t\tand\r\nlines"};
  std::ifstream in(std::string(TOKALIGN_SOURCE_DIR) + "/tests/corpus/corpus.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find("\"text\": \"");
    if (a == std::string::npos) continue;
    // The raw JSON line is valid UTF-8 text too, escapes and all: good enough for offsets.
    out.push_back(line);
  }
  return out;
}

TEST(Tokenizer, ByteOffsetsNameTheSameSpansAsCharOffsets) {
  const std::vector<std::string> files = testing::real_tokenizer_files();
  if (files.empty()) GTEST_SKIP() << "no tokenizer files (make deps installs the oracle packages)";
  const std::vector<std::string> texts = corpus_texts();
  ASSERT_GT(texts.size(), 100u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const Tokenizer t = Tokenizer::from_file(file);
    for (bool add : {true, false})
      for (const std::string& text : texts) {
        const std::vector<uint32_t> char_start = unicode::char_starts(text);
        EncodeOptions o;
        o.add_special_tokens = add;
        o.offsets = true;
        const Encoding chars = t.encode(text, o);
        o.byte_offsets = true;
        Encoding bytes;
        t.encode(text, o, bytes);
        ASSERT_EQ(bytes.ids, chars.ids);
        ASSERT_EQ(bytes.special_mask, chars.special_mask);
        ASSERT_EQ(bytes.offsets.size(), chars.offsets.size());
        for (size_t k = 0; k < chars.offsets.size(); ++k) {
          auto [a, b] = chars.offsets[k];
          ASSERT_LT(a, char_start.size()) << text;
          ASSERT_LT(b, char_start.size()) << text;
          EXPECT_EQ(bytes.offsets[k], std::make_pair(char_start[a], char_start[b])) << "token " << k << " of " << text;
        }
      }
  }
}

// A model's threads share the words they merged (BpeModel's shared word cache): a tokenizer
// whose first encodes run on many threads at once gives what a fresh tokenizer gives on one,
// first time and again.
TEST(Tokenizer, ThreadsSharingMergedWordsEncodeAsOneThread) {
  const std::vector<std::string> files = testing::real_tokenizer_files();
  if (files.empty()) GTEST_SKIP() << "no tokenizer files (make deps installs the oracle packages)";
  const std::vector<std::string> texts = corpus_texts();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    EncodeOptions o;
    o.offsets = true;
    const Tokenizer many = Tokenizer::from_file(file);
    std::vector<Encoding> first, again;
    many.encode_batch(views, o, 8, first);
    many.encode_batch(views, o, 3, again);
    const Tokenizer one = Tokenizer::from_file(file);
    for (size_t i = 0; i < texts.size(); ++i) {
      const Encoding want = one.encode(texts[i], o);
      ASSERT_EQ(first[i].ids, want.ids) << "text " << i;
      ASSERT_EQ(first[i].offsets, want.offsets) << "text " << i;
      ASSERT_EQ(again[i].ids, want.ids) << "text " << i;
    }
  }
}

// encode_batch on any number of threads (the shared WorkerPool, batch after batch, storage
// reused) gives each text's own encode(), in order; a bad text's error reaches the caller.
TEST(Tokenizer, EncodeBatchOnThreadsEqualsOneByOne) {
  const std::vector<std::string> files = testing::real_tokenizer_files();
  if (files.empty()) GTEST_SKIP() << "no tokenizer files (make deps installs the oracle packages)";
  const std::vector<std::string> texts = corpus_texts();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  for (const std::string& file : {files.front(), files.back()}) {
    SCOPED_TRACE(file);
    const Tokenizer t = Tokenizer::from_file(file);
    EncodeOptions o;
    o.offsets = true;
    std::vector<Encoding> want;
    for (const std::string& text : texts) want.push_back(t.encode(text, o));
    std::vector<Encoding> got;
    for (size_t threads : {1, 2, 3, 8})
      for (size_t batch : {size_t{7}, texts.size()}) {
        for (size_t b = 0; b < views.size(); b += batch) {
          const std::span<const std::string_view> part(views.data() + b, std::min(batch, views.size() - b));
          t.encode_batch(part, o, threads, got);
          ASSERT_EQ(got.size(), part.size());
          for (size_t i = 0; i < part.size(); ++i) {
            ASSERT_EQ(got[i].ids, want[b + i].ids) << "text " << b + i << ", " << threads << " threads";
            ASSERT_EQ(got[i].offsets, want[b + i].offsets) << "text " << b + i << ", " << threads << " threads";
          }
        }
      }
    std::vector<std::string_view> bad(views.begin(), views.end());
    bad[bad.size() / 2] = "\xFF not UTF-8";
    EXPECT_THROW(t.encode_batch(bad, o, 4, got), Error);
    t.encode_batch(views, o, 4, got);  // and the pool goes on
    EXPECT_EQ(got.back().ids, want.back().ids);
  }
}

// The SentencePiece fast path gives the general path's ids and offsets: on the real files it
// applies to, over the corpus and over random strings built from what matters to it (spaces,
// runs of spaces, a literal U+2581, multi-byte and unknown chars, special tokens). Besides
// the tokenizer.json files, the tokenizer.model folders as converted (no normalizer, a
// Metaspace pre-tokenizer), each with all three prepend schemes.
// (name, tokenizer.json text) of every real SentencePiece-BPE tokenizer reachable: the
// tokenizer.json files, and each tokenizer.model folder converted with each prepend scheme and
// once with an added token matched on normalized text (`converted`: how many folders).
std::vector<std::pair<std::string, std::string>> spm_configs(size_t& converted) {
  std::vector<std::pair<std::string, std::string>> configs;
  for (const std::string& file : testing::real_tokenizer_files()) configs.emplace_back(file, Tokenizer::json_for(file));
  converted = 0;
  for (const std::string& folder : testing::real_tokenizer_model_folders()) {
    std::string json;
    try {
      json = Tokenizer::json_for(folder);
    } catch (const Error&) {
      continue;  // a model the converter does not take (Unigram)
    }
    const std::string first = "\"prepend_scheme\":\"first\"";
    const size_t at = json.find(first);
    EXPECT_NE(at, std::string::npos) << folder << ": the converter's prepend_scheme moved";
    if (at == std::string::npos) continue;
    for (const char* scheme : {"first", "always", "never"}) {
      std::string j = json;
      j.replace(at, first.size(), std::string("\"prepend_scheme\":\"") + scheme + "\"");
      configs.emplace_back(folder + " (" + scheme + ")", j);
    }
    // And the last added token ("</s>" or the like) matched on normalized text: the second of
    // the added vocabulary's two passes.
    const size_t list = json.find("\"added_tokens\":["), list_end = json.find(']', list);
    const std::string flag = "\"normalized\":false";
    const size_t e = list == std::string::npos ? list : json.rfind(flag, list_end);
    EXPECT_TRUE(e != std::string::npos && e > list) << folder << ": the converter's added_tokens moved";
    if (e == std::string::npos || e < list) continue;
    std::string j = json;
    j.replace(e, flag.size(), "\"normalized\":true");
    configs.emplace_back(folder + " (first, an added token normalized)", j);
    ++converted;
  }
  return configs;
}

// The fast path (with the word table the vocabulary allows, and with the wide one) and the
// general path of one tokenizer.json text.
struct FastAndGeneral {
  Tokenizer fast, wide, general;
  FastAndGeneral(const std::string& json, const std::string& name)
      : fast(Tokenizer::from_json(json, name)),
        wide(with_env("TOKALIGN_WIDE_WORD_TABLE", json, name)),
        general(with_env("TOKALIGN_NO_SPM_FAST_PATH", json, name)) {}
  static Tokenizer with_env(const char* var, const std::string& json, const std::string& name) {
    ::setenv(var, "1", 1);
    Tokenizer t = Tokenizer::from_json(json, name);
    ::unsetenv(var);
    return t;
  }
};

const std::vector<std::string> kSpmAlphabet = {" ", " ", "  ", "a", "b", "the", "\xE2\x96\x81", "é", "日", "🤗", "\n",
                                               "<s>", "</s>", "[INST]", "0", ".", "\t", "\xF0\x9D\x94\x98"};

TEST(Tokenizer, SpmFastPathAgreesWithTheGeneralPath) {
  std::vector<std::string> texts = corpus_texts();
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    for (size_t k = rng() % 14; k > 0; --k) s += kSpmAlphabet[rng() % kSpmAlphabet.size()];
    texts.push_back(s);
  }
  size_t converted = 0;
  size_t applies = 0, applies_converted = 0;
  for (const auto& [name, json] : spm_configs(converted)) {
    SCOPED_TRACE(name);
    const FastAndGeneral t(json, name);
    if (!t.fast.encodes_spm_fast()) continue;
    ++applies;
    applies_converted += name.find(" (") != std::string::npos;
    ASSERT_FALSE(t.general.encodes_spm_fast());
    for (const std::string& text : texts)
      for (int mode = 0; mode < 9; ++mode) {
        EncodeOptions o;
        o.offsets = mode / 3 != 2;  // char offsets, byte offsets (as the compiler asks), none
        o.byte_offsets = mode / 3 == 1;
        o.add_special_tokens = mode % 3 != 1;
        o.parse_special = mode % 3 != 2;
        const std::pair<size_t, size_t> half{0, text.size() / 2};
        if (mode % 3 == 1) o.special_ranges = std::span(&half, 1);
        const Encoding a = t.fast.encode(text, o), b = t.general.encode(text, o);
        ASSERT_EQ(a.ids, b.ids) << text;
        ASSERT_EQ(a.offsets, b.offsets) << text;
        ASSERT_EQ(a.special_mask, b.special_mask) << text;
        if (mode == 3) {  // the wide word table, as the compiler asks
          const Encoding w = t.wide.encode(text, o);
          ASSERT_EQ(w.ids, b.ids) << text;
          ASSERT_EQ(w.offsets, b.offsets) << text;
        }
      }
  }
  if (!applies) GTEST_SKIP() << "no Llama-2-style tokenizer.json reachable (make deps installs the oracle packages)";
  // Every converted BPE model takes the fast path, with each scheme and the normalized token.
  EXPECT_EQ(applies_converted, 4 * converted);
}

TEST(Tokenizer, SpmFastPathReusesSharedBeginnings) {
  // Inputs that begin alike (a system prompt of some 2,000 bytes, cut after any of its parts,
  // then something else), mixed with inputs that do not: the fast path copies the shared
  // words' tokens from a recent input and must still agree with the general path.
  std::mt19937 rng(5);
  auto random_parts = [&](size_t n) {
    std::vector<std::string> parts;
    for (size_t k = 0; k < n; ++k) parts.push_back(kSpmAlphabet[rng() % kSpmAlphabet.size()]);
    return parts;
  };
  auto join = [](const std::vector<std::string>& parts, size_t n) {
    std::string s;
    for (size_t k = 0; k < n; ++k) s += parts[k];
    return s;
  };
  std::vector<std::vector<std::string>> prompts;
  for (int k = 0; k < 3; ++k) {
    std::vector<std::string> p = random_parts(700);
    for (size_t i = 0; i < p.size(); ++i)  // mostly words, as running text is
      if (p[i] == "<s>" || p[i] == "</s>" || p[i] == "[INST]" || rng() % 3 == 0) p[i] = rng() % 2 ? " word" : " the";
    prompts.push_back(p);
  }
  std::vector<std::string> texts;
  for (int round = 0; round < 600; ++round) {
    const auto& p = prompts[rng() % prompts.size()];
    const size_t cut = rng() % 4 == 0 ? p.size() : rng() % (p.size() + 1);
    const std::vector<std::string> tail = random_parts(rng() % 12);
    std::string s = join(p, cut) + join(tail, tail.size());
    texts.push_back(s);
    if (rng() % 3 == 0) texts.push_back(join(random_parts(40), 40));  // something else in between
  }
  size_t converted = 0, applies = 0, mostly = 0;
  for (const auto& [name, json] : spm_configs(converted)) {
    SCOPED_TRACE(name);
    const FastAndGeneral t(json, name);
    if (!t.fast.encodes_spm_fast()) continue;
    ++applies;
    EncodeOptions o;
    o.offsets = true;
    const size_t before = t.fast.spm_fast_path()->reused_tokens();
    for (const std::string& text : texts) {
      const Encoding a = t.fast.encode(text, o), b = t.general.encode(text, o);
      ASSERT_EQ(a.ids, b.ids) << text;
      ASSERT_EQ(a.offsets, b.offsets) << text;
    }
    // Tokens came from earlier inputs: with most tokenizers most of the prompts' tokens (there
    // are some 200,000); Yi's vocabulary lets few words be cut apart, so fewer there.
    const size_t reused = t.fast.spm_fast_path()->reused_tokens() - before;
    EXPECT_GT(reused, 1000u);
    mostly += reused > 100000;
  }
  EXPECT_GE(2 * mostly, applies);
  if (!applies) GTEST_SKIP() << "no Llama-2-style tokenizer.json reachable (make deps installs the oracle packages)";
}

}  // namespace
}  // namespace tokalign::tok
