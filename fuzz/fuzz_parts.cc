// libFuzzer target: arbitrary bytes as the manifest of a part and as parts.json /
// shard-I-of-N.json of a parted output (shard/parts.h) -> committed_parts (resume),
// read_part_run and recorded_records (merge), check_parts and output_shards. The bytes are
// split at the first 0xFF: before it the part manifest, after it the slice record. Files are
// written to a per-process temporary folder.
// Invariants: no crash, hang or sanitizer report; errors are tokalign::Error only; a part
// that committed_parts accepts has counts check_parts can judge.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "shard/parts.h"
#include "util/error.h"

using namespace tokalign;
namespace fs = std::filesystem;

namespace {

const fs::path& dir() {
  static const fs::path d = fs::temp_directory_path() / ("fuzz_parts_" + std::to_string(::getpid()));
  return d;
}

void put(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find('\xff');
  const std::string_view manifest = in.substr(0, cut), slice = cut == std::string_view::npos ? "" : in.substr(cut + 1);
  fs::remove_all(dir());
  fs::create_directories(dir() / "part-00000");
  put(dir() / "part-00000" / "manifest.json", manifest);
  put(dir() / "shard-0-of-2.json", slice);
  shard::PartRun run;
  run.info.tokenizer_json = R"({"path": "t.json", "files": [{"name": "tokenizer.json", "sha256": "ab", "bytes": 1}]})";
  run.info.template_json = R"({"name": "v1", "sha256": "cd"})";
  run.info.options_json = R"({"labels": "tokalign"})";
  run.info.sources_json = R"([{"path": "d.json", "crc32": "0000abcd", "bytes": 2}])";
  run.part_size = 100;
  try {
    auto parts = shard::committed_parts(dir().string(), run);
    (void)shard::check_parts(parts, 150, run.part_size);
  } catch (const Error&) {
  }
  try {
    shard::PartRun found;
    if (shard::read_part_run((dir() / "part-00000").string(), found)) {
      auto parts = shard::committed_parts(dir().string(), found);
      if (parts.size() > 1) std::abort();
      (void)shard::check_parts(parts, 1000, found.part_size ? found.part_size : 1);
    }
  } catch (const Error&) {
  }
  try {
    uint64_t records = 0;
    (void)shard::recorded_records(dir().string(), records);
  } catch (const Error&) {
  }
  (void)shard::output_shards(dir().string());
  return 0;
}
