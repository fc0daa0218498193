// What compile, inspect and stats share: the dataset, tokenizer, template and the options
// that shape ids and labels; building the compiler from them; streaming a dataset through it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "chat/problem.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "report/inspect_view.h"
#include "tokenizer/tokenizer.h"
#include "util/checksum.h"

namespace tokalign::cli {

struct CompileSetup {
  std::string data;
  std::string tokenizer_path;
  std::string template_name;
  std::string template_file;
  std::string chat_template, chat_template_name;  // --template hf
  std::string input_format = "auto";
  std::string labels = "tokalign";
  bool train_on_prompt = false;
  bool last_turn_only = false;
  bool no_train_eos = false;
  std::vector<std::string> roles{"assistant"};
  std::string image_tokens = "placeholder";
  uint32_t image_token_count = 576;
  std::string image_token = "<image>";
  std::string vision, image_root;  // --vision POLICY, --image-root DIR
  size_t max_len = 0;
  bool parse_special_in_content = false;
  std::string image_placement = "llava";
  bool im_start_end = false;
  bool slow = false;
  size_t threads = 0;  // --threads: 0 = compile::auto_workers(); the output is the same for any count

  // Registers --data, --tokenizer, --template, --template-file and the label options.
  void add_to(CLI::App& app);
  // Loads tokenizer and template and builds the compiler. Returns 0, or the exit code after
  // printing a usage message prefixed with `command` (2) .
  int prepare(const char* command, bool keep_segments = false, bool keep_provenance = false);

  // One record of the dataset: ok with `sample` compiled, or not with `problem` (and
  // `sample` holding whatever was encoded before the problem).
  struct Record {
    const std::string& id;  // the record's id, as far as reading got ("#<index>" without one)
    size_t messages;        // the messages read
    const chat::SourcePos& pos;
    bool ok;
    compile::Sample& sample;  // (the sink may take its ids and labels: SampleWriter::take)
    const chat::Problem& problem;
  };
  // The input file's checksum and size, taken by the reader as it reads (chat::RecordStream's
  // Options::hash).
  struct InputDigest {
    explicit InputDigest(Checksum kind) : sum(kind) {}
    Digest sum;
    uint64_t bytes = 0;
  };
  // Streams --data through the compiler; `fn` returns false to stop early. Only the records
  // `wanted` accepts (by 0-based index; empty: all) are compiled and handed to `fn`. Returns
  // the number of records in the input (when `fn` did not stop early). With `digest`, the
  // reader hashes the input as it reads it; when `fn` did not stop early, the digest covers
  // the whole file.
  uint64_t for_each(const std::function<bool(const Record&)>& fn, const std::function<bool(uint64_t)>& wanted = {},
                    InputDigest* digest = nullptr) const;

  // The options as a JSON object (for manifests).
  std::string options_json() const;
  // The tokenizer files, hashed: {"path", "files": [{"name", "sha256", "bytes"}]}.
  std::string tokenizer_json() const;

  // A record as the inspect view shows it.
  static report::InspectItem inspect_item(const Record& r);
  // Vocabulary pieces of the loaded tokenizer (for the inspect view).
  report::PieceOf piece_of() const;

  std::unique_ptr<tok::Tokenizer> tokenizer;
  const chat::Template* tmpl = nullptr;
  std::unique_ptr<compile::Compiler> compiler;

 private:
  chat::TemplateRegistry custom_;
};

// Prints the built-in templates (compile --list-templates).
int list_templates();

}  // namespace tokalign::cli
