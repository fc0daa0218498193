// The reader alone: a dataset file split into records by chat::RecordStream as `compile`
// reads it (mapped, the input's CRC-32 taken as it goes), with 0 helpers (the reader's own
// scan) and with the element index's helpers (RecordStream::Options::index_threads), in
// interleaved rounds. Per setting, medians: the wall time, the reading thread's CPU (what a
// compile's reader thread spends) and the process's (the helpers' too). Every setting must
// find the same records and checksum, or the run stops.
//
//   build/bench/record_stream_bench FILE [ROUNDS [HELPERS...]]   (defaults: 5 rounds; 0 1 2)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "chat/record_stream.h"
#include "util/checksum.h"
#include "util/error.h"
#include "util/thread_cpu.h"

namespace {

double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& v) { return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Run {
  double wall, reader, process;
  uint64_t records, indexed, bytes;
  std::string crc;
};

Run read_file(const char* path, size_t helpers) {
  FILE* f = std::fopen(path, "rb");
  if (!f) throw tokalign::Error(std::string(path) + ": cannot open");
  tokalign::Digest crc(tokalign::Checksum::crc32);
  tokalign::chat::RecordStream::Options o;
  o.map = true;
  o.hash = &crc;
  o.index_threads = helpers;
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = tokalign::thread_cpu_seconds(), p0 = process_cpu();
  Run r{};
  {
    tokalign::chat::RecordStream rs(f, path, o);
    std::string_view text;
    tokalign::chat::SourcePos pos;
    while (rs.next(text, pos)) ++r.records;
    r.bytes = rs.read_to_end();
    r.indexed = rs.indexed_records();
  }
  r.reader = tokalign::thread_cpu_seconds() - c0;
  r.process = process_cpu() - p0;
  r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.crc = crc.hex();
  std::fclose(f);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [ROUNDS [HELPERS...]]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<size_t> settings;
  for (int i = 3; i < argc; ++i) settings.push_back(static_cast<size_t>(std::atoi(argv[i])));
  if (settings.empty()) settings = {0, 1, 2};
  try {
    const Run first = read_file(argv[1], 0);  // (the page cache warm; the records to match)
    std::vector<std::vector<Run>> runs(settings.size());
    for (int r = 0; r < rounds; ++r)
      for (size_t s = 0; s < settings.size(); ++s) {
        const Run got = read_file(argv[1], settings[s]);
        if (got.records != first.records || got.crc != first.crc || got.bytes != first.bytes) {
          std::fprintf(stderr, "%zu helpers: %llu records, CRC-32 %s; without: %llu, %s\n", settings[s],
                       static_cast<unsigned long long>(got.records), got.crc.c_str(),
                       static_cast<unsigned long long>(first.records), first.crc.c_str());
          return 1;
        }
        runs[s].push_back(got);
      }
    std::printf("%s: %llu records, %.3f GB; medians of %d interleaved rounds\n", argv[1],
                static_cast<unsigned long long>(first.records), static_cast<double>(first.bytes) * 1e-9, rounds);
    for (size_t s = 0; s < settings.size(); ++s) {
      std::vector<double> wall, reader, process;
      for (const Run& r : runs[s]) {
        wall.push_back(r.wall);
        reader.push_back(r.reader);
        process.push_back(r.process);
      }
      std::printf("%zu helpers: wall %.3f s (%.2f GB/s), reading thread %.3f s CPU, process %.3f s CPU, %llu of the records "
                  "found by the index\n",
                  settings[s], median(wall), static_cast<double>(first.bytes) * 1e-9 / median(wall), median(reader),
                  median(process), static_cast<unsigned long long>(runs[s].back().indexed));
    }
  } catch (const tokalign::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
