// tokalign audit: what LLaVA's own preprocessing does to a dataset, sample by sample.
// (First part: LLaVA-1.5 / LLaVA-NeXT v1, llama_2, mpt and plain preprocessors with the
// tokenizer as transformers 5.x loads it; see src/audit/.)
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <string>

#include "audit/llava_conv.h"
#include "audit/llava_preprocess.h"
#include "chat/record_stream.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::cli {

namespace {

struct AuditArgs {
  std::string data, tokenizer, version, impl = "llava", pad, format = "summary", out = "-";
  size_t model_max_length = 2048;
};

int run(const AuditArgs& a) {
  const audit::Impl impl = a.impl == "llava-next" ? audit::Impl::llava_next : audit::Impl::llava;
  std::optional<audit::LlavaConv> conv = audit::find_conv(impl, a.version);
  const bool fallback = !conv;
  if (fallback) {
    conv = audit::find_conv(impl, "vicuna_v1");
    std::fprintf(stderr,
                 "tokalign audit: WARNING: --version %s is not one of %s's conversation templates; its train() silently "
                 "uses vicuna_v1, and so does this audit\n",
                 a.version.c_str(), a.impl.c_str());
  }
  const tok::Tokenizer t = tok::Tokenizer::from_file(a.tokenizer);
  const auto pad_rule = (a.pad.empty() ? a.impl == "llava" : a.pad == "unk") ? audit::LlavaTokenizer::PadRule::unk
                                                                              : audit::LlavaTokenizer::PadRule::unk_or_own;
  audit::LlavaTokenizer lt = audit::LlavaTokenizer::load(t, a.tokenizer, pad_rule);
  lt.model_max_length = a.model_max_length;

  Input in(a.data);
  chat::RecordStream records(in.file(), in.name());
  Output out(a.out);
  simdjson::dom::parser parser;
  std::string_view rec;
  chat::SourcePos pos;
  uint64_t n = 0, zeroed = 0, errors = 0, mismatched = 0;
  std::map<std::string, uint64_t> error_kinds;
  std::string line;
  while (records.next(rec, pos)) {
    ++n;
    audit::LlavaSample s;
    std::string id = "#" + std::to_string(pos.index);
    audit::Outcome o;
    simdjson::dom::element d;
    simdjson::dom::array convs;
    if (parser.parse(rec.data(), rec.size(), true).get(d) || d["conversations"].get(convs)) {
      o.error = "not a LLaVA record (no \"conversations\" list)";
    } else {
      std::string_view sv;
      int64_t iv;
      if (!d["id"].get(sv)) id = std::string(sv);
      else if (!d["id"].get(iv)) id = std::to_string(iv);
      simdjson::dom::element img;
      s.has_image = d["image"].get(img) == simdjson::SUCCESS;
      for (simdjson::dom::element m : convs) {
        std::string_view from, value;
        if (m["from"].get(from)) from = "";
        if (m["value"].get(value)) value = "";
        s.sentences.emplace_back(std::string(from), std::string(value));
      }
      o = audit::llava_preprocess(*conv, impl, std::move(s), lt);
    }
    zeroed += o.zeroed;
    mismatched += o.mismatch;
    if (!o.error.empty()) {
      ++errors;
      ++error_kinds[o.error.substr(0, o.error.find(':'))];
    }
    if (a.format == "jsonl") {
      line = "{\"id\":";
      append_json_string(line, id);
      line += ",\"cur_len\":" + (o.cur_len ? std::to_string(*o.cur_len) : std::string("null"));
      line += ",\"total_len\":" + (o.total_len ? std::to_string(*o.total_len) : std::string("null"));
      line += std::string(",\"mismatch\":") + (o.mismatch ? "true" : "false");
      line += std::string(",\"zeroed\":") + (o.zeroed ? "true" : "false");
      line += ",\"preprocess\":";
      append_json_string(line, o.preprocessor);
      if (!o.warning.empty()) {
        line += ",\"warning\":";
        append_json_string(line, o.warning);
      }
      if (!o.error.empty()) {
        line += ",\"error\":";
        append_json_string(line, o.error);
      }
      line += "}\n";
      out.write(line);
    }
  }
  out.close();
  std::fprintf(stderr, "tokalign audit: %s with --version %s%s (%s) and %s: %llu samples, %llu zeroed (%llu mismatches), %llu raise\n",
               a.impl.c_str(), a.version.c_str(), fallback ? " -> vicuna_v1" : "", conv->name.c_str(), a.tokenizer.c_str(),
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(zeroed),
               static_cast<unsigned long long>(mismatched), static_cast<unsigned long long>(errors));
  for (const auto& [k, v] : error_kinds) std::fprintf(stderr, "  raises %s: %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  return zeroed || errors ? 1 : 0;
}

}  // namespace

Run add_audit(CLI::App& app) {
  auto a = std::make_shared<AuditArgs>();
  app.description(
      "Predict what LLaVA's own preprocessing does to a LLaVA-format dataset: per sample the cur_len and total_len it\n"
      "compares, the warning it prints, whether it zeroes the sample (loss 0) or raises. Emulates LLaVA-1.5 and\n"
      "LLaVA-NeXT's preprocess_v1 / preprocess_llama_2 / preprocess_mpt / preprocess_plain with the tokenizer as\n"
      "transformers 5.x loads it (work in progress: transformers 4.x's slow tokenizer, NeXT's qwen/gemma/llama3\n"
      "preprocessors, explanations and advice come next). Exit 1 when any sample would be zeroed or raise.");
  app.add_option("--data,-d", a->data, "LLaVA JSON or JSONL")->required();
  app.add_option("--tokenizer,-t", a->tokenizer, "tokenizer.json or model folder, as passed to LLaVA")->required();
  app.add_option("--version", a->version, "LLaVA's --version (the conversation template name)")->required();
  app.add_option("--impl", a->impl, "llava (default) or llava-next")->check(CLI::IsMember({"llava", "llava-next"}));
  app.add_option("--pad-token", a->pad,
                 "unk (LLaVA-1.5's train(): pad = unk, even when there is none; default for --impl llava) or "
                 "unk-or-own (pad = unk when there is one, else the tokenizer's pad; default for llava-next)")
      ->check(CLI::IsMember({"unk", "unk-or-own"}));
  app.add_option("--model-max-length", a->model_max_length, "LLaVA's --model_max_length (default 2048)");
  app.add_option("--format", a->format, "summary (default) or jsonl (one line per sample)")
      ->check(CLI::IsMember({"summary", "jsonl"}));
  app.add_option("--out,-o", a->out, "where the JSONL goes (- for stdout)");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
