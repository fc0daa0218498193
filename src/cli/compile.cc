// tokalign compile: a conversation dataset -> token ids, labels and image slots, verified.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "cli/io.h"
#include "cli/progress.h"
#include "report/inspect_view.h"
#include "shard/writer.h"
#include "util/json_write.h"
#include "util/sha256.h"

namespace tokalign::cli {

namespace {

namespace fs = std::filesystem;

struct CompileArgs {
  CompileSetup setup;
  std::string out;
  std::string format = "shard";
  std::string quarantine;
  bool overwrite = false;
  bool strict = false;
  bool list_templates = false;
  bool with_segments = false;
  int debug = -1;  // -1: off; N: inspect view of the first N samples and every quarantined one
};

int run(CompileArgs& a) {
  if (a.list_templates) return list_templates();
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign compile: %s\n", m.c_str());
    return 2;
  };
  CompileSetup& s = a.setup;
  if (a.out.empty() && !s.slow) return usage("--out is required");
  if (int rc = s.prepare("compile", a.with_segments, a.debug >= 0)) return rc;
  if (!a.quarantine.empty() && a.format != "jsonl")
    return usage("--quarantine goes with --format jsonl; a shard keeps its quarantine.jsonl inside the folder");
  { Input probe(s.data); }  // a wrong path fails before anything is created
  const std::string qpath = !a.quarantine.empty() ? a.quarantine
                            : a.out == "-"       ? std::string("quarantine.jsonl")
                                                 : (fs::path(a.out).replace_extension("").string() + ".quarantine.jsonl");
  std::unique_ptr<shard::SampleWriter> w =
      a.format == "jsonl" ? shard::make_jsonl_writer(a.out, qpath) : shard::make_shard_writer(a.out, a.overwrite);

  const bool color = a.debug >= 0 && isatty(fileno(stderr));
  const report::PieceOf piece = s.piece_of();
  int shown = 0;
  int rc = 0;
  std::error_code size_error;
  const uint64_t input_bytes = s.data == "-" ? 0 : fs::file_size(s.data, size_error);
  Progress progress("tokalign compile", size_error ? 0 : input_bytes, a.debug < 0 && progress_wanted());
  s.for_each([&](const CompileSetup::Record& r) {
    progress.tick(r.pos.byte_offset, !r.ok);
    if (a.debug >= 0 && (!r.ok || shown < a.debug)) {
      std::string view;
      report::write_terminal(view, CompileSetup::inspect_item(r), piece, color);
      std::fputs(view.c_str(), stderr);
      shown += r.ok;
    }
    if (r.ok) {
      w->write(r.sample);
      return true;
    }
    if (a.strict) {
      std::fprintf(stderr, "tokalign compile: %s: sample %s: %s%s%s: %s\n", r.pos.describe().c_str(), r.conv.id.c_str(),
                   r.problem.reason.c_str(), r.problem.field.empty() ? "" : " at ", r.problem.field.c_str(),
                   r.problem.message.c_str());
      rc = 1;
      return false;
    }
    w->quarantine(shard::QuarantineRecord{r.conv.id, r.pos.index, r.pos.file, r.pos.line, r.pos.byte_offset,
                                          r.problem.reason, r.problem.field, r.problem.message});
    return true;
  });
  progress.done();
  if (rc) return rc;

  shard::RunInfo info;
  info.tokenizer_json = s.tokenizer_json();
  info.template_json = "{\"name\": " + json_quoted(s.tmpl->name) + ", \"sha256\": \"" + sha256_hex(s.tmpl->json) + "\"}";
  info.options_json = s.options_json();
  uint64_t bytes = 0;
  const std::string data_hash = s.data == "-" ? std::string() : sha256_file(s.data, &bytes);
  info.sources_json = "[{\"path\": " + json_quoted(s.data) + ", \"sha256\": " + (data_hash.empty() ? "null" : "\"" + data_hash + "\"") +
                      ", \"bytes\": " + std::to_string(bytes) + "}]";
  w->finish(info);

  const shard::Counts& c = w->counts();
  std::string reasons;
  for (const auto& [k, v] : c.reasons) reasons += (reasons.empty() ? "" : ", ") + k + " " + std::to_string(v);
  std::fprintf(stderr, "tokalign compile: %llu samples in, %llu out, %llu quarantined%s%s%s; %llu tokens, %llu trained (%.1f%%)\n",
               static_cast<unsigned long long>(c.in), static_cast<unsigned long long>(c.out),
               static_cast<unsigned long long>(c.quarantined), reasons.empty() ? "" : " (", reasons.c_str(),
               reasons.empty() ? "" : ")", static_cast<unsigned long long>(c.tokens),
               static_cast<unsigned long long>(c.trained_tokens),
               c.tokens ? 100.0 * static_cast<double>(c.trained_tokens) / static_cast<double>(c.tokens) : 0.0);
  if (c.quarantined)
    std::fprintf(stderr, "tokalign compile: quarantined samples and their reasons: %s\n",
                 (a.format == "jsonl" ? qpath : (fs::path(a.out) / "quarantine.jsonl").string()).c_str());
  return 0;
}

}  // namespace

Run add_compile(CLI::App& app) {
  auto a = std::make_shared<CompileArgs>();
  app.description(
      "Compile a conversation dataset into token ids, labels and image slots that are correct by construction.\n"
      "The prompt is rendered with a template into tagged segments; ids are the Hugging Face tokenization of\n"
      "the whole prompt (cut at images as LLaVA's tokenizer_image_token does); labels follow from the tags\n"
      "through token offsets, never from re-counting. Every sample is verified; samples that cannot be\n"
      "compiled go to quarantine with a reason code, so in = out + quarantined. See docs/compile.md.");
  a->setup.add_to(app);
  app.add_option("--out,-o", a->out, "output: a shard folder, or a JSONL file with --format jsonl (- for stdout)");
  app.add_option("--format", a->format, "shard (default; docs/shard-format.md) or jsonl")
      ->check(CLI::IsMember({"shard", "jsonl"}));
  app.add_option("--quarantine", a->quarantine,
                 "with --format jsonl: where quarantined samples go (default: <out>.quarantine.jsonl)");
  app.add_flag("--overwrite", a->overwrite, "replace a shard already in the output folder");
  app.add_flag("--strict", a->strict, "stop at the first problem (exit 1) instead of quarantining");
  app.add_flag("--with-segments", a->with_segments,
               "with --format jsonl: add \"segments\": [[kind, text, role, message index], ...], the rendered prompt as tagged pieces");
  app.add_option("--debug", a->debug,
                 "print the inspect view (every token, its label and provenance) of the first N samples and of "
                 "every quarantined sample to stderr")
      ->expected(0, 1)
      ->default_str("3");
  app.add_flag("--list-templates", a->list_templates, "list the built-in templates and exit");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
