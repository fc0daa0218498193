// The shard writer writes and checksums its files on background threads: what lands on disk
// is every sample in order, the manifest's sizes and checksums (CRC-32 against zlib's, SHA-256
// against OpenSSL's) are those of the files, and a write error (a full disk) is an error
// naming the file, never a shard that looks complete.
#include "shard/writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <malloc.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>

#include "shard/reader.h"
#include "util/error.h"
#include "util/file.h"
#include "util/sha256.h"
#include "util/test_support.h"

namespace tokalign::shard {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("tokalign-writer-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// Expects every file of folder `a` to have the same bytes in `b`; returns how many files.
size_t expect_same_files(const fs::path& a, const fs::path& b) {
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(read_file(e.path().string()), read_file((b / name).string())) << name;
    ++files;
  }
  return files;
}

// Each test runs with the two big files written apart and paired (one thread; with SHA-256,
// hashed together), with each checksum.
class ShardWriter : public ::testing::TestWithParam<std::tuple<bool, Checksum>> {
 protected:
  std::unique_ptr<SampleWriter> writer(const fs::path& dir, bool overwrite) const {
    return make_shard_writer(dir.string(), overwrite, std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
};
INSTANTIATE_TEST_SUITE_P(Writers, ShardWriter,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(Checksum::crc32, Checksum::sha256)),
                         [](const auto& i) {
                           return std::string(std::get<0>(i.param) ? "Paired" : "Apart") + "_" +
                                  checksum_name(std::get<1>(i.param));
                         });

// A file's checksum as the independent implementation computes it: zlib's CRC-32 (what
// Python's zlib.crc32 calls) as 8 hex digits, or OpenSSL's SHA-256.
std::string reference_checksum(Checksum c, const fs::path& path) {
  if (c == Checksum::sha256) return sha256_file(path.string());
  return testing_util::zlib_crc32_hex(read_file(path.string()));
}

Sample sample(size_t i) {
  Sample s;
  s.id = std::to_string(i);
  s.id.insert(s.id.begin(), 's');
  // Several MiB in all: many background buffers; now and then a sample longer than one
  // (1.2 MB a file: past a buffer's reserved size, so its append grows the buffer).
  const size_t n = i % 1500 == 777 ? 300000 : 200 + i % 300;
  for (size_t k = 0; k < n; ++k) {
    s.input_ids.push_back(static_cast<int32_t>((i * 7919 + k * 31) % 32000));
    s.labels.push_back(k % 3 ? s.input_ids.back() : kIgnoreIndex);
  }
  if (i % 5 == 0) {
    std::string path = "img";
    path += std::to_string(i);
    s.images = {{1, 1, path}};
  }
  return s;
}

TEST_P(ShardWriter, ManyBuffersReadBackInOrderWithTheManifestsChecksums) {
  const fs::path dir = temp_dir("big");
  const size_t n = 6000;
  {
    auto w = writer(dir, false);
    for (size_t i = 0; i < n; ++i) w->write(sample(i));
    w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
  }
  ShardReader r(dir.string());
  ASSERT_EQ(r.size(), n);
  for (size_t i = 0; i < n; i += 97) {
    const Sample want = sample(i), got = r.get(i);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.input_ids, want.input_ids);
    EXPECT_EQ(got.labels, want.labels);
    EXPECT_EQ(got.images.size(), want.images.size());
  }
  EXPECT_GT(fs::file_size(dir / "input_ids.bin"), 4u << 20);  // past several 1 MiB buffers
  const Checksum sum = std::get<1>(GetParam());
  simdjson::dom::parser parser;
  const simdjson::dom::element m = parser.parse(simdjson::padded_string(read_file((dir / "manifest.json").string())));
  EXPECT_EQ(int64_t(m["format_version"]), sum == Checksum::sha256 ? 1 : 2);
  const char* other = sum == Checksum::sha256 ? "crc32" : "sha256";
  size_t files = 0;
  for (const auto [name, f] : simdjson::dom::object(m["files"])) {
    const fs::path path = dir / std::string(name);
    EXPECT_EQ(uint64_t(f["bytes"]), fs::file_size(path)) << name;
    EXPECT_EQ(std::string_view(f[checksum_name(sum)]), reference_checksum(sum, path)) << name;
    EXPECT_TRUE(f[other].error()) << name << " has a " << other << " as well";
    ++files;
  }
  EXPECT_EQ(files, 7u);  // every file but the manifest
  fs::remove_all(dir);
}

// take() (the vectors taken instead of copied, where the big files are written apart) writes
// the same shard as write(), with takes and writes mixed, with many tiny samples (a chunk of
// more vectors than one writev takes), and leaves the sample's ids and labels emptied; the
// vectors come back emptied, storage kept, from later takes.
TEST_P(ShardWriter, TakingTheVectorsWritesWhatCopyingWrites) {
  const bool paired = std::get<0>(GetParam());
  const fs::path copied = temp_dir("copied"), taken = temp_dir("taken");
  auto each = [](size_t i) {
    if (i < 3000) return sample(i);
    Sample s = sample(i);  // then 140,000 samples of 1-3 tokens (no image)
    s.input_ids.resize(1 + i % 3);
    s.labels.resize(1 + i % 3);
    s.images.clear();
    return s;
  };
  const size_t n = 143000;
  size_t storage_back = 0;
  for (const fs::path& dir : {copied, taken}) {
    auto w = writer(dir, false);
    for (size_t i = 0; i < n; ++i) {
      Sample s = each(i);
      if (dir == copied || i % 7 == 3) {
        w->write(s);
        continue;
      }
      const std::vector<int32_t> ids = s.input_ids;
      w->take(s);
      if (paired) {
        EXPECT_EQ(s.input_ids, ids);  // (a twin copies)
      } else {
        ASSERT_TRUE(s.input_ids.empty() && s.labels.empty()) << i;
        storage_back += s.input_ids.capacity() > 0;
      }
    }
    w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
  }
  EXPECT_EQ(expect_same_files(copied, taken), 8u);
  if (!paired) {
    EXPECT_GT(storage_back, n / 2) << "taken vectors did not come back";
  }
  ShardReader r(taken.string());
  ASSERT_EQ(r.size(), n);
  EXPECT_EQ(r.get(n - 1).input_ids, each(n - 1).input_ids);
  for (const fs::path& dir : {copied, taken}) fs::remove_all(dir);
}

// The emptied vectors a taking writer keeps for later takes are bounded: after a run of tiny
// samples (a chunk of some 260,000 vectors), longer ones (some 250 a chunk) get back a few
// of those vectors each chunk, and the rest are freed, not kept (they piled up to tens of MB).
TEST(ShardWriterTaking, KeepsFewEmptiedVectors) {
  const fs::path dir = temp_dir("recycled");
  const size_t before = mallinfo2().uordblks;
  size_t after_tiny = 0, after_long = 0;
  {
    auto w = make_shard_writer(dir.string(), false, /*paired=*/false, Checksum::crc32);
    Sample s;
    s.id = "t";
    for (size_t i = 0; i < 1500000; ++i) {
      s.input_ids.assign(1, 7);
      s.labels.assign(1, 7);
      w->take(s);
    }
    after_tiny = mallinfo2().uordblks;
    for (size_t i = 0; i < 3000; ++i) {
      s.input_ids.assign(1000, 7);
      s.labels.assign(1000, 7);
      w->take(s);
    }
    after_long = mallinfo2().uordblks;
    w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
  }
  EXPECT_EQ(ShardReader(dir.string()).size(), 1503000u);
  std::printf("heap in use: %zu MB before, %zu MB after the tiny samples, %zu MB after the long ones\n", before >> 20,
              after_tiny >> 20, after_long >> 20);
  EXPECT_LT(after_long, before + (48u << 20));
  fs::remove_all(dir);
}

// seal() then finish() (a parted run's part, committed later) writes the same shard as
// finish() alone; a sealed shard dropped without finish leaves no manifest and no files.
TEST_P(ShardWriter, SealThenFinishIsFinish) {
  const fs::path a = temp_dir("seal-a"), b = temp_dir("seal-b"), c = temp_dir("seal-c");
  for (const fs::path& dir : {a, b, c}) {
    auto w = writer(dir, false);
    for (size_t i = 0; i < 1500; ++i) w->write(sample(i));
    if (dir != a) w->seal();
    if (dir != c) w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
  }
  EXPECT_GE(expect_same_files(a, b), 8u);
  EXPECT_EQ(ShardReader(b.string()).size(), 1500u);
  EXPECT_TRUE(fs::is_empty(c)) << "a sealed shard that was never finished left files";
  for (const fs::path& dir : {a, b, c}) fs::remove_all(dir);
}

// --overwrite: the earlier shard's data files are moved aside at the start and deleted while
// the run goes on; the folder ends with the new shard only (no ".old" file, including one a
// run killed while deleting left behind), and a run that fails leaves no manifest.
TEST_P(ShardWriter, OverwriteLeavesOnlyTheNewShard) {
  const fs::path dir = temp_dir("overwrite");
  auto write = [&](size_t n, size_t from) {
    auto w = writer(dir, true);
    for (size_t i = 0; i < n; ++i) w->write(sample(from + i));
    w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
  };
  write(3000, 0);
  write(2000, 100);  // over a shard
  // As a run killed while deleting leaves the folder: no manifest, a data file only aside.
  fs::remove(dir / "manifest.json");
  fs::rename(dir / "samples.bin", dir / "samples.bin.old");
  write(40, 5000);
  ShardReader r(dir.string());
  ASSERT_EQ(r.size(), 40u);
  EXPECT_EQ(r.get(39).input_ids, sample(5039).input_ids);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_NE(e.path().extension(), ".old") << e.path() << " was left behind";
  {
    auto w = writer(dir, true);
    w->write(sample(1));
  }  // no finish: a run that stopped
  EXPECT_FALSE(fs::exists(dir / "manifest.json"));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_NE(e.path().extension(), ".old") << e.path() << " was left behind";
  fs::remove_all(dir);
}

TEST_P(ShardWriter, AFullDiskIsAnErrorNamingTheFile) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const fs::path dir = temp_dir("full");
  fs::create_directories(dir);
  fs::create_symlink("/dev/full", dir / "labels.bin.tmp");  // the writer's temporary labels file
  try {
    auto w = writer(dir, false);
    for (size_t i = 0; i < 3000; ++i) {
      Sample s = sample(i);
      if (i % 2) w->take(s);  // (the taken vectors' writes fail alike)
      else w->write(s);
    }
    w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
    FAIL() << "writing to a full disk succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels.bin.tmp: write error"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "manifest.json"));
  fs::remove_all(dir);
}

// Paired or apart, the shard's bytes are the same, manifest included; the checksum changes
// the manifest only.
TEST(ShardWriterPairing, PairedWritesTheSameBytesAsApart) {
  for (Checksum sum : {Checksum::crc32, Checksum::sha256}) {
    const fs::path apart = temp_dir("apart"), paired = temp_dir("paired");
    for (const fs::path& dir : {apart, paired}) {
      auto w = make_shard_writer(dir.string(), false, dir == paired, sum);
      for (size_t i = 0; i < 2500; ++i) w->write(sample(i));
      w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
    }
    EXPECT_EQ(expect_same_files(apart, paired), 8u) << checksum_name(sum);
    for (const fs::path& dir : {apart, paired}) fs::remove_all(dir);
  }
}

// Paired, the big files are written O_DIRECT in whole pages (their last bytes through the
// page cache at close): files shorter than a page, exactly a page, and a page and a few
// bytes come out as the buffered writer's.
TEST(ShardWriterPairing, DirectWritesOfAnySizeAreTheBufferedOnes) {
  for (size_t tokens : {size_t{3}, size_t{1024}, size_t{1027}, size_t{1024 * 257}}) {
    const fs::path apart = temp_dir("apart"), paired = temp_dir("paired");
    for (const fs::path& dir : {apart, paired}) {
      auto w = make_shard_writer(dir.string(), false, dir == paired, Checksum::crc32);
      Sample s = sample(1);
      s.input_ids.resize(tokens, 7);
      s.labels.resize(tokens, 9);
      w->write(s);
      w->finish(RunInfo{"{}", "{}", "{}", "[]", ""});
    }
    EXPECT_EQ(fs::file_size(paired / "input_ids.bin"), tokens * 4);
    EXPECT_EQ(expect_same_files(apart, paired), 8u) << tokens << " tokens";
    for (const fs::path& dir : {apart, paired}) fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace tokalign::shard
