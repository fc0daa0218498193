// tokalign compile: a conversation dataset -> token ids, labels and image slots, verified.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "chat/reader.h"
#include "chat/record_stream.h"
#include "chat/template.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "compile/compiler.h"
#include "shard/writer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/json_write.h"
#include "util/sha256.h"

namespace tokalign::cli {

namespace {

namespace fs = std::filesystem;

struct CompileArgs {
  std::string data;
  std::string tokenizer;
  std::string template_name;
  std::string template_file;
  std::string out;
  std::string format = "shard";
  std::string quarantine;
  bool overwrite = false;
  std::string input_format = "auto";
  std::string labels = "tokalign";
  bool train_on_prompt = false;
  bool last_turn_only = false;
  bool no_train_eos = false;
  std::vector<std::string> roles{"assistant"};
  std::string image_tokens = "placeholder";
  uint32_t image_token_count = 576;
  std::string image_token = "<image>";
  size_t max_len = 0;
  bool strict = false;
  bool parse_special_in_content = false;
  std::string image_placement = "llava";
  bool im_start_end = false;
  bool slow = false;
  bool list_templates = false;
  bool with_segments = false;
};

std::string json_str(std::string_view s) {
  std::string o;
  append_json_string(o, s);
  return o;
}

// The tokenizer file compile reads and the config files beside it, hashed for the manifest.
std::string tokenizer_info(const std::string& path) {
  fs::path p(path);
  std::vector<fs::path> files;
  if (fs::is_directory(p)) {
    for (const char* n : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
      if (fs::exists(p / n)) files.push_back(p / n);
  } else {
    files.push_back(p);
  }
  std::string s = "{\"path\": " + json_str(path) + ", \"files\": [";
  for (size_t i = 0; i < files.size(); ++i) {
    uint64_t bytes = 0;
    const std::string h = sha256_file(files[i].string(), &bytes);
    if (i) s += ", ";
    s += "{\"name\": " + json_str(files[i].filename().string()) + ", \"sha256\": \"" + h + "\", \"bytes\": ";
    append_uint(s, bytes);
    s += "}";
  }
  return s + "]}";
}

std::string options_json(const CompileArgs& a) {
  std::string s = "{";
  auto kv = [&](const char* k, const std::string& v) {
    if (s.size() > 1) s += ", ";
    s += json_str(k) + ": " + v;
  };
  kv("input_format", json_str(a.input_format));
  kv("labels", json_str(a.labels));
  kv("train_on_prompt", a.train_on_prompt ? "true" : "false");
  kv("last_turn_only", a.last_turn_only ? "true" : "false");
  kv("train_eos", a.no_train_eos ? "false" : "true");
  std::string roles = "[";
  for (size_t i = 0; i < a.roles.size(); ++i) roles += (i ? ", " : "") + json_str(a.roles[i]);
  kv("roles_to_train", roles + "]");
  kv("image_tokens", json_str(a.image_tokens));
  if (a.image_tokens == "expand") {
    kv("image_token", json_str(a.image_token));
    kv("image_token_count", std::to_string(a.image_token_count));
  }
  kv("max_len", std::to_string(a.max_len));
  kv("parse_special_in_content", a.parse_special_in_content ? "true" : "false");
  kv("image_placement", json_str(a.image_placement));
  kv("im_start_end", a.im_start_end ? "true" : "false");
  return s + "}";
}

chat::Role parse_role(const std::string& r) {
  if (r == "assistant") return chat::Role::assistant;
  if (r == "user") return chat::Role::user;
  if (r == "system") return chat::Role::system;
  throw CLI::ValidationError("--roles-to-train", "unknown role '" + r + "' (assistant, user, system)");
}

int list_templates() {
  for (const chat::Template& t : chat::TemplateRegistry::builtin().all()) {
    std::string names = t.name;
    for (const std::string& a : t.aliases) names += ", " + a;
    std::printf("%s\n    %s\n", names.c_str(), t.description.c_str());
  }
  return 0;
}

int run(const CompileArgs& a) {
  if (a.list_templates) return list_templates();
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign compile: %s\n", m.c_str());
    return 2;
  };
  if (a.slow)
    return usage("--slow (transformers' slow SentencePiece tokenizer, what LLaVA loads with use_fast=False) "
                 "is not implemented yet; it arrives with `tokalign audit`. Compile with the tokenizer.json.");
  if (a.data.empty() || a.tokenizer.empty() || a.out.empty()) return usage("--data, --tokenizer and --out are required");
  if (a.template_name.empty() == a.template_file.empty()) return usage("give exactly one of --template and --template-file");

  chat::TemplateRegistry custom;
  const chat::Template* tmpl;
  if (!a.template_file.empty()) {
    Input tf(a.template_file);
    custom.add(chat::Template::from_json(tf.read_all(), a.template_file));
    tmpl = &custom.all().front();
  } else {
    try {
      tmpl = &chat::TemplateRegistry::builtin().find(a.template_name);
    } catch (const Error& e) {
      return usage(e.what());  // LLaVA would silently fall back to vicuna_v1; we stop
    }
  }

  const tok::Tokenizer tokenizer = tok::Tokenizer::from_file(a.tokenizer);
  compile::Options o;
  o.labels = a.labels == "llava" ? compile::LabelMode::llava
             : a.labels == "llava-next" ? compile::LabelMode::llava_next
                                        : compile::LabelMode::tokalign;
  o.train_on_prompt = a.train_on_prompt;
  o.last_turn_only = a.last_turn_only;
  o.train_eos = !a.no_train_eos;
  o.roles.clear();
  for (const std::string& r : a.roles) o.roles.insert(parse_role(r));
  o.image_tokens = a.image_tokens == "expand" ? compile::ImageTokens::expand : compile::ImageTokens::placeholder;
  o.image_token_count = a.image_token_count;
  if (o.image_tokens == compile::ImageTokens::expand) {
    auto id = tokenizer.token_to_id(a.image_token);
    if (!id)
      return usage("--image-tokens expand needs the image token '" + a.image_token +
                   "' in the tokenizer's vocabulary (name another with --image-token)");
    o.image_token_id = *id;
  }
  o.max_len = a.max_len;
  o.parse_special_in_content = a.parse_special_in_content;
  o.placement = a.image_placement == "keep" ? chat::ImagePlacement::keep : chat::ImagePlacement::llava;
  if (a.im_start_end) {
    for (const char* t : {"<im_start>", "<im_end>"})
      if (!tokenizer.added_vocabulary().token_to_id(t))
        return usage(std::string("--im-start-end needs '") + t +
                     "' as an added token of the tokenizer (LLaVA adds <im_start> and <im_end> when it trains with "
                     "mm_use_im_start_end; use the tokenizer saved with that model)");
    o.image_start = "<im_start>";
    o.image_end = "<im_end>";
  }
  o.keep_segments = a.with_segments;
  const compile::Compiler compiler(tokenizer, *tmpl, o);

  if (!a.quarantine.empty() && a.format != "jsonl")
    return usage("--quarantine goes with --format jsonl; a shard keeps its quarantine.jsonl inside the folder");
  Input in(a.data);  // opened before anything is created, so a wrong path leaves nothing behind
  const std::string qpath = !a.quarantine.empty() ? a.quarantine
                            : a.out == "-"       ? std::string("quarantine.jsonl")
                                                 : (fs::path(a.out).replace_extension("").string() + ".quarantine.jsonl");
  std::unique_ptr<shard::SampleWriter> w =
      a.format == "jsonl" ? shard::make_jsonl_writer(a.out, qpath) : shard::make_shard_writer(a.out, a.overwrite);

  chat::RecordStream records(in.file(), in.name());
  chat::ConversationReader reader(chat::parse_input_format(a.input_format));
  std::string_view rec;
  chat::SourcePos pos;
  chat::Conversation conv;
  compile::Sample sample;
  chat::Problem problem;
  while (records.next(rec, pos)) {
    const bool ok = reader.read(rec, pos, conv, problem) && compiler.compile(conv, sample, problem);
    if (ok) {
      w->write(sample);
      continue;
    }
    if (a.strict) {
      std::fprintf(stderr, "tokalign compile: %s: sample %s: %s%s%s: %s\n", pos.describe().c_str(), conv.id.c_str(),
                   problem.reason.c_str(), problem.field.empty() ? "" : " at ", problem.field.c_str(),
                   problem.message.c_str());
      return 1;
    }
    shard::QuarantineRecord q{conv.id, pos.index, pos.file, pos.line, pos.byte_offset,
                              problem.reason, problem.field, problem.message};
    w->quarantine(q);
  }

  shard::RunInfo info;
  info.tokenizer_json = tokenizer_info(a.tokenizer);
  info.template_json = "{\"name\": " + json_str(tmpl->name) + ", \"sha256\": \"" + sha256_hex(tmpl->json) + "\"}";
  info.options_json = options_json(a);
  uint64_t bytes = 0;
  const std::string data_hash = a.data == "-" ? std::string() : sha256_file(a.data, &bytes);
  info.sources_json = "[{\"path\": " + json_str(a.data) + ", \"sha256\": " + (data_hash.empty() ? "null" : "\"" + data_hash + "\"") +
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
      "compiled go to quarantine with a reason code, so in = out + quarantined.");
  app.add_option("--data,-d", a->data, "dataset: LLaVA JSON (a list), JSONL, ShareGPT or messages records (- for stdin)");
  app.add_option("--tokenizer,-t", a->tokenizer, "tokenizer.json, or a model folder holding one");
  app.add_option("--template", a->template_name, "conversation template (see --list-templates)");
  app.add_option("--template-file", a->template_file, "a template described in JSON (docs/templates.md)");
  app.add_option("--out,-o", a->out, "output: a shard folder, or a JSONL file with --format jsonl (- for stdout)");
  app.add_option("--format", a->format, "shard (default; docs/shard-format.md) or jsonl")
      ->check(CLI::IsMember({"shard", "jsonl"}));
  app.add_option("--quarantine", a->quarantine,
                 "with --format jsonl: where quarantined samples go (default: <out>.quarantine.jsonl)");
  app.add_flag("--overwrite", a->overwrite, "replace a shard already in the output folder");
  app.add_option("--input-format", a->input_format, "auto (default), llava, sharegpt, messages, openai")
      ->check(CLI::IsMember({"auto", "llava", "sharegpt", "messages", "openai"}));
  app.add_option("--labels", a->labels,
                 "tokalign (default: assistant text + end-of-turn), llava or llava-next (what those codebases "
                 "intended for the template)")
      ->check(CLI::IsMember({"tokalign", "llava", "llava-next"}));
  app.add_flag("--train-on-prompt", a->train_on_prompt, "train every text token (not images or added BOS/EOS)");
  app.add_flag("--last-turn-only", a->last_turn_only, "train only the last message of each trained role");
  app.add_flag("--no-train-eos", a->no_train_eos, "do not train the end-of-turn string");
  app.add_option("--roles-to-train", a->roles, "roles whose messages are trained (default: assistant)")->delimiter(',');
  app.add_option("--image-tokens", a->image_tokens,
                 "placeholder (default: one -200 per image, LLaVA's convention) or expand (repeat --image-token)")
      ->check(CLI::IsMember({"placeholder", "expand"}));
  app.add_option("--image-token-count", a->image_token_count, "tokens per image with --image-tokens expand (default 576)")
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--image-token", a->image_token, "the token repeated by --image-tokens expand (default <image>)");
  app.add_option("--max-len", a->max_len,
                 "longest sample in tokens (images count as their slot length); earlier turns are dropped first, "
                 "samples that still do not fit are quarantined (0: no limit)");
  app.add_flag("--strict", a->strict, "stop at the first problem (exit 1) instead of quarantining");
  app.add_flag("--parse-special-in-content", a->parse_special_in_content,
               "treat special-token strings typed in messages as control tokens (HF's default; unsafe)");
  app.add_option("--image-placement", a->image_placement,
                 "llava (default: a message's single <image> moves to its front, then a newline) or keep")
      ->check(CLI::IsMember({"llava", "keep"}));
  app.add_flag("--im-start-end", a->im_start_end, "wrap images in <im_start> <im_end> (LLaVA's mm_use_im_start_end)");
  app.add_flag("--slow", a->slow, "tokenize as transformers' slow SentencePiece tokenizer (not implemented yet)");
  app.add_flag("--with-segments", a->with_segments,
               "with --format jsonl: add \"segments\": [[kind, text], ...], the rendered prompt as tagged pieces");
  app.add_flag("--list-templates", a->list_templates, "list the built-in templates and exit");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
