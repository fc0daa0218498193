// ShardReader: a shard written by the writer reads back sample for sample; damaged folders are
// errors naming the file, never out-of-bounds reads.
#include "shard/reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "shard/writer.h"
#include "util/error.h"

namespace tokalign::shard {
namespace {

namespace fs = std::filesystem;

std::string write_shard() {
  const std::string dir = (fs::temp_directory_path() / ("tokalign-reader-test-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  auto w = make_shard_writer(dir, false);
  Sample a;
  a.id = "a";
  a.input_ids = {1, 2, -200, 3};
  a.labels = {-100, -100, -100, 3};
  a.images = {{2, 1, "x.png"}};
  a.flags = kTruncated;
  w->write(a);
  w->quarantine(QuarantineRecord{"q", 1, "d.json", 3, 40, "empty_assistant_turn", "messages[1]", "empty"});
  Sample b;
  b.id = "b";
  b.input_ids = {7};
  b.labels = {7};
  w->write(b);
  w->finish(RunInfo{"{}", "{}", "{}", "[]"});
  return dir;
}

TEST(ShardReader, ReadsWhatTheWriterWrote) {
  const std::string dir = write_shard();
  ShardReader r(dir);
  ASSERT_EQ(r.size(), 2u);
  Sample a = r.get(0);
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.input_ids, (std::vector<int32_t>{1, 2, -200, 3}));
  EXPECT_EQ(a.labels, (std::vector<int32_t>{-100, -100, -100, 3}));
  ASSERT_EQ(a.images.size(), 1u);
  EXPECT_EQ(a.images[0].path, "x.png");
  EXPECT_EQ(a.images[0].position, 2u);
  EXPECT_EQ(a.flags, kTruncated);
  EXPECT_EQ(r.get(1).id, "b");
  ASSERT_EQ(r.quarantine().size(), 1u);
  EXPECT_EQ(r.quarantine()[0].reason, "empty_assistant_turn");
  EXPECT_EQ(r.quarantine()[0].index, 1u);
  fs::remove_all(dir);
}

TEST(ShardReader, DamagedShardsAreErrors) {
  const std::string dir = write_shard();
  fs::resize_file(fs::path(dir) / "samples.bin", 39);
  EXPECT_THROW(ShardReader r(dir), Error);
  fs::remove(fs::path(dir) / "manifest.json");
  try {
    ShardReader r(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no manifest.json"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tokalign::shard
