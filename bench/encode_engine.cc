// The engine's encoding time on a JSONL file of {"text"} lines, in-process: the texts are read
// first (not timed), then Tokenizer::encode_batch runs over them in batches of `batch` texts,
// `repeats` times, each run's seconds printed (batches of 256 texts a thread unless BATCH). bench/python_encode.sh runs the Python module's
// encode_batch the same way, so the two differ only in being called through Python.
//
//   build/bench/encode_engine TOKENIZER TEXTS.jsonl THREADS REPEATS [BATCH]
//   -> "tokens N" then one line of seconds per run
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/file.h"
#include "util/worker_pool.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: encode_engine TOKENIZER TEXTS.jsonl THREADS REPEATS [BATCH]\n");
    return 2;
  }
  const auto tok = tokalign::tok::Tokenizer::from_file(argv[1]);
  const size_t threads = std::strtoul(argv[3], nullptr, 10), repeats = std::strtoul(argv[4], nullptr, 10);
  // As the Python module batches: 256 texts a thread.
  const size_t batch = argc > 5 ? std::strtoul(argv[5], nullptr, 10) : 256 * tokalign::resolve_threads(threads);
  std::vector<std::string> texts;
  simdjson::dom::parser parser;
  const std::string all = tokalign::read_file(argv[2]);
  for (size_t i = 0; i < all.size();) {
    size_t nl = all.find('\n', i);
    if (nl == std::string::npos) nl = all.size();
    if (nl > i) {
      std::string_view t;
      if (parser.parse(all.data() + i, nl - i)["text"].get(t)) {
        std::fprintf(stderr, "encode_engine: %s: line without a \"text\" string\n", argv[2]);
        return 1;
      }
      texts.emplace_back(t);
    }
    i = nl + 1;
  }
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  tokalign::tok::EncodeOptions o;
  std::vector<tokalign::tok::Encoding> es;
  for (size_t r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    size_t tokens = 0;
    for (size_t b = 0; b < views.size(); b += batch) {
      const std::span<const std::string_view> part(views.data() + b, std::min(batch, views.size() - b));
      tok.encode_batch(part, o, threads, es);
      for (size_t i = 0; i < part.size(); ++i) tokens += es[i].ids.size();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == 0) std::printf("tokens %zu\n", tokens);
    std::printf("%.4f\n", s);
  }
  return 0;
}
