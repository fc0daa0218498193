// tokalign stats: know the dataset before training, and refuse bad data with --fail-if.
#include <cstdio>
#include <string>
#include <vector>

#include "chat/template.h"
#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "cli/io.h"
#include "report/stats.h"
#include "util/error.h"

namespace tokalign::cli {

namespace {

struct StatsArgs {
  CompileSetup setup;
  std::string shard;
  bool json = false;
  std::string html;
  std::vector<std::string> fail_if;
  std::string output = "-";
};

int run(StatsArgs& a) {
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign stats: %s\n", m.c_str());
    return 2;
  };
  const size_t max_len = a.setup.max_len;
  report::Stats stats(max_len);
  std::string title;
  if (!a.shard.empty()) {
    if (!a.setup.data.empty()) return usage("give --data or --shard, not both");
    stats.add_shard(a.shard);  // one shard, or each part in order
    title = "tokalign stats: " + a.shard;
  } else {
    // Samples are measured whole: --max-len counts them instead of truncating.
    a.setup.max_len = 0;
    if (int rc = a.setup.prepare("stats")) return rc;
    title = "tokalign stats: " + a.setup.data + " (" + a.setup.tmpl->name + ")";
    a.setup.for_each([&](const CompileSetup::Record& r) {
      if (r.ok) stats.add(r.sample, static_cast<uint32_t>(r.messages));
      else stats.add_quarantined(r.problem.reason);
      return true;
    });
  }
  // Check the conditions first: a bad name is a usage error before any output.
  std::vector<std::string> failed;
  for (const std::string& c : a.fail_if) {
    double v = 0;
    bool holds;
    try {
      holds = stats.holds(c, v);
    } catch (const Error& e) {
      return usage(e.what());
    }
    if (holds) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", v);
      failed.push_back(c + " (it is " + buf + ")");
    }
  }
  if (!a.html.empty()) {
    Output h(a.html);
    h.write(stats.html(title));
    h.close();
  }
  Output out(a.output);
  out.write(a.json ? stats.json() : title + "\n" + stats.table());
  out.close();
  for (const std::string& f : failed) std::fprintf(stderr, "tokalign stats: FAILED: %s\n", f.c_str());
  return failed.empty() ? 0 : 1;
}

}  // namespace

Run add_stats(CLI::App& app) {
  auto a = std::make_shared<StatsArgs>();
  app.description(
      "Statistics of a whole dataset (streamed) or shard: samples in/out/quarantined, tokens and trained tokens per\n"
      "sample (min, median, p95, p99, max, histogram), messages and images per sample, samples over --max-len,\n"
      "quarantine reasons, special-token strings found in message text, boundary merges. --fail-if makes it a gate:\n"
      "  tokalign stats ... --fail-if 'zero-trained>0' --fail-if 'quarantined-fraction>0.01'\n"
      "exits 1 naming each condition that holds.");
  a->setup.add_to(app);
  app.add_option("--shard", a->shard, "read a compiled shard folder instead of --data");
  app.add_flag("--json", a->json, "JSON instead of the table");
  app.add_option("--html", a->html, "also write an HTML page with the table and SVG histograms");
  app.add_option("--fail-if", a->fail_if,
                 "exit 1 when NAME OP NUMBER holds; names: samples-in, samples-out, quarantined, quarantined-fraction, "
                 "zero-trained, tokens, trained-tokens, trained-fraction, over-max-len, boundary-merge, truncated, "
                 "special-in-content, max-tokens, image-slots, or a quarantine reason");
  app.add_option("--output,-o", a->output, "where the table or JSON goes (- for stdout)");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
