// clear_output (--overwrite of a parted output): what compile wrote leaves the folder at once,
// is deleted by the returned removal, and nothing else in the folder is touched.
#include "shard/parts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tokalign::shard {
namespace {

namespace fs = std::filesystem;

TEST(Parts, ClearOutputMovesOursAsideAndDeletesItBesideTheRun) {
  const fs::path dir = fs::temp_directory_path() / ("tokalign-parts-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "part-00000");
  fs::create_directories(dir / "part-00001");
  std::ofstream(dir / "part-00000" / "input_ids.bin") << std::string(1 << 20, 'x');
  std::ofstream(dir / "parts.json") << "{}";
  std::ofstream(dir / "labels.bin") << "old";
  std::ofstream(dir / "notes.txt") << "the user's";
  fs::create_directories(dir / ".tokalign-old-1" / "part-00007");  // left by a killed run
  {
    const BackgroundRemoval removal = clear_output(dir.string());
    // At once: none of ours under its own name.
    for (const char* n : {"part-00000", "part-00001", "parts.json", "labels.bin"}) EXPECT_FALSE(fs::exists(dir / n)) << n;
    EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  }
  // After the removal: only the user's file.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "notes.txt");
  }
  EXPECT_EQ(entries, 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tokalign::shard
