// tokalign encode: text -> ids, the contract of shared/DESIGN.md.
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/jsonl_input.h"
#include "cli/io.h"
#include "report/visible.h"
#include "tokenizer/sentencepiece/slow_llama.h"
#include "tokenizer/tokenizer.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::cli {

namespace {

struct EncodeArgs : TokenizerIo {
  bool jsonl = false;
  bool no_add_special = false;
  bool parse_special = true;
  bool offsets = false;
  bool count = false;
  bool tokens = false;
  size_t threads = 1;
  std::string text;
  bool have_text = false;
  bool slow = false;
  std::string legacy;  // --legacy true|false with --slow: from_pretrained(..., legacy=...)
};

// The "text" of one {"text": ...} input line; the error names the file and line.
std::string_view text_field(simdjson::dom::parser& parser, const std::string& line, const std::string& file, size_t line_no) {
  simdjson::dom::element doc;
  std::string_view s;
  if (auto err = parser.parse(line).get(doc))
    throw Error(file + ":" + std::to_string(line_no) + ": not valid JSON: " + simdjson::error_message(err));
  if (doc["text"].get_string().get(s))
    throw Error(file + ":" + std::to_string(line_no) + ": expected an object with a string field \"text\"");
  return s;
}

std::string ids_line(const std::vector<int32_t>& ids) {
  std::string out = "{\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(ids[i]);
  }
  return out + "]}\n";
}

// --slow: transformers 4.37's slow LlamaTokenizer over tokenizer.model (what LLaVA's
// use_fast=False loads). No offsets: the slow tokenizer has none.
int run_slow(const EncodeArgs& a) {
  tok::spm::SlowLlamaTokenizer::Defaults d;
  if (!a.legacy.empty()) d.force_legacy = a.legacy == "true";
  const tok::spm::SlowLlamaTokenizer t = tok::spm::SlowLlamaTokenizer::load(a.tokenizer, d);
  const bool add = !a.no_add_special, split = !a.parse_special;
  Output out(a.output);
  if (a.jsonl) {
    Input in(a.input);
    simdjson::dom::parser parser;
    std::string line;
    size_t line_no = 0, total = 0;
    while (read_line(in.file(), line)) {
      ++line_no;
      const std::string_view s = text_field(parser, line, in.name(), line_no);
      const std::vector<int32_t> ids = t.encode(s, add, split);
      total += ids.size();
      if (!a.count) out.write(ids_line(ids));
    }
    if (a.count) out.write(std::to_string(total) + "\n");
    out.close();
    return 0;
  }
  const std::string text = a.have_text ? a.text : Input(a.input).read_all();
  std::vector<int32_t> ids;
  try {
    ids = t.encode(text, add, split);
  } catch (const Error& err) {
    throw Error((a.have_text ? std::string("--text") : Input::display_name(a.input)) + ": " + err.what() + " (tokenizer " +
                a.tokenizer + ", --slow)");
  }
  if (a.count) {
    out.write(std::to_string(ids.size()) + "\n");
  } else if (a.tokens) {
    std::string buf;
    char row[64];
    std::snprintf(row, sizeof row, "%6s %8s  %s\n", "pos", "id", "token");
    buf += row;
    for (size_t i = 0; i < ids.size(); ++i) {
      std::snprintf(row, sizeof row, "%6zu %8d  ", i, ids[i]);
      buf += row;
      buf += report::visible(t.id_to_token(ids[i])) + "\n";
    }
    out.write(buf);
  } else {
    out.write(ids_line(ids));
  }
  out.close();
  return 0;
}

void write_encoding(std::string& out, const tok::Encoding& e, bool offsets) {
  out += "{\"ids\":[";
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out.push_back(',');
    append_uint(out, e.ids[i]);
  }
  out.push_back(']');
  if (offsets) {
    out += ",\"offsets\":[";
    for (size_t i = 0; i < e.offsets.size(); ++i) {
      if (i) out.push_back(',');
      out.push_back('[');
      append_uint(out, e.offsets[i].first);
      out.push_back(',');
      append_uint(out, e.offsets[i].second);
      out.push_back(']');
    }
    out.push_back(']');
  }
  out += "}\n";
}

int run_jsonl(const EncodeArgs& a, const tok::Tokenizer& t, const tok::EncodeOptions& opts) {
  Input in(a.input);
  Output out(a.output);
  simdjson::dom::parser parser;
  std::vector<std::string> texts;
  std::vector<std::string_view> views;
  std::vector<tok::Encoding> encs;  // reused batch after batch
  std::string line, buf;
  size_t line_no = 0, total = 0;
  bool eof = false;
  while (!eof) {
    texts.clear();
    size_t bytes = 0;
    while (texts.size() < 4096 && bytes < (8u << 20)) {
      if (!read_line(in.file(), line)) {
        eof = true;
        break;
      }
      ++line_no;
      const std::string_view s = text_field(parser, line, in.name(), line_no);
      texts.emplace_back(s);
      bytes += s.size();
    }
    views.assign(texts.begin(), texts.end());
    try {
      t.encode_batch(views, opts, a.threads, encs);
    } catch (const Error&) {
      // Find the first line that fails, to name it.
      const size_t first_line = line_no - texts.size() + 1;
      for (size_t k = 0; k < texts.size(); ++k) {
        try {
          t.encode(texts[k], opts);
        } catch (const Error& e) {
          throw Error(in.name() + ":" + std::to_string(first_line + k) + ": " + e.what() + " (tokenizer " + t.source() + ")");
        }
      }
      throw;
    }
    buf.clear();
    for (const auto& e : encs) {
      total += e.ids.size();
      if (!a.count) write_encoding(buf, e, a.offsets);
    }
    out.write(buf);
  }
  if (a.count) out.write(std::to_string(total) + "\n");
  out.close();
  return 0;
}

int run_text(const EncodeArgs& a, const tok::Tokenizer& t, const tok::EncodeOptions& opts) {
  std::string text = a.have_text ? a.text : Input(a.input).read_all();
  tok::Encoding e;
  try {
    e = t.encode(text, opts);
  } catch (const Error& err) {
    throw Error((a.have_text ? std::string("--text") : Input::display_name(a.input)) + ": " + err.what() +
                " (tokenizer " + t.source() + ")");
  }
  Output out(a.output);
  std::string buf;
  if (a.count) {
    buf = std::to_string(e.ids.size()) + "\n";
  } else if (a.tokens) {
    char row[64];
    // Columns: position, id, offsets in chars, the vocabulary entry, and the input text the
    // token covers (whitespace made visible: \u2423 space, \u23CE newline, \u2192 tab).
    std::snprintf(row, sizeof row, "%6s %8s  %-12s %-20s %s\n", "pos", "id", "offsets", "token", "text");
    buf += row;
    const std::vector<uint32_t> char_start = unicode::char_starts(text);  // char index -> byte
    for (size_t i = 0; i < e.ids.size(); ++i) {
      std::string off = "[" + std::to_string(e.offsets[i].first) + "," + std::to_string(e.offsets[i].second) + ")";
      std::snprintf(row, sizeof row, "%6zu %8u  %-12s ", i, e.ids[i], off.c_str());
      buf += row;
      std::string tok = report::visible(t.id_to_token(e.ids[i]).value_or("?"));
      buf += tok;
      for (size_t w = report::display_width(tok); w < 20; ++w) buf.push_back(' ');
      buf.push_back(' ');
      if (e.special_mask[i]) {
        buf += "(special, added by the post-processor)";
      } else {
        size_t a = std::min<size_t>(e.offsets[i].first, char_start.size() - 1);
        size_t b = std::min<size_t>(e.offsets[i].second, char_start.size() - 1);
        buf += report::visible(std::string_view(text).substr(char_start[a], char_start[b] - char_start[a]));
      }
      buf += "\n";
    }
  } else {
    write_encoding(buf, e, a.offsets);
  }
  out.write(buf);
  out.close();
  return 0;
}

}  // namespace

Run add_encode(CLI::App& app) {
  auto a = std::make_shared<EncodeArgs>();
  app.description(
      "Tokenize text exactly as Hugging Face tokenizers does (tokenizers.Tokenizer.from_file(PATH).encode(text)).\n"
      "Without --jsonl the whole input (or --text) is one text and one JSON line {\"ids\": [...]} is printed.\n"
      "With --jsonl each input line is {\"text\": ...} and each output line {\"ids\": [...]}, in input order.");
  a->add_to(app);
  app.add_flag("--jsonl", a->jsonl, "JSONL in and out: {\"text\": ...} -> {\"ids\": [...]}");
  app.add_flag("--no-add-special", a->no_add_special, "do not add the post-processor's special tokens (bos, cls, ...)");
  app.add_flag("--parse-special,!--no-parse-special", a->parse_special,
               "match special-token strings in the text (default); --no-parse-special tokenizes them as plain text");
  app.add_flag("--offsets", a->offsets, "also print offsets: [start, end) in characters of the input");
  app.add_flag("--count", a->count, "print only the total number of tokens");
  app.add_flag("--tokens", a->tokens, "print a table of position, id, offsets and token (not with --jsonl)");
  app.add_option("--threads,-j", a->threads, "threads for --jsonl (0 = every core this process may use: its CPU affinity and cgroup quota)")->default_val(1);
  app.add_option("--text", a->text, "encode this text instead of reading the input");
  app.add_flag("--slow", a->slow,
               "tokenize as transformers 4.37's slow SentencePiece LlamaTokenizer (AutoTokenizer use_fast=False, what "
               "LLaVA trains with) from the folder's tokenizer.model and tokenizer_config.json: legacy (default True), "
               "add_bos_token (default True), added-token splitting. No --offsets");
  app.add_option("--legacy", a->legacy, "with --slow: override the config's legacy, as from_pretrained(..., legacy=...)")
      ->check(CLI::IsMember({"true", "false"}));
  return [a, &app]() {
    a->have_text = app.count("--text") > 0;
    if (a->jsonl && (a->tokens || a->have_text)) {
      std::fprintf(stderr, "tokalign encode: --tokens and --text do not go with --jsonl\n");
      return 2;
    }
    if (!a->legacy.empty() && !a->slow) {
      std::fprintf(stderr, "tokalign encode: --legacy goes with --slow\n");
      return 2;
    }
    if (a->slow) {
      if (a->offsets) {
        std::fprintf(stderr, "tokalign encode: --offsets does not go with --slow (the slow tokenizer has no offsets)\n");
        return 2;
      }
      return run_slow(*a);
    }
    tok::Tokenizer t = tok::Tokenizer::from_file(a->tokenizer);
    tok::EncodeOptions opts;
    opts.add_special_tokens = !a->no_add_special;
    opts.parse_special = a->parse_special;
    opts.offsets = a->offsets || a->tokens;
    return a->jsonl ? run_jsonl(*a, t, opts) : run_text(*a, t, opts);
  };
}

}  // namespace tokalign::cli
