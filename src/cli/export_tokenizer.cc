// tokalign export-tokenizer: the tokenizer.json tokalign reads for a path, loadable by
// Hugging Face tokenizers. For a folder with only a SentencePiece tokenizer.model that is the
// conversion transformers 5.x makes, so other tools can use the same pipeline.
#include <string>

#include "cli/commands.h"
#include "cli/io.h"
#include "tokenizer/tokenizer.h"

namespace tokalign::cli {

Run add_export_tokenizer(CLI::App& app) {
  auto tokenizer = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("-");
  app.description(
      "Write the tokenizer.json tokalign uses for --tokenizer (a tokenizer.json, a model folder, or a folder\n"
      "with only a SentencePiece tokenizer.model, converted as transformers 5.x converts it).");
  app.add_option("--tokenizer,-t", *tokenizer, "tokenizer.json, model folder, or tokenizer.model")->required();
  app.add_option("--output,-o", *output, "where to write it (- for stdout)");
  return [tokenizer, output] {
    const std::string json = tok::Tokenizer::json_for(*tokenizer);
    tok::Tokenizer::from_json(json, *tokenizer);  // refuse what tokalign itself cannot load
    Output out(*output);
    out.write(json);
    out.close();
    return 0;
  };
}

}  // namespace tokalign::cli
