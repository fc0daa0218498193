// Input and output files of the commands ("-" is stdin/stdout), with errors naming them.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace tokalign::cli {

// The options every tokenizer command takes: --tokenizer, --input, --output.
struct TokenizerIo {
  std::string tokenizer;
  std::string input = "-";
  std::string output = "-";
  void add_to(CLI::App& app) {
    app.add_option("--tokenizer,-t", tokenizer, "tokenizer.json file, or a model folder holding one")->required();
    app.add_option("--input,-i", input, "input file (- for stdin)")->default_val("-");
    app.add_option("--output,-o", output, "output file (- for stdout)")->default_val("-");
  }
};

class Input {
 public:
  explicit Input(const std::string& path);
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  FILE* file() const { return f_; }
  const std::string& name() const { return name_; }
  static std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }
  std::string read_all();

 private:
  FILE* f_;
  std::string name_;
  bool owned_;
};

class Output {
 public:
  explicit Output(const std::string& path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  void write(std::string_view s);
  void close();  // flushes; throws on a write error (disk full, closed pipe)

 private:
  FILE* f_;
  std::string name_;
  bool owned_;
};

}  // namespace tokalign::cli
