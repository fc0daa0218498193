// tokalign: training data for vision-language models, correct by construction.
#include <cstdio>
#include <exception>
#include <map>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tokalign: token ids and labels for LLaVA-style training data that are correct by construction.\n"
      "Tokenization is bit-exact with Hugging Face tokenizers for any tokenizer.json."};
  app.require_subcommand(1);
  std::map<CLI::App*, tokalign::cli::Run> runs;
  auto add = [&](const char* name, const char* help, tokalign::cli::Run (*fn)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    runs[sub] = fn(*sub);
  };
  add("encode", "Tokenize text exactly as Hugging Face tokenizers does", &tokalign::cli::add_encode);
  add("decode", "Turn token ids back into text", &tokalign::cli::add_decode);
  add("compile", "Compile a conversation dataset into verified ids, labels and image slots", &tokalign::cli::add_compile);
  add("merge", "Check and join the parts of compile --shard I/N runs", &tokalign::cli::add_merge);
  add("render", "Render conversations with a model's own chat template (Jinja), as transformers does",
      &tokalign::cli::add_render);
  add("inspect", "Show every token of chosen samples with its label and provenance", &tokalign::cli::add_inspect);
  add("audit", "Predict what LLaVA's own preprocessing does to a dataset", &tokalign::cli::add_audit);
  add("vision", "Image token counts per vision policy, from image sizes or file headers", &tokalign::cli::add_vision);
  add("guard", "Run a training command; roll it back to a good checkpoint when its loss goes wrong",
      &tokalign::cli::add_guard);
  add("export-tokenizer", "Write the tokenizer.json tokalign uses (e.g. converted from tokenizer.model)",
      &tokalign::cli::add_export_tokenizer);
  add("stats", "Statistics of a dataset or shard; --fail-if gates training on them", &tokalign::cli::add_stats);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const tokalign::Error& e) {
    std::fprintf(stderr, "tokalign: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokalign: internal error: %s\n", e.what());
    return 3;
  }
  return 2;
}
