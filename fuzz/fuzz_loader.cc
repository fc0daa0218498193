// libFuzzer target: arbitrary bytes -> Tokenizer::from_json.
//
// A tokalign::Error is the expected answer to a bad file; any other exception, a crash, a
// leak or undefined behaviour is a bug. When a file loads, a few fixed texts are encoded
// with both parse_special settings and offsets on, the invariants every encoding must keep
// are checked, and the ids are decoded again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

using tokalign::tok::Encoding;
using tokalign::tok::EncodeOptions;
using tokalign::tok::Tokenizer;

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_loader: BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Code points in s (s is valid UTF-8 here: every text below is).
size_t chars_of(std::string_view s) {
  size_t n = 0;
  for (unsigned char b : s) n += (b & 0xC0) != 0x80;
  return n;
}

void check_encoding(const Encoding& e, std::string_view text, const EncodeOptions& o) {
  if (e.special_mask.size() != e.ids.size())
    bug("special_mask has " + std::to_string(e.special_mask.size()) + " entries for " + std::to_string(e.ids.size()) + " ids");
  if (!o.offsets) return;
  if (e.offsets.size() != e.ids.size())
    bug("offsets has " + std::to_string(e.offsets.size()) + " entries for " + std::to_string(e.ids.size()) + " ids");
  const size_t n = chars_of(text);
  for (size_t i = 0; i < e.offsets.size(); ++i) {
    auto [s, t] = e.offsets[i];
    if (s > t || t > n)
      bug("token " + std::to_string(i) + " has offsets [" + std::to_string(s) + "," + std::to_string(t) +
          ") in a text of " + std::to_string(n) + " chars");
  }
}

const std::vector<std::string>& fixed_texts() {
  static const std::vector<std::string> texts = {
      "",
      " ",
      "hello world",
      "Hello, World! 123 4567",
      "  leading\tand trailing  \n\n",
      "<s> </s> <unk> <pad> [CLS] [SEP] [UNK] [MASK] <|endoftext|> <|begin_of_text|>",
      "a<s>b</s>c[CLS]d",
      "h\xC3\xA9llo w\xC3\xB6rld \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\xA4\x97",  // héllo wörld 你好 🤗
      "e\xCC\x81 \xEF\xAC\x81 \xE2\x84\xAB \xC4\xB0",                          // e + U+0301, ﬁ, Å (U+212B), İ
      "\xE2\x96\x81word\xE2\x96\x81",                                          // ▁word▁
      "\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C",                      // ｆｕｌｌ (fullwidth)
      "\x01\x7F\xC2\x80\xE2\x80\x8B\xEF\xBB\xBF",                              // controls, ZWSP, BOM
      "##ing don't",
  };
  return texts;
}

void exercise(const Tokenizer& t) {
  std::vector<std::string> texts = fixed_texts();
  // Texts with the file's own added tokens inside, so that the matcher runs.
  size_t k = 0;
  for (const auto& a : t.added_vocabulary().tokens()) {
    if (k++ == 8) break;
    texts.push_back("x" + a.content + " y " + a.content);
  }
  (void)t.vocab_size();
  for (const std::string& text : texts) {
    for (bool parse_special : {true, false}) {
      for (bool add_special : {true, false}) {
        EncodeOptions o;
        o.parse_special = parse_special;
        o.add_special_tokens = add_special;
        o.offsets = true;
        Encoding e;
        try {
          e = t.encode(text, o);
        } catch (const tokalign::Error&) {
          // A file can load and still be unable to encode (HF errors there too, e.g. an
          // unk_token missing from a WordPiece vocab).
          continue;
        }
        check_encoding(e, text, o);
        for (uint32_t id : e.ids) {
          (void)t.id_to_token(id);
        }
        try {
          (void)t.decode(e.ids, false);
          (void)t.decode(e.ids, true);
        } catch (const tokalign::Error&) {
        }
      }
    }
  }
  // Ids the file may not know.
  std::vector<uint32_t> ids = {0, 1, 2, 3, 100, 255, 256, 1000000, UINT32_MAX};
  ids.push_back(static_cast<uint32_t>(t.vocab_size()));
  if (t.vocab_size() > 0) ids.push_back(static_cast<uint32_t>(t.vocab_size() - 1));
  try {
    (void)t.decode(ids, false);
    (void)t.decode(ids, true);
  } catch (const tokalign::Error&) {
  }
  for (uint32_t id : ids) {
    if (auto s = t.id_to_token(id)) (void)t.token_to_id(*s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  std::optional<Tokenizer> t;
  try {
    t.emplace(Tokenizer::from_json(json, "fuzz.json"));
  } catch (const tokalign::Error& e) {
    // Expected for bad input; the message must at least name the source.
    if (std::string_view(e.what()).find("fuzz.json") == std::string_view::npos)
      bug(std::string("loader error does not name the source: ") + e.what());
    return 0;
  } catch (const std::exception& e) {
    bug(std::string("loader threw an exception other than tokalign::Error: ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    bug("loader threw a non-std exception");
  }
  try {
    exercise(*t);
  } catch (const std::exception& e) {
    bug(std::string("encode/decode of a loaded tokenizer threw ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    bug("encode/decode of a loaded tokenizer threw a non-std exception");
  }
  return 0;
}
