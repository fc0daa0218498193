// libFuzzer target: arbitrary text -> tok::spm::SlowLlamaTokenizer (transformers 4.37's slow
// LlamaTokenizer emulation): Vicuna's tokenizer.model from ../shared/data with the added tokens of
// tests/spm/added_tokens_config.json (lstrip / rstrip / single_word / overlapping prefixes), legacy
// True and False, special tokens matched or not, chosen by the first byte.
// Invariants: no crash, hang or sanitizer report; every id is below len(tokenizer); tokenize()
// and encode() agree on the number of tokens; invalid UTF-8 is refused with tokalign::Error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tokenizer/sentencepiece/slow_llama.h"
#include "util/error.h"

using namespace tokalign;

namespace {
const tok::spm::SlowLlamaTokenizer& tokenizer(bool legacy) {
  auto make = [](bool lg) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "tokalign-fuzz-slow-llama";
    fs::create_directories(dir);
    fs::copy_file(TOKALIGN_SOURCE_DIR "/../shared/data/tokenizers/vicuna-7b-v1.5/tokenizer.model", dir / "tokenizer.model",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(TOKALIGN_SOURCE_DIR "/tests/spm/added_tokens_config.json", dir / "tokenizer_config.json",
                  fs::copy_options::overwrite_existing);
    tok::spm::SlowLlamaTokenizer::Defaults d;
    d.force_legacy = lg;
    return tok::spm::SlowLlamaTokenizer::load(dir.string(), d);
  };
  static const tok::spm::SlowLlamaTokenizer legacy_true = make(true), legacy_false = make(false);
  return legacy ? legacy_true : legacy_false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const tok::spm::SlowLlamaTokenizer& t = tokenizer(data[0] & 1);
  const bool split_special = data[0] & 2, add_special = data[0] & 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> tokens;
  std::vector<int32_t> ids;
  try {
    tokens = t.tokenize(text, split_special);
    ids = t.encode(text, add_special, split_special);
  } catch (const Error&) {
    return 0;  // invalid UTF-8, refused with a message
  }
  const size_t extra = add_special && t.add_bos_token();
  if (ids.size() != tokens.size() + extra) std::abort();
  for (int32_t id : ids)
    if (id < 0 || static_cast<size_t>(id) >= t.size()) std::abort();
  return 0;
}
