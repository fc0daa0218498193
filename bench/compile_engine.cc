// The compiler's time alone, in-process: a dataset is read and parsed into conversations first
// (not timed), then Compiler::compile (render, encode, labels, verify) runs over every sample
// on one thread, `repeats` times; each run's seconds are printed. No reading, JSON, threads or
// shard writing: for A/B of changes to the compile path, where whole-process times on a shared
// machine are too noisy (compare the minimum of many repeats, binary against binary).
//
//   build/bench/compile_engine TOKENIZER DATA.json TEMPLATE REPEATS
//   -> "samples N tokens T trained R" then one line of seconds per run
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chat/reader.h"
#include "chat/record_stream.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace tokalign;
  if (argc < 5) {
    std::fprintf(stderr, "usage: compile_engine TOKENIZER DATA.json TEMPLATE REPEATS\n");
    return 2;
  }
  try {
    const auto tok = tok::Tokenizer::from_file(argv[1]);
    const chat::Template& tmpl = chat::TemplateRegistry::builtin().find(argv[3]);
    const size_t repeats = std::strtoul(argv[4], nullptr, 10);
    FILE* f = std::fopen(argv[2], "rb");
    if (!f) throw Error(std::string(argv[2]) + ": cannot open");
    chat::RecordStream stream(f, argv[2]);
    chat::ConversationReader reader;
    std::vector<chat::Conversation> convs;
    std::string_view record;
    chat::SourcePos pos;
    chat::Problem problem;
    while (stream.next(record, pos)) {
      chat::Conversation c;
      if (reader.read(record, pos, c, problem)) convs.push_back(std::move(c));
    }
    std::fclose(f);
    const compile::Compiler compiler(tok, tmpl, compile::Options{});
    compile::Sample s;
    for (size_t r = 0; r < repeats; ++r) {
      size_t ok = 0, tokens = 0, trained = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (const chat::Conversation& c : convs) {
        if (!compiler.compile(c, s, problem)) continue;
        ++ok;
        tokens += s.input_ids.size();
        trained += s.trained_tokens();
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r == 0) std::printf("samples %zu of %zu tokens %zu trained %zu\n", ok, convs.size(), tokens, trained);
      std::printf("%.4f\n", sec);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compile_engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
