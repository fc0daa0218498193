// tokalign audit: what LLaVA's own preprocessing does to a dataset, sample by sample.
// (LLaVA-1.5 / LLaVA-NeXT v1, llama_2, mpt and plain preprocessors with the tokenizer as
// transformers 4.37 or 5.x loads it; see src/audit/.)
#include <cstdio>
#include <map>
#include <string>

#include "audit/auditor.h"
#include "chat/record_stream.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::cli {

namespace {

struct AuditArgs {
  std::string data, tokenizer, version, impl = "llava", pad, format = "summary", out = "-", transformers = "4.37";
  size_t model_max_length = 2048;
  bool ids = false;
};

void append_ints(std::string& line, const char* key, const std::vector<int32_t>& v) {
  line += ",\"";
  line += key;
  line += "\":[";
  for (size_t i = 0; i < v.size(); ++i) line += (i ? "," : "") + std::to_string(v[i]);
  line += "]";
}

int run(const AuditArgs& a) {
  audit::AuditOptions ao;
  ao.version = a.version;
  ao.impl = audit::parse_impl(a.impl);
  ao.pad = a.pad;
  ao.transformers = audit::parse_transformers(a.transformers);
  ao.model_max_length = a.model_max_length;
  const tok::Tokenizer t = tok::Tokenizer::from_file(a.tokenizer);
  audit::Auditor auditor(t, a.tokenizer, ao);
  const audit::LlavaConv& conv = auditor.conv();
  const audit::LlavaTokenizer& lt = auditor.tokenizer();
  if (auditor.fallback())
    std::fprintf(stderr,
                 "tokalign audit: WARNING: --version %s is not one of %s's conversation templates; its train() silently "
                 "uses vicuna_v1, and so does this audit\n",
                 a.version.c_str(), a.impl.c_str());
  if (auditor.default_conv())
    std::fprintf(stderr,
                 "tokalign audit: note: --version %s does not select a template in train(): conversation.py's default (%s) "
                 "is used, with %s as the pad token\n",
                 a.version.c_str(), auditor.lookup_name().c_str(),
                 a.version == "v0" ? "the tokenizer's own pad or a new [PAD]" : "unk");

  uint64_t labels_differ = 0, ids_differ = 0;
  std::vector<std::string> explanations;  // for the first few mismatches
  Input in(a.data);
  chat::RecordStream records(in.file(), in.name());
  Output out(a.out);
  std::string_view rec;
  chat::SourcePos pos;
  uint64_t n = 0, zeroed = 0, errors = 0, mismatched = 0;
  std::map<std::string, uint64_t> error_kinds;
  std::string line;
  while (records.next(rec, pos)) {
    ++n;
    const audit::AuditResult r = auditor.audit(rec, pos);
    const audit::Outcome& o = r.outcome;
    labels_differ += !r.labels_differ.empty();
    ids_differ += !r.ids_differ.empty();
    zeroed += o.zeroed;
    mismatched += o.mismatch;
    if (o.mismatch && explanations.size() < 3) explanations.push_back(r.id + ": " + auditor.explain(o));
    if (!o.error.empty()) {
      ++errors;
      ++error_kinds[o.error.substr(0, o.error.find(':'))];
    }
    if (a.format == "jsonl") {
      line = "{\"id\":";
      append_json_string(line, r.id);
      line += ",\"cur_len\":" + (o.cur_len ? std::to_string(*o.cur_len) : std::string("null"));
      line += ",\"total_len\":" + (o.total_len ? std::to_string(*o.total_len) : std::string("null"));
      line += std::string(",\"mismatch\":") + (o.mismatch ? "true" : "false");
      line += std::string(",\"zeroed\":") + (o.zeroed ? "true" : "false");
      line += ",\"preprocess\":";
      append_json_string(line, o.preprocessor);
      auto add_text = [&](const char* key, const std::string& v) {
        if (v.empty()) return;
        line += ",\"";
        line += key;
        line += "\":";
        append_json_string(line, v);
      };
      add_text("warning", o.warning);
      add_text("error", o.error);
      add_text("labels_differ", r.labels_differ);
      add_text("ids_differ", r.ids_differ);
      if (a.ids && o.error.empty()) {
        append_ints(line, "input_ids", o.input_ids);
        append_ints(line, "labels", o.labels);
      }
      line += "}\n";
      out.write(line);
    }
  }
  out.close();
  std::fprintf(stderr,
               "tokalign audit: %s with --version %s%s (%s) and %s (%s, transformers %s): %llu samples, %llu zeroed (%llu "
               "mismatches), %llu raise\n",
               a.impl.c_str(), a.version.c_str(), auditor.fallback() ? " -> vicuna_v1" : "", conv.name.c_str(),
               a.tokenizer.c_str(), lt.slow ? "slow LlamaTokenizer" : lt.class_name.c_str(), a.transformers.c_str(),
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(zeroed),
               static_cast<unsigned long long>(mismatched), static_cast<unsigned long long>(errors));
  for (const auto& [k, v] : error_kinds) std::fprintf(stderr, "  raises %s: %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  for (const std::string& x : explanations) std::fprintf(stderr, "  why, %s\n", x.c_str());
  if (labels_differ)
    std::fprintf(stderr, "  %llu samples LLaVA trains get other labels than its template intends (labels_differ in the JSONL)\n",
                 static_cast<unsigned long long>(labels_differ));
  if (ids_differ)
    std::fprintf(stderr,
                 "  %llu samples LLaVA trains get other ids than tokalign compile gives with this folder and template "
                 "(ids_differ in the JSONL: %s)\n",
                 static_cast<unsigned long long>(ids_differ),
                 lt.slow ? "transformers 4.37's slow tokenizer against the tokenizer as 5.x loads it, or LLaVA's own way of "
                           "building this template's text"
                         : "LLaVA's own way of building this template's text");
  if (!zeroed && !errors) return 0;
  // What would work: every version of this implementation tried on the first samples.
  std::string list;
  for (const std::string& w : auditor.working_versions()) list += (list.empty() ? "" : ", ") + w;
  std::fprintf(stderr, "  versions of %s that train all of the first %zu samples with this tokenizer: %s\n", a.impl.c_str(),
               auditor.kept(), list.empty() ? "none" : list.c_str());
  std::fprintf(stderr, "  labels that are right whatever the tokenizer: tokalign compile --data %s --tokenizer %s --template %s --out shard/\n",
               a.data.c_str(), a.tokenizer.c_str(), conv.name.c_str());
  return 1;
}

}  // namespace

Run add_audit(CLI::App& app) {
  auto a = std::make_shared<AuditArgs>();
  app.description(
      "Predict what LLaVA's own preprocessing does to a LLaVA-format dataset: per sample the cur_len and total_len it\n"
      "compares, the warning it prints, whether it zeroes the sample (loss 0) or raises. Emulates LLaVA-1.5 and\n"
      "LLaVA-NeXT's preprocess_v1 / preprocess_llama_2 / preprocess_mpt / preprocess_plain with the tokenizer as\n"
      "AutoTokenizer(use_fast=False) loads it under transformers 4.37 (LLaVA's pin: a LlamaTokenizer folder is the slow\n"
      "SentencePiece tokenizer, legacy and add_bos_token default True) or 5.x. NeXT's qwen/gemma/llama3 preprocessors\n"
      "are not emulated yet. Exit 1 when any sample would be zeroed or raise.");
  app.add_option("--data,-d", a->data, "LLaVA JSON or JSONL")->required();
  app.add_option("--tokenizer,-t", a->tokenizer, "tokenizer.json or model folder, as passed to LLaVA")->required();
  app.add_option("--version", a->version, "LLaVA's --version (the conversation template name)")->required();
  app.add_option("--impl", a->impl, "llava (default) or llava-next")->check(CLI::IsMember({"llava", "llava-next"}));
  app.add_option("--pad-token", a->pad,
                 "unk (LLaVA-1.5's train(): pad = unk, even when there is none; default for --impl llava) or "
                 "unk-or-own (pad = unk when there is one, else the tokenizer's pad; default for llava-next)")
      ->check(CLI::IsMember({"unk", "unk-or-own"}));
  app.add_option("--transformers-version", a->transformers,
                 "4.37 (default: LLaVA's pin; use_fast=False gives the slow SentencePiece LlamaTokenizer from tokenizer.model) "
                 "or 5 (transformers 5.x, measured with 5.17: tokenizer.json, or tokenizer.model converted; a config "
                 "without add_bos_token means no BOS)")
      ->check(CLI::IsMember({"4.37", "5", "5.17"}));
  app.add_option("--model-max-length", a->model_max_length, "LLaVA's --model_max_length (default 2048)");
  app.add_option("--format", a->format, "summary (default) or jsonl (one line per sample)")
      ->check(CLI::IsMember({"summary", "jsonl"}));
  app.add_option("--out,-o", a->out, "where the JSONL goes (- for stdout)");
  app.add_flag("--ids", a->ids, "with --format jsonl: also LLaVA's input_ids and labels per sample (-200 for the image, -100 ignored)");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
