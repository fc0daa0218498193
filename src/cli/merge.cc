// tokalign merge: joins the parts written by `tokalign compile --shard I/N` runs (on one
// machine or many) into one parted output, after checking that they reconcile: same
// tokenizer, template, options, input and part size; every part exactly once; each part's
// records as the partition says; in = out + quarantined. See shard/parts.h.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "shard/parts.h"
#include "util/error.h"
#include "util/file.h"

namespace tokalign::cli {

namespace {

namespace fs = std::filesystem;

struct MergeArgs {
  std::vector<std::string> sources;
  std::string out;
  bool check = false;
};

int run_merge(const MergeArgs& a) {
  if (a.out.empty() && !a.check) {
    std::fprintf(stderr, "tokalign merge: --out is required (or --check)\n");
    return 2;
  }
  // The run's identity from the first part found; every part must agree with it.
  shard::PartRun run;
  bool have_run = false;
  for (const std::string& src : a.sources) {
    if (!fs::is_directory(src)) throw Error(src + ": not a folder");
    for (const auto& [i, path] : shard::part_folders(src))
      if (!have_run) have_run = shard::read_part_run(path, run);
  }
  if (!have_run) throw Error("no committed part (part-NNNNN/manifest.json) in " + a.sources.front());

  uint64_t records = 0;
  bool know_records = false;
  std::map<uint64_t, shard::Counts> parts;
  std::map<uint64_t, std::string> where;
  std::vector<std::string> problems;
  for (const std::string& src : a.sources) {
    uint64_t r = 0;
    if (shard::recorded_records(src, r)) {
      if (know_records && r != records)
        problems.push_back(src + " says the input has " + std::to_string(r) + " records, another source " +
                           std::to_string(records));
      records = r;
      know_records = true;
    }
    const std::map<uint64_t, shard::Counts> found = shard::committed_parts(src, run);
    const std::map<uint64_t, std::string> folders = shard::part_folders(src);
    for (const auto& [i, c] : found) {
      const std::string path = folders.at(i);
      auto it = where.find(i);
      if (it != where.end()) {
        if (fs::equivalent(it->second, path)) continue;
        // The same part from two runs: fine when identical (its manifest vouches for the files).
        if (read_file((fs::path(it->second) / "manifest.json").string()) !=
            read_file((fs::path(path) / "manifest.json").string()))
          problems.push_back(shard::part_name(i) + " differs between " + it->second + " and " + path);
        continue;
      }
      where.emplace(i, path);
      parts.emplace(i, c);
    }
  }
  if (!know_records)
    problems.push_back("no parts.json or shard-I-of-N.json says how many records the input has: the runs did not finish");
  else
    for (const std::string& p : shard::check_parts(parts, records, run.part_size)) problems.push_back(p);
  shard::Counts total;
  for (const auto& [i, c] : parts) shard::add_counts(total, c);
  if (!problems.empty()) {
    for (const std::string& p : problems) std::fprintf(stderr, "tokalign merge: %s\n", p.c_str());
    std::fprintf(stderr, "tokalign merge: %zu part(s) found, %llu records; not merged\n", parts.size(),
                 static_cast<unsigned long long>(total.in));
    return 1;
  }
  std::fprintf(stderr, "tokalign merge: %zu part(s) of %llu records reconcile: %llu records in, %llu samples out, %llu quarantined\n",
               parts.size(), static_cast<unsigned long long>(run.part_size), static_cast<unsigned long long>(total.in),
               static_cast<unsigned long long>(total.out), static_cast<unsigned long long>(total.quarantined));
  if (a.check) return 0;
  fs::create_directories(a.out);
  for (const auto& [i, path] : where) {
    const fs::path dest = fs::path(a.out) / shard::part_name(i);
    if (fs::exists(dest) && fs::equivalent(dest, path)) continue;
    if (fs::exists(dest)) throw Error(dest.string() + ": already exists (from another run?); merge into an empty --out");
    std::error_code ec;
    fs::rename(path, dest, ec);
    if (ec) {  // another file system: copy, then the copy's manifest last
      fs::copy(path, dest, fs::copy_options::recursive);
    }
  }
  shard::write_parts_index(a.out, run, records, parts);
  std::fprintf(stderr, "tokalign merge: wrote %s\n", (fs::path(a.out) / "parts.json").string().c_str());
  return 0;
}

}  // namespace

Run add_merge(CLI::App& app) {
  auto a = std::make_shared<MergeArgs>();
  app.description(
      "Join the parts of `tokalign compile --shard I/N` runs into one output, after checking that they reconcile\n"
      "(same tokenizer, template, options, input and part size; every part once; record counts as the partition\n"
      "says; in = out + quarantined). Parts are moved (copied across file systems) into --out, and --out/parts.json\n"
      "is written. Exit 1 when they do not reconcile (nothing is moved).");
  app.add_option("sources", a->sources, "folders holding part-NNNNN/ (the --out of each run)")->required();
  app.add_option("--out,-o", a->out, "the merged output folder (may be one of the sources)");
  app.add_flag("--check", a->check, "only check that the parts reconcile");
  return [a] { return run_merge(*a); };
}

}  // namespace tokalign::cli
