// The checksums of two streams, as a shard's input_ids.bin and labels.bin get theirs, side by
// side in one run, in the writer's 1 MiB buffers: 4 MiB a stream (in the CPU's caches, as the
// writer's freshly filled buffers are) and 64 MiB (from memory). CRC-32 (util/crc32.h, the
// default) of each stream; SHA-256 (--checksum sha256) as OpenSSL's digest (util/sha256.h) of
// one stream after the other, and as Sha256Pair (util/sha256_pair.h) taking both in step.
// "bytes_per_second" counts both streams.
//
//   build/bench/checksum_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "util/crc32.h"
#include "util/sha256.h"
#include "util/sha256_pair.h"

namespace {

constexpr size_t kChunk = 1 << 20, kMaxChunks = 64;

const std::vector<std::string>& stream(int which) {
  static const std::array<std::vector<std::string>, 2> streams = [] {
    std::array<std::vector<std::string>, 2> s;
    std::mt19937 rng(1);
    for (auto& v : s)
      for (size_t i = 0; i < kMaxChunks; ++i) {
        std::string c(kChunk, '\0');
        for (char& ch : c) ch = static_cast<char>(rng());
        v.push_back(std::move(c));
      }
    return s;
  }();
  return streams[which];
}

void Crc32EachStream(benchmark::State& state) {
  const size_t chunks = static_cast<size_t>(state.range(0));
  stream(0);  // made before the clock starts
  for (auto _ : state) {
    tokalign::Crc32 a, b;
    for (size_t i = 0; i < chunks; ++i) {
      a.update(stream(0)[i]);
      b.update(stream(1)[i]);
    }
    benchmark::DoNotOptimize(a.value());
    benchmark::DoNotOptimize(b.value());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk * chunks));
}
BENCHMARK(Crc32EachStream)->ArgName("MiB")->Arg(4)->Arg(64)->Unit(benchmark::kMillisecond);

void OpenSslOneAfterTheOther(benchmark::State& state) {
  const size_t chunks = static_cast<size_t>(state.range(0));
  stream(0);  // made before the clock starts
  for (auto _ : state) {
    tokalign::Sha256 a, b;
    for (size_t i = 0; i < chunks; ++i) a.update(stream(0)[i]);
    for (size_t i = 0; i < chunks; ++i) b.update(stream(1)[i]);
    benchmark::DoNotOptimize(a.hex());
    benchmark::DoNotOptimize(b.hex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk * chunks));
}
BENCHMARK(OpenSslOneAfterTheOther)->ArgName("MiB")->Arg(4)->Arg(64)->Unit(benchmark::kMillisecond);

void PairInStep(benchmark::State& state) {
  const bool interleave = state.range(0) != 0;
  const size_t chunks = static_cast<size_t>(state.range(1));
  stream(0);
  if (interleave && !tokalign::Sha256Pair::interleave_available()) {
    state.SkipWithError("this CPU has no SHA extensions");
    return;
  }
  for (auto _ : state) {
    tokalign::Sha256Pair h(interleave);
    for (size_t i = 0; i < chunks; ++i) h.update(stream(0)[i], stream(1)[i]);
    benchmark::DoNotOptimize(h.hex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk * chunks));
}
BENCHMARK(PairInStep)->ArgNames({"interleaved", "MiB"})->ArgsProduct({{1, 0}, {4, 64}})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
