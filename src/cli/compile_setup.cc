#include "cli/compile_setup.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "chat/hf_segments.h"
#include "chat/reader.h"
#include "chat/record_stream.h"
#include "cli/io.h"
#include "compile/pipeline.h"
#include "util/error.h"
#include "util/json_write.h"
#include "util/sha256.h"
#include "vision/policy.h"

namespace tokalign::cli {

namespace {

namespace fs = std::filesystem;

chat::Role parse_role(const std::string& r) {
  if (r == "assistant") return chat::Role::assistant;
  if (r == "user") return chat::Role::user;
  if (r == "system") return chat::Role::system;
  throw CLI::ValidationError("--roles-to-train", "unknown role '" + r + "' (assistant, user, system)");
}

}  // namespace

void CompileSetup::add_to(CLI::App& app) {
  app.add_option("--threads,-j", threads,
                 "worker threads (0: of the cores this process may use (its CPU affinity and cgroup quota), every "
                 "one up to 7, three quarters of them from 8: the reader and the writers need the rest); the "
                 "output is identical for any count")
      ->capture_default_str();
  app.add_option("--data,-d", data, "dataset: LLaVA JSON (a list), JSONL, ShareGPT or messages records (- for stdin)");
  app.add_option("--tokenizer,-t", tokenizer_path, "tokenizer.json, or a model folder holding one");
  app.add_option("--template", template_name,
                 "conversation template (tokalign compile --list-templates), or hf: the model's own Jinja chat template "
                 "from the tokenizer folder (labels from {% generation %} blocks or prefix renders)");
  app.add_option("--chat-template", chat_template, "with --template hf: a Jinja template file (or JSON with \"chat_template\") "
                 "instead of the tokenizer folder's");
  app.add_option("--chat-template-name", chat_template_name, "with --template hf: which of several named templates");
  app.add_option("--template-file", template_file, "a template described in JSON (docs/templates.md)");
  app.add_option("--input-format", input_format, "auto (default), llava, sharegpt, messages, openai")
      ->check(CLI::IsMember({"auto", "llava", "sharegpt", "messages", "openai"}));
  app.add_option("--labels", labels,
                 "tokalign (default: assistant text + end-of-turn), llava or llava-next (what those codebases "
                 "intended for the template)")
      ->check(CLI::IsMember({"tokalign", "llava", "llava-next"}));
  app.add_flag("--train-on-prompt", train_on_prompt, "train every text token (not images or added BOS/EOS)");
  app.add_flag("--last-turn-only", last_turn_only, "train only the last message of each trained role");
  app.add_flag("--no-train-eos", no_train_eos, "do not train the end-of-turn string");
  app.add_option("--roles-to-train", roles, "roles whose messages are trained (default: assistant)")->delimiter(',');
  app.add_option("--image-tokens", image_tokens,
                 "placeholder (default: one -200 per image, LLaVA's convention) or expand (repeat --image-token)")
      ->check(CLI::IsMember({"placeholder", "expand"}));
  app.add_option("--image-token-count", image_token_count, "tokens per image with --image-tokens expand (default 576)")
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--image-token", image_token, "the token repeated by --image-tokens expand (default <image>)");
  app.add_option("--vision", vision,
                 "count each image's positions from its file header under this policy (tokalign vision --list): "
                 "--image-tokens expand repeats the image token that many times, --max-len counts them either way, "
                 "and an unreadable image quarantines its sample (image_unreadable)");
  app.add_option("--image-root", image_root, "with --vision: image paths are under this folder; paths leaving it are refused");
  app.add_option("--max-len", max_len,
                 "longest sample in tokens (images count as their slot length); earlier turns are dropped first, "
                 "samples that still do not fit are quarantined (0: no limit)");
  app.add_flag("--parse-special-in-content", parse_special_in_content,
               "treat special-token strings typed in messages as control tokens (HF's default; unsafe)");
  app.add_option("--image-placement", image_placement,
                 "llava (default: a message's single <image> moves to its front, then a newline, as LLaVA-1.5 "
                 "does), llava-next (only when it is not at the front already) or keep")
      ->check(CLI::IsMember({"llava", "llava-next", "keep"}));
  app.add_flag("--im-start-end", im_start_end, "wrap images in <im_start> <im_end> (LLaVA's mm_use_im_start_end)");
  app.add_flag("--slow", slow, "tokenize as transformers 4.37's slow SentencePiece tokenizer (not in compile yet: see encode --slow)");
}

int CompileSetup::prepare(const char* command, bool keep_segments, bool keep_provenance) {
  auto usage = [&](const std::string& m) {
    std::fprintf(stderr, "tokalign %s: %s\n", command, m.c_str());
    return 2;
  };
  if (slow)
    return usage("--slow (transformers 4.37's slow SentencePiece tokenizer, what LLaVA loads with use_fast=False) is "
                 "not available in compile yet: compile needs each token's offsets, which the slow tokenizer does not give. "
                 "`tokalign encode --slow` tokenizes as it does, and `tokalign audit` (transformers 4.37 by default) uses it; "
                 "compile uses the tokenizer.json, or a tokenizer.model folder converted as transformers 5.x converts it.");
  if (data.empty() || tokenizer_path.empty()) return usage("--data and --tokenizer are required");
  if (template_name.empty() == template_file.empty()) return usage("give exactly one of --template and --template-file");
  if (!chat_template.empty() && template_name != "hf") return usage("--chat-template goes with --template hf");
  if (template_name == "hf") {
    // Built below, once the tokenizer (whose special tokens end turns) is loaded.
  } else if (!template_file.empty()) {
    Input tf(template_file);
    custom_.add(chat::Template::from_json(tf.read_all(), template_file));
    tmpl = &custom_.all().front();
  } else {
    try {
      tmpl = &chat::TemplateRegistry::builtin().find(template_name);
    } catch (const Error& e) {
      return usage(e.what());  // LLaVA would silently fall back to vicuna_v1; we stop
    }
  }
  tokenizer = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_file(tokenizer_path));
  if (template_name == "hf") {
    custom_.add(chat::hf_compile_template(*tokenizer, {tokenizer_path, chat_template, chat_template_name}));
    tmpl = &custom_.all().front();
  }
  compile::Options o;
  o.labels = compile::parse_label_mode(labels);
  o.train_on_prompt = train_on_prompt;
  o.last_turn_only = last_turn_only;
  o.train_eos = !no_train_eos;
  o.roles.clear();
  for (const std::string& r : roles) o.roles.insert(parse_role(r));
  o.image_tokens = image_tokens == "expand" ? compile::ImageTokens::expand : compile::ImageTokens::placeholder;
  o.image_token_count = image_token_count;
  if (o.image_tokens == compile::ImageTokens::expand) {
    auto id = tokenizer->token_to_id(image_token);
    if (!id)
      return usage("--image-tokens expand needs the image token '" + image_token +
                   "' in the tokenizer's vocabulary (name another with --image-token)");
    o.image_token_id = *id;
  }
  if (!vision.empty()) {
    o.vision = vision::find_policy(vision);
    if (!o.vision) return usage("unknown --vision " + vision + " (see tokalign vision --list)");
    o.image_root = image_root;
  } else if (!image_root.empty()) {
    return usage("--image-root goes with --vision");
  }
  o.max_len = max_len;
  o.parse_special_in_content = parse_special_in_content;
  o.placement = chat::parse_image_placement(image_placement);
  if (im_start_end) {
    // LLaVA's initialize_vision_tokenizer adds them as special tokens when the tokenizer lacks
    // them (new ids at the end of the vocabulary); a tokenizer saved after training has them.
    const bool had = tokenizer->token_to_id("<im_start>") && tokenizer->token_to_id("<im_end>");
    const std::vector<uint32_t> ids = tokenizer->add_special_tokens({"<im_start>", "<im_end>"});
    if (!had)
      std::fprintf(stderr, "tokalign %s: the tokenizer has no <im_start>/<im_end>; added them as ids %u and %u, as LLaVA does\n",
                   command, ids[0], ids[1]);
    o.image_start = "<im_start>";
    o.image_end = "<im_end>";
  }
  o.keep_segments = keep_segments;
  o.keep_provenance = keep_provenance;
  compiler = std::make_unique<compile::Compiler>(*tokenizer, *tmpl, o);
  return 0;
}

uint64_t CompileSetup::for_each(const std::function<bool(const Record&)>& fn, const std::function<bool(uint64_t)>& wanted,
                                InputDigest* digest) const {
  Input in(data);
  chat::RecordStream::Options ro;
  if (digest) ro.hash = &digest->sum;
  ro.map = true;
  // The element index's helpers (RecordStream::Options::index_threads) are off unless
  // TOKALIGN_INDEX_THREADS=N asks for N (docs/HACKING.md). On the 16-core device they took
  // the reader's CPU from 0.54-0.64 to 0.27 s (665k mixture, -j 12) and the run did not move
  // (it is CPU-bound there); on the VM's two cores -j 2 ran 0.67 against 0.64 s. Where the
  // reader limits (32 cores) they are not yet measured (docs/BENCHMARKS.md, twenty-sixth
  // session).
  if (const char* v = std::getenv("TOKALIGN_INDEX_THREADS"); v && *v) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(v, &end, 10);
    if (*end || n > 256 || !std::isdigit(static_cast<unsigned char>(*v)))
      throw Error("TOKALIGN_INDEX_THREADS is '" + std::string(v) + "': a count of helper threads, 0 to 256, or unset");
    ro.index_threads = n;
  }
  chat::RecordStream records(in.file(), in.name(), ro);
  bool stopped = false;
  compile::PipelineOptions po;
  po.threads = threads;
  po.wanted = wanted;
  // TOKALIGN_PIPELINE_STATS=1: where the threads spent their time (docs/HACKING.md).
  compile::PipelineStats stats;
  const bool want_stats = std::getenv("TOKALIGN_PIPELINE_STATS") != nullptr;
  if (want_stats) po.stats = &stats;
  // TOKALIGN_PIPELINE_ROLES=split|shared: how the threads share the work, whatever their count
  // (for comparing the two designs; docs/HACKING.md).
  if (const char* r = std::getenv("TOKALIGN_PIPELINE_ROLES"); r && *r) {
    const std::string_view roles(r);
    if (roles == "split") po.roles = compile::PipelineOptions::Roles::split;
    else if (roles == "shared") po.roles = compile::PipelineOptions::Roles::shared;
    else throw Error("TOKALIGN_PIPELINE_ROLES is '" + std::string(roles) + "': 'split' or 'shared', or unset");
  }
  const uint64_t n = compile::run_pipeline(records, chat::parse_input_format(input_format), *compiler, po,
                                           [&](compile::PipelineItem& it) {
                                             stopped = !fn(Record{it.id, it.messages, it.pos, it.ok, it.sample, it.problem});
                                             return !stopped;
                                           });
  // (after a stop the digest is not wanted: the rest of the file is not read for it)
  if (digest && !stopped) digest->bytes = records.read_to_end();
  if (want_stats && stats.threads == 1)
    std::fprintf(stderr,
                 "tokalign compile: pipeline on 1 thread: reading and splitting %.3f s, parsing and compiling %.3f s, "
                 "handing on %.3f s (wall); its CPU %.3f s\n",
                 stats.reader_cpu, stats.workers_cpu, stats.sink_cpu, stats.thread_cpu);
  if (want_stats && stats.shared)
    std::fprintf(stderr,
                 "tokalign compile: pipeline on %zu threads, each reading, compiling and handing on in turn: reading "
                 "%.3f s CPU, %.3f s waiting for another thread reading; compiling %.3f s CPU, %.3f s waiting for room; "
                 "handing on %.3f s CPU\n",
                 stats.threads, stats.reader_cpu, stats.reader_wait, stats.workers_cpu, stats.workers_wait, stats.sink_cpu);
  else if (want_stats && stats.threads > 1)
    std::fprintf(stderr,
                 "tokalign compile: pipeline on %zu threads: reader %.3f s CPU, %.3f s waiting for room; workers %.3f s "
                 "CPU, %.3f s waiting for records; sink %.3f s CPU, %.3f s waiting for samples\n",
                 stats.threads, stats.reader_cpu, stats.reader_wait, stats.workers_cpu, stats.workers_wait,
                 stats.sink_cpu, stats.sink_wait);
  return n;
}

std::string CompileSetup::options_json() const {
  std::string s = "{";
  auto kv = [&](const char* k, const std::string& v) {
    if (s.size() > 1) s += ", ";
    s += json_quoted(k) + ": " + v;
  };
  kv("input_format", json_quoted(input_format));
  kv("labels", json_quoted(labels));
  kv("train_on_prompt", train_on_prompt ? "true" : "false");
  kv("last_turn_only", last_turn_only ? "true" : "false");
  kv("train_eos", no_train_eos ? "false" : "true");
  std::string r = "[";
  for (size_t i = 0; i < roles.size(); ++i) r += (i ? ", " : "") + json_quoted(roles[i]);
  kv("roles_to_train", r + "]");
  kv("image_tokens", json_quoted(image_tokens));
  if (image_tokens == "expand") {
    kv("image_token", json_quoted(image_token));
    kv("image_token_count", std::to_string(image_token_count));
  }
  kv("max_len", std::to_string(max_len));
  kv("parse_special_in_content", parse_special_in_content ? "true" : "false");
  kv("image_placement", json_quoted(image_placement));
  kv("im_start_end", im_start_end ? "true" : "false");
  return s + "}";
}

std::string CompileSetup::tokenizer_json() const {
  fs::path p(tokenizer_path);
  std::vector<fs::path> files;
  if (fs::is_directory(p)) {
    for (const char* n : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
      if (fs::exists(p / n)) files.push_back(p / n);
  } else {
    files.push_back(p);
  }
  std::string s = "{\"path\": " + json_quoted(tokenizer_path) + ", \"files\": [";
  for (size_t i = 0; i < files.size(); ++i) {
    uint64_t bytes = 0;
    const std::string h = sha256_file(files[i].string(), &bytes);
    if (i) s += ", ";
    s += "{\"name\": " + json_quoted(files[i].filename().string()) + ", \"sha256\": \"" + h + "\", \"bytes\": ";
    append_uint(s, bytes);
    s += "}";
  }
  return s + "]}";
}

report::InspectItem CompileSetup::inspect_item(const Record& r) {
  report::InspectItem it;
  it.id = r.id;
  it.index = r.pos.index;
  it.where = r.pos.describe();
  it.quarantined = !r.ok;
  if (!r.ok) {
    it.reason = r.problem.reason;
    it.field = r.problem.field;
    it.message = r.problem.message;
  }
  it.sample = r.sample;
  return it;
}

report::PieceOf CompileSetup::piece_of() const {
  const tok::Tokenizer* t = tokenizer.get();
  return [t](int32_t id) { return id < 0 ? std::string() : t->id_to_token(static_cast<uint32_t>(id)).value_or("?"); };
}

int list_templates() {
  for (const chat::Template& t : chat::TemplateRegistry::builtin().all()) {
    std::string names = t.name;
    for (const std::string& a : t.aliases) names += ", " + a;
    std::printf("%s\n    %s\n", names.c_str(), t.description.c_str());
  }
  return 0;
}

}  // namespace tokalign::cli
