// tokalign decode: ids -> text.
#include <simdjson.h>

#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "cli/io.h"
#include "cli/jsonl_input.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::cli {

namespace {

struct DecodeArgs : TokenizerIo {
  bool jsonl = false;
  bool skip_special = false;
};

}  // namespace

Run add_decode(CLI::App& app) {
  auto a = std::make_shared<DecodeArgs>();
  app.description(
      "Turn token ids back into text (tokenizers.Tokenizer.decode).\n"
      "Without --jsonl the input is whitespace-separated ids and the text is printed as is.\n"
      "With --jsonl each input line is {\"ids\": [...]} and each output line {\"text\": ...}.");
  a->add_to(app);
  app.add_flag("--jsonl", a->jsonl, "JSONL in and out");
  app.add_flag("--skip-special", a->skip_special, "leave special tokens out of the text");
  return [a]() {
    tok::Tokenizer t = tok::Tokenizer::from_file(a->tokenizer);
    Input in(a->input);
    Output out(a->output);
    if (!a->jsonl) {
      std::istringstream ss(in.read_all());
      std::vector<uint32_t> ids;
      std::string word;
      while (ss >> word) {
        char* end = nullptr;
        unsigned long v = std::strtoul(word.c_str(), &end, 10);
        if (*end || word[0] == '-' || v > UINT32_MAX) throw Error(in.name() + ": \"" + word + "\" is not a token id");
        ids.push_back(static_cast<uint32_t>(v));
      }
      out.write(t.decode(ids, a->skip_special));
      out.close();
      return 0;
    }
    simdjson::dom::parser parser;
    std::string line, buf;
    size_t line_no = 0;
    while (read_line(in.file(), line)) {
      ++line_no;
      auto where = [&] { return in.name() + ":" + std::to_string(line_no) + ": "; };
      simdjson::dom::element doc;
      simdjson::dom::array arr;
      if (auto err = parser.parse(line).get(doc)) throw Error(where() + "not valid JSON: " + simdjson::error_message(err));
      if (doc["ids"].get_array().get(arr)) throw Error(where() + "expected an object with an array field \"ids\"");
      std::vector<uint32_t> ids;
      for (auto v : arr) {
        uint64_t id;
        if (v.get_uint64().get(id) || id > UINT32_MAX) throw Error(where() + "ids must be non-negative integers");
        ids.push_back(static_cast<uint32_t>(id));
      }
      buf.clear();
      buf += "{\"text\":";
      append_json_string(buf, t.decode(ids, a->skip_special));
      buf += "}\n";
      out.write(buf);
    }
    out.close();
    return 0;
  };
}

}  // namespace tokalign::cli
