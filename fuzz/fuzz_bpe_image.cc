// libFuzzer target: the compiled-tokenizer cache's BPE image reader (BpeModel::read_image).
//
// read_image promises to throw std::runtime_error on a corrupt image; an image it accepts
// must then be safe to use. The checksum in the cache file (tokenizer/cache.cc) catches
// random disk corruption, but not an image written by another tokalign build whose table
// layout differs, nor a deliberately edited one, so the reader itself is fuzzed here.
//
// Input: byte 0 picks one of two valid base images (built once from small BPE models:
// plain with byte fallback and a continuing-subword prefix, and byte-level); byte 1 picks
// how the image is cut at the end; the rest is a list of 3-byte edits (16-bit offset,
// new byte) applied to the image. An accepted image is then used: tokenize, id_to_token,
// token_to_id, merge loops.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "tokenizer/models/bpe.h"
#include "util/error.h"

namespace {

using tokalign::tok::BpeConfig;
using tokalign::tok::BpeModel;
using tokalign::tok::Token;

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_bpe_image: BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string image_of(BpeConfig c) {
  BpeModel m(std::move(c));
  std::string out;
  m.write_image(out);
  return out;
}

const std::vector<std::string>& base_images() {
  static const std::vector<std::string> images = [] {
    std::vector<std::string> v;
    {
      BpeConfig c;
      c.vocab = {{"<unk>", 0}, {"<0x41>", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}, {"\xE2\x96\x81", 4}, {"a", 5},
                 {"b", 6},     {"##b", 7},    {"ab", 8},   {"h", 9},      {"e", 10},          {"he", 11}, {"##e", 12}};
      c.merges = {{"a", "##b"}, {"h", "##e"}};  // merged: a + b without the prefix
      c.unk_token = "<unk>";
      c.continuing_subword_prefix = "##";
      c.byte_fallback = true;
      c.fuse_unk = true;
      v.push_back(image_of(std::move(c)));
    }
    {
      // Byte-level: the GPT-2 alphabet for the bytes a, b, space and 0xC3 0xA9 (é).
      BpeConfig c;
      c.vocab = {{"a", 0}, {"b", 1}, {"\xC4\xA0", 2}, {"\xC3\x83", 3}, {"\xC2\xA9", 4}, {"ab", 5},
                 {"\u0120a", 6}, {"\xC3\x83\xC2\xA9", 7}};
      c.merges = {{"a", "b"}, {"\xC4\xA0", "a"}, {"\xC3\x83", "\xC2\xA9"}};
      c.byte_level = true;
      v.push_back(image_of(std::move(c)));
    }
    return v;
  }();
  return images;
}

void use(const BpeModel& m) {
  static const char* words[] = {"a", "ab", "abab", "he", "hello", "h\xC3\xA9", "\u2581a", " ab", "\xC3\xA9\xC3\xA9",
                                "zzz", "A", "\x01\xFF", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"};
  std::vector<Token> out;
  for (const char* w : words) {
    out.clear();
    m.tokenize(w, out);
    for (const Token& t : out) (void)m.id_to_token(t.id);
    (void)m.token_to_id(w);
  }
  const size_t n = m.vocab_size();
  for (uint32_t id = 0; id < n + 4 && id < 64; ++id) {
    if (auto s = m.id_to_token(id)) (void)m.token_to_id(*s);
  }
  std::vector<BpeModel::Symbol> syms;
  for (uint32_t id = 0; id < 8; ++id) syms.push_back({id, id, 1});
  auto syms2 = syms;
  m.merge_symbols_scan(syms);
  m.merge_symbols_heap(syms2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto& bases = base_images();
  std::string image = bases[data[0] % bases.size()];
  // Byte 1: 0 keeps the whole image, k > 0 cuts k bytes off its end.
  image.resize(image.size() - std::min<size_t>(data[1], image.size()));
  for (size_t i = 2; i + 3 <= size && !image.empty(); i += 3) {
    size_t off = (data[i] | (data[i + 1] << 8)) % image.size();
    image[off] = static_cast<char>(data[i + 2]);
  }
  std::unique_ptr<BpeModel> m;
  try {
    m = BpeModel::read_image(image);
  } catch (const std::runtime_error&) {
    return 0;  // documented: a corrupt image throws std::runtime_error
  } catch (const std::exception& e) {
    bug(std::string("read_image threw ") + typeid(e).name() + ": " + e.what());
  }
  try {
    use(*m);
  } catch (const tokalign::Error&) {
    // An accepted image may still describe a model that refuses a word (e.g. no unk).
  } catch (const std::exception& e) {
    bug(std::string("using an accepted image threw ") + typeid(e).name() + ": " + e.what());
  }
  return 0;
}
