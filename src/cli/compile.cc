// tokalign compile: a conversation dataset -> token ids, labels and image slots, verified.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <vector>
#include <string>

#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "cli/io.h"
#include "cli/progress.h"
#include "compile/pipeline.h"
#include "report/inspect_view.h"
#include "shard/part_commits.h"
#include "shard/parts.h"
#include "shard/writer.h"
#include "util/checksum.h"
#include "util/cpus.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"
#include "util/sha256.h"
#include "util/thread_cpu.h"

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
  uint64_t part_size = 0;  // >0: a parted output (shard/parts.h)
  std::string shard_spec;  // --shard I/N
  std::string checksum;  // the input's and the shard files' (util/checksum.h); empty: crc32
  Checksum checksum_kind() const { return parse_checksum(checksum.empty() ? "crc32" : checksum); }
};

constexpr uint64_t kDefaultPartSize = 100000;

void print_counts(const shard::Counts& c) {
  std::string reasons;
  for (const auto& [k, v] : c.reasons) reasons += (reasons.empty() ? "" : ", ") + k + " " + std::to_string(v);
  std::fprintf(stderr, "tokalign compile: %llu samples in, %llu out, %llu quarantined%s%s%s; %llu tokens, %llu trained (%.1f%%)\n",
               static_cast<unsigned long long>(c.in), static_cast<unsigned long long>(c.out),
               static_cast<unsigned long long>(c.quarantined), reasons.empty() ? "" : " (", reasons.c_str(),
               reasons.empty() ? "" : ")", static_cast<unsigned long long>(c.tokens),
               static_cast<unsigned long long>(c.trained_tokens),
               c.tokens ? 100.0 * static_cast<double>(c.trained_tokens) / static_cast<double>(c.tokens) : 0.0);
  // Nothing to train on is a success by the exit code (quarantine is not an error without
  // --strict), so it is said outright.
  if (c.out == 0)
    std::fprintf(stderr, "tokalign compile: warning: no sample compiled: %s\n",
                 c.in == 0 ? "no record read (an empty input, or an empty slice of it)"
                           : "every sample was quarantined (the reasons above)");
}

// With --shard I/N over fewer parts than slices, some slices have nothing to do (a Slurm
// array of 8 over 665k records in the default parts of 100,000 leaves its eighth task idle):
// said after the summary, with the part size that gives every slice a part.
void warn_idle_slices(uint64_t records, uint64_t part_size, uint64_t parts, uint64_t slice, uint64_t slices) {
  if (slices <= 1 || parts >= slices || records == 0) return;  // (an empty input is said by print_counts)
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  const bool mine = slice >= parts;
  const std::string idle = parts + 1 == slices
                               ? "slice " + std::to_string(parts) + (mine ? ", this run's," : "") + " has no part"
                               : "slices " + std::to_string(parts) + " to " + std::to_string(slices - 1) + " have no part" +
                                     (mine ? ", this run's among them" : "");
  std::fprintf(stderr, "tokalign compile: warning: the input's %llu records make %llu part(s) of up to %llu for %llu slices: %s",
               u(records), u(parts), u(part_size), u(slices), idle.c_str());
  if (records >= slices)
    std::fprintf(stderr, "; --part-size %llu or less, the same in every slice's run, gives each slice a part\n",
                 u(records / slices));
  else
    std::fprintf(stderr, "; fewer records than slices: use at most %llu slices\n", u(records));
}

// Whether the shard's two big files (input_ids.bin, labels.bin) are written on one thread
// (shard/writer.h; with --checksum sha256 hashed together: 0.8 of the CPU their hashes take
// apart, which on one CPU is time); but one thread's pace, which more than two compile threads
// outrun (with SHA-256, 665,000 samples at -j 12 took 2.0 s paired against 1.3 s apart).
bool paired_writer(const CompileSetup& s) { return available_cpus() == 1 || compile::pipeline_workers(s.threads) <= 2; }

// The run's identity for the manifest; the input's checksum (of the kind `sum`) from `digest`
// when the reader took it, else from a pass over the file here.
shard::RunInfo run_info(const CompileSetup& s, Checksum sum, CompileSetup::InputDigest* digest = nullptr) {
  shard::RunInfo info;
  info.tokenizer_json = s.tokenizer_json();
  info.template_json = "{\"name\": " + json_quoted(s.tmpl->name) + ", \"sha256\": \"" + sha256_hex(s.tmpl->json) + "\"}";
  info.options_json = s.options_json();
  uint64_t bytes = digest ? digest->bytes : 0;
  const std::string data_hash = s.data == "-" ? std::string() : digest ? digest->sum.hex() : checksum_file(s.data, sum, &bytes);
  info.sources_json = "[{\"path\": " + json_quoted(s.data) + ", \"" + checksum_name(sum) + "\": " +
                      (data_hash.empty() ? "null" : "\"" + data_hash + "\"") + ", \"bytes\": " + std::to_string(bytes) + "}]";
  return info;
}

// run_info on a thread of its own: its CPU time counts as the input's hash (TOKALIGN_PIPELINE_STATS).
shard::RunInfo run_info_noted(const CompileSetup& s, Checksum sum) {
  shard::RunInfo info = run_info(s, sum);
  note_thread_cpu("input hash");
  return info;
}

using Clock = std::chrono::steady_clock;
double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// With TOKALIGN_PIPELINE_STATS: the CPU time of the threads beside the pipeline, by role, and
// the waits noted beside it (util/thread_cpu.h), once the threads have ended.
void print_thread_cpu() {
  auto line = [](const char* title, const std::vector<std::string>& pieces) {
    std::string all;
    for (const std::string& p : pieces) all += (all.empty() ? "" : ", ") + p;
    if (!all.empty()) std::fprintf(stderr, "tokalign compile: %s: %s\n", title, all.c_str());
  };
  char one[160];
  std::vector<std::string> cpu, waits;
  for (const ThreadCpu& t : noted_thread_cpu()) {
    std::snprintf(one, sizeof one, "%s %.3f s (%zu thread%s)", t.role.c_str(), t.seconds, t.threads, t.threads == 1 ? "" : "s");
    cpu.push_back(one);
  }
  for (const auto& [what, seconds] : noted_waits()) {
    std::snprintf(one, sizeof one, "%s %.3f s", what.c_str(), seconds);
    waits.push_back(one);
  }
  line("CPU of the other threads", cpu);
  line("waits beside the pipeline", waits);
}

// A record of the pipeline that did not compile, as the quarantine keeps it.
shard::QuarantineRecord quarantine_record(const CompileSetup::Record& r) {
  return shard::QuarantineRecord{r.id, r.pos.index, r.pos.file, r.pos.line, r.pos.byte_offset,
                                 r.problem.reason, r.problem.field, r.problem.message};
}

void print_strict(const CompileSetup::Record& r) {
  std::fprintf(stderr, "tokalign compile: %s: sample %s: %s%s%s: %s\n", r.pos.describe().c_str(), r.id.c_str(),
               r.problem.reason.c_str(), r.problem.field.empty() ? "" : " at ", r.problem.field.c_str(),
               r.problem.message.c_str());
}

// The progress line of a compile over --data (its size gives the share done and the ETA).
Progress compile_progress(const CompileSetup& s, bool wanted) {
  std::error_code size_error;
  const uint64_t input_bytes = s.data == "-" ? 0 : fs::file_size(s.data, size_error);
  return Progress("tokalign compile", size_error ? 0 : input_bytes, wanted && progress_wanted());
}

// One record to the writer: the sample, or its quarantine record; with --strict a problem
// stops the run (rc 1, false).
bool deliver(shard::SampleWriter& w, const CompileSetup::Record& r, bool strict, int& rc) {
  if (r.ok) {
    w.take(r.sample);
    return true;
  }
  if (strict) {
    print_strict(r);
    rc = 1;
    return false;
  }
  w.quarantine(quarantine_record(r));
  return true;
}

// --part-size / --shard: the output cut into parts of part_size input records, each committed
// on its own; a rerun resumes after the committed parts; --shard I/N does the parts p with
// p % N == I. See shard/parts.h. `compiling` is set once records are being compiled.
int run_parted_once(CompileArgs& a, bool& compiling) {
  CompileSetup& s = a.setup;
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign compile: %s\n", m.c_str());
    return 2;
  };
  uint64_t slice = 0, slices = 1;
  if (!a.shard_spec.empty()) {
    unsigned long long i = 0, n = 0;
    char extra = 0;
    if (std::sscanf(a.shard_spec.c_str(), "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
      return usage("--shard wants I/N with 0 <= I < N (e.g. --shard 0/4), not '" + a.shard_spec + "'");
    slice = i;
    slices = n;
  }
  if (a.format != "shard") return usage("--part-size and --shard write a shard folder (not --format jsonl)");
  if (s.data == "-") return usage("--part-size and --shard need --data to be a file (a resumed run reads it again)");
  if (a.strict && slices > 1) return usage("--strict and --shard do not go together: use --strict on the whole input");
  const fs::path dir(a.out);
  std::error_code ec;
  if (fs::exists(dir / "manifest.json") && !a.overwrite)
    throw Error(a.out + ": already holds a single shard (manifest.json); pass --overwrite to replace it");
  // --overwrite: the earlier output is deleted beside the run (waited for when it ends).
  const BackgroundRemoval old_output = a.overwrite ? shard::clear_output(a.out) : BackgroundRemoval{};
  fs::create_directories(dir, ec);
  if (ec) throw Error(a.out + ": cannot create the output folder: " + ec.message());

  // The run's identity in every part manifest includes the input's hash: a second pass over
  // the input, run beside the compile. Only a resumed run (committed parts already there)
  // waits for it first, to check that those parts belong to this run.
  const uint64_t K = a.part_size ? a.part_size : kDefaultPartSize;
  const std::shared_future<shard::RunInfo> info_later =
      std::async(std::launch::async, [&s, &a] { return run_info_noted(s, a.checksum_kind()); }).share();
  std::map<uint64_t, shard::Counts> done;
  if (!shard::part_folders(a.out).empty()) done = shard::committed_parts(a.out, shard::PartRun{info_later.get(), K});
  shard::remove_unfinished_parts(a.out, slice, slices);
  if (!done.empty()) std::fprintf(stderr, "tokalign compile: resuming: %zu part(s) already in %s\n", done.size(), a.out.c_str());

  Progress progress = compile_progress(s, true);
  std::unique_ptr<shard::SampleWriter> w;
  uint64_t current = 0;
  const bool paired = paired_writer(s);
  // A part written in full is committed in the background (shard/part_commits.h): its files
  // closed and synced, then, once the input's hash is ready, its manifest written. The thread
  // that hands samples on goes straight on to the next part. A part not committed when the
  // run dies has no manifest, and is redone on resume, as any unfinished part.
  shard::PartCommits commits(info_later, [K](uint64_t p, shard::SampleWriter& part, const shard::RunInfo& info) {
    shard::RunInfo ri = info;
    ri.part_json = shard::part_json(p, K);
    part.finish(ri);
  });
  auto commit = [&] {
    if (w) commits.add(current, std::move(w));
  };
  int rc = 0;
  const Clock::time_point t_records = Clock::now();
  compiling = true;
  const uint64_t records = s.for_each(
      [&](const CompileSetup::Record& r) {
        progress.tick(r.pos.byte_offset, !r.ok);
        const uint64_t p = r.pos.index / K;
        if (!w || p != current) {
          commit();
          current = p;
          w = shard::make_shard_writer((dir / shard::part_name(p)).string(), true, paired, a.checksum_kind());
        }
        return deliver(*w, r, a.strict, rc);
      },
      [&](uint64_t index) {
        const uint64_t p = index / K;
        return p % slices == slice && !done.count(p);
      });
  progress.done();
  if (rc) {
    commits.wait();
    return rc;  // the unfinished part is left without a manifest: redone next time
  }
  const Clock::time_point t_finish = Clock::now();
  commit();
  const std::vector<uint64_t> written = commits.wait();

  const shard::PartRun run{info_later.get(), K};
  if (std::getenv("TOKALIGN_PIPELINE_STATS")) {
    std::fprintf(stderr, "tokalign compile: records %.3f s, finish %.3f s (the last parts' files closed and synced, their manifests)\n",
                 secs(t_records, t_finish), secs(t_finish, Clock::now()));
    print_thread_cpu();
  }
  const std::map<uint64_t, shard::Counts> all = shard::committed_parts(a.out, run);
  if (slices > 1) shard::write_slice_record(a.out, run, slice, slices, records, written);
  const std::vector<std::string> problems = shard::check_parts(all, records, K);
  shard::Counts c;
  for (const auto& [i, pc] : all) shard::add_counts(c, pc);
  const uint64_t parts = (records + K - 1) / K;
  std::fprintf(stderr, "tokalign compile: this run wrote %zu part(s) of up to %llu records; %zu of %llu parts are in %s\n",
               written.size(), static_cast<unsigned long long>(K), all.size(), static_cast<unsigned long long>(parts),
               a.out.c_str());
  print_counts(c);
  warn_idle_slices(records, K, parts, slice, slices);
  if (problems.empty()) {
    shard::write_parts_index(a.out, run, records, all);
    std::fprintf(stderr, "tokalign compile: complete: %s\n", (dir / "parts.json").string().c_str());
  } else if (slices > 1) {
    std::fprintf(stderr, "tokalign compile: waiting for the other slices (%s); then: tokalign merge --out %s %s\n",
                 problems.front().c_str(), a.out.c_str(), a.out.c_str());
  } else {
    for (const std::string& p : problems) std::fprintf(stderr, "tokalign compile: %s\n", p.c_str());
    return 3;
  }
  if (c.quarantined)
    std::fprintf(stderr, "tokalign compile: quarantined samples and their reasons: %s\n",
                 (dir / "part-*" / "quarantine.jsonl").string().c_str());
  return 0;
}

// A parted run that fails while compiling (a full disk, a broken input) keeps the parts it
// committed: the error says so, and what a rerun does with them.
int run_parted(CompileArgs& a) {
  bool compiling = false;
  try {
    return run_parted_once(a, compiling);
  } catch (const Error& e) {
    size_t kept = 0;  // committed parts (those with a manifest)
    if (compiling) try {
        kept = shard::part_folders(a.out).size();
      } catch (const std::exception&) {  // the error in hand is the one to report
      }
    if (kept == 0) throw;
    throw Error(std::string(e.what()) + "\n  the " + std::to_string(kept) + " part(s) committed in " + a.out +
                " are kept: the same command on the same input resumes after them (a corrected input starts over:"
                " --overwrite)");
  }
}

int run(CompileArgs& a) {
  if (a.list_templates) return list_templates();
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign compile: %s\n", m.c_str());
    return 2;
  };
  CompileSetup& s = a.setup;
  const Clock::time_point t_start = Clock::now();
  if (a.out.empty() && !s.slow) return usage("--out is required");
  if (int rc = s.prepare("compile", a.with_segments, a.debug >= 0)) return rc;
  if (!a.quarantine.empty() && a.format != "jsonl")
    return usage("--quarantine goes with --format jsonl; a shard keeps its quarantine.jsonl inside the folder");
  if (!a.checksum.empty() && a.format == "jsonl")
    return usage("--checksum goes with a shard folder: --format jsonl writes no manifest to hold checksums");
  { Input probe(s.data); }  // a wrong path fails before anything is created
  if (a.part_size || !a.shard_spec.empty()) return run_parted(a);
  const std::string qpath = !a.quarantine.empty() ? a.quarantine
                            : a.out == "-"       ? std::string("quarantine.jsonl")
                                                 : (fs::path(a.out).replace_extension("").string() + ".quarantine.jsonl");
  std::unique_ptr<shard::SampleWriter> w =
      a.format == "jsonl" ? shard::make_jsonl_writer(a.out, qpath)
                          : shard::make_shard_writer(a.out, a.overwrite, paired_writer(s), a.checksum_kind());

  const bool color = a.debug >= 0 && isatty(fileno(stderr));
  const report::PieceOf piece = s.piece_of();
  int shown = 0;
  int rc = 0;
  Progress progress = compile_progress(s, a.debug < 0);
  // A shard's manifest gives the input's checksum (and the tokenizer files' SHA-256). The
  // reader checksums the bytes as it reads them, each 1 MiB chunk while it is in cache: CRC-32
  // costs it some 0.05 s a GB. SHA-256 (--checksum sha256) would cost it 0.7 s a GB and make
  // it the pipeline's slowest stage, so that one runs on a thread of its own, a second pass
  // over the file beside the compile -- except on one CPU (taskset, a Slurm task of one CPU),
  // where that thread would only take turns with the compile. JSONL output has no manifest:
  // nothing is hashed for it.
  const bool shard_out = a.format != "jsonl";
  const bool hash_inline =
      shard_out && s.data != "-" && (a.checksum_kind() == Checksum::crc32 || available_cpus() == 1);
  CompileSetup::InputDigest digest(a.checksum_kind());
  std::future<shard::RunInfo> info_later;
  if (shard_out && !hash_inline)
    info_later = std::async(std::launch::async, [&s, &a] { return run_info_noted(s, a.checksum_kind()); });
  const Clock::time_point t_records = Clock::now();
  auto each = [&](const CompileSetup::Record& r) {
    progress.tick(r.pos.byte_offset, !r.ok);
    if (a.debug >= 0 && (!r.ok || shown < a.debug)) {
      std::string view;
      report::write_terminal(view, CompileSetup::inspect_item(r), piece, color);
      std::fputs(view.c_str(), stderr);
      shown += r.ok;
    }
    return deliver(*w, r, a.strict, rc);
  };
  s.for_each(each, {}, hash_inline ? &digest : nullptr);
  progress.done();
  const Clock::time_point t_finish = Clock::now();
  if (rc) return rc;
  const shard::RunInfo info = !shard_out     ? shard::RunInfo{}
                              : hash_inline ? run_info(s, a.checksum_kind(), &digest)
                                            : info_later.get();
  w->finish(info);
  if (std::getenv("TOKALIGN_PIPELINE_STATS")) {
    std::fprintf(stderr,
                 "tokalign compile: setup %.3f s (tokenizer, template, output folder), records %.3f s, finish %.3f s "
                 "(the input's hash, the shard's files closed and synced, its manifest)\n",
                 secs(t_start, t_records), secs(t_records, t_finish), secs(t_finish, Clock::now()));
    print_thread_cpu();
  }

  const shard::Counts& c = w->counts();
  print_counts(c);
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
  app.add_option("--checksum", a->checksum,
                 "the checksum the shard's manifest gives the input and each shard file: crc32 (default; zlib's CRC-32, "
                 "as Python's zlib.crc32 checks it; format version 2) or sha256 (as sha256sum checks it; format version 1, "
                 "for readers of that version; slower: SHA-256 runs at about 1 GB/s, on the input on one thread)")
      ->check(CLI::IsMember({"crc32", "sha256"}));
  app.add_option("--part-size", a->part_size,
                 "cut the shard folder into parts of N input records (part-00000/, ...), each committed on its "
                 "own: rerunning the same command after a crash resumes after the committed parts")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_option("--shard", a->shard_spec,
                 "I/N: compile only parts p with p % N == I (parts of --part-size records, default 100000); N such "
                 "runs, on one machine or many, write the parts of one run; tokalign merge checks and joins them");
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
