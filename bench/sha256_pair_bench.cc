// Two streams' SHA-256, as a shard's input_ids.bin and labels.bin are hashed: OpenSSL's digest
// (util/sha256.h) of one stream after the other, against Sha256Pair (util/sha256_pair.h)
// taking both in step, side by side in one run. 64 MiB a stream in the writer's 1 MiB
// buffers; "bytes_per_second" counts both streams.
//
//   build/bench/sha256_pair_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "util/sha256.h"
#include "util/sha256_pair.h"

namespace {

constexpr size_t kChunk = 1 << 20, kChunks = 64;

const std::vector<std::string>& stream(int which) {
  static const std::array<std::vector<std::string>, 2> streams = [] {
    std::array<std::vector<std::string>, 2> s;
    std::mt19937 rng(1);
    for (auto& v : s)
      for (size_t i = 0; i < kChunks; ++i) {
        std::string c(kChunk, '\0');
        for (char& ch : c) ch = static_cast<char>(rng());
        v.push_back(std::move(c));
      }
    return s;
  }();
  return streams[which];
}

void OpenSslOneAfterTheOther(benchmark::State& state) {
  for (auto _ : state) {
    tokalign::Sha256 a, b;
    for (const std::string& c : stream(0)) a.update(c);
    for (const std::string& c : stream(1)) b.update(c);
    benchmark::DoNotOptimize(a.hex());
    benchmark::DoNotOptimize(b.hex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk * kChunks));
}
BENCHMARK(OpenSslOneAfterTheOther)->Unit(benchmark::kMillisecond);

void PairInStep(benchmark::State& state) {
  const bool interleave = state.range(0) != 0;
  if (interleave && !tokalign::Sha256Pair::interleave_available()) {
    state.SkipWithError("this CPU has no SHA extensions");
    return;
  }
  for (auto _ : state) {
    tokalign::Sha256Pair h(interleave);
    for (size_t i = 0; i < kChunks; ++i) h.update(stream(0)[i], stream(1)[i]);
    benchmark::DoNotOptimize(h.hex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk * kChunks));
}
BENCHMARK(PairInStep)->ArgName("interleaved")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
