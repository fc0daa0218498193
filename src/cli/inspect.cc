// tokalign inspect: every token of chosen samples with its label and provenance.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "cli/io.h"
#include "report/inspect_view.h"
#include "shard/parts.h"
#include "shard/reader.h"
#include "util/error.h"

namespace tokalign::cli {

namespace {

struct InspectArgs {
  CompileSetup setup;
  std::string shard;
  std::vector<std::string> ids;
  std::vector<uint64_t> indices;
  std::string filter;
  size_t limit = 5;
  uint64_t seed = 0;
  bool json = false;
  std::string html;
  std::string color = "auto";
  std::string output = "-";
};

// Chooses samples while they stream by: explicit ids/indices, a filter, the longest, a
// seeded random sample (reservoir), or the first ones.
class Chooser {
 public:
  explicit Chooser(const InspectArgs& a) : a_(a), rng_(a.seed), ids_(a.ids.begin(), a.ids.end()),
                                           indices_(a.indices.begin(), a.indices.end()) {}
  bool explicit_choice() const { return !ids_.empty() || !indices_.empty(); }
  // Offers an item; false once nothing more can be chosen (stop reading).
  bool offer(report::InspectItem&& it) {
    const shard::Sample& s = it.sample;
    if (explicit_choice()) {
      if (ids_.erase(it.id) + indices_.erase(it.index)) chosen_.push_back(std::move(it));
      return !ids_.empty() || !indices_.empty();
    }
    const std::string& f = a_.filter;
    if (f == "longest") {
      if (it.quarantined) return true;
      chosen_.push_back(std::move(it));
      std::sort(chosen_.begin(), chosen_.end(), [](const auto& x, const auto& y) {
        return x.sample.input_ids.size() > y.sample.input_ids.size();
      });
      if (chosen_.size() > a_.limit) chosen_.pop_back();
      return true;
    }
    if (f == "random") {
      if (it.quarantined) return true;
      ++seen_;
      if (chosen_.size() < a_.limit) chosen_.push_back(std::move(it));
      else if (size_t j = std::uniform_int_distribution<size_t>(0, seen_ - 1)(rng_); j < a_.limit) chosen_[j] = std::move(it);
      return true;
    }
    bool match = f.empty() || (f == "quarantined" && it.quarantined) ||
                 (f == "zero-trained" && (it.reason == "zero_trained" || (!it.quarantined && s.trained_tokens() == 0))) ||
                 (f == "boundary-merge" && (s.flags & shard::kBoundaryMerge)) ||
                 (f == "truncated" && (s.flags & shard::kTruncated)) ||
                 (f == "special-in-content" && (s.flags & shard::kSpecialInContent));
    if (match) chosen_.push_back(std::move(it));
    return chosen_.size() < a_.limit;
  }
  std::vector<report::InspectItem>& chosen() {
    if (a_.filter == "random")
      std::sort(chosen_.begin(), chosen_.end(), [](const auto& x, const auto& y) { return x.index < y.index; });
    return chosen_;
  }
  std::vector<std::string> missing() const {
    std::vector<std::string> m(ids_.begin(), ids_.end());
    for (uint64_t i : indices_) m.push_back("#" + std::to_string(i));
    return m;
  }

 private:
  const InspectArgs& a_;
  std::mt19937_64 rng_;
  std::set<std::string> ids_;
  std::set<uint64_t> indices_;
  std::vector<report::InspectItem> chosen_;
  size_t seen_ = 0;
};

int run(InspectArgs& a) {
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "tokalign inspect: %s\n", m.c_str());
    return 2;
  };
  Chooser chooser(a);
  report::PieceOf piece;
  std::unique_ptr<tok::Tokenizer> shard_tok;
  std::string title;
  if (!a.shard.empty()) {
    if (!a.setup.data.empty()) return usage("give --data or --shard, not both");
    // One shard, or each part of a parted output in order (input indices continue across parts).
    const std::vector<std::string> dirs = shard::output_shards(a.shard);
    title = "tokalign inspect: " + a.shard;
    uint64_t index = 0;
    bool more = true;
    for (size_t d = 0; more && d < dirs.size(); ++d) {
      shard::ShardReader r(dirs[d]);
      if (d == 0) {
        const std::string tp = !a.setup.tokenizer_path.empty() ? a.setup.tokenizer_path : r.tokenizer_path();
        if (!tp.empty() && std::filesystem::exists(tp)) {
          shard_tok = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_file(tp));
          const tok::Tokenizer* t = shard_tok.get();
          piece = [t](int32_t id) { return id < 0 ? std::string() : t->id_to_token(static_cast<uint32_t>(id)).value_or("?"); };
        }
      }
      // Quarantined samples first in index order with the compiled ones.
      std::vector<const shard::QuarantineRecord*> q;
      for (const auto& x : r.quarantine()) q.push_back(&x);
      size_t qi = 0;
      auto offer_quarantined = [&](const shard::QuarantineRecord& qr, uint64_t at) {
        report::InspectItem it;
        it.id = qr.id;
        it.index = at;
        it.quarantined = true;
        it.reason = qr.reason;
        it.field = qr.field;
        it.message = qr.message;
        return chooser.offer(std::move(it));
      };
      for (size_t i = 0; more && i < r.size(); ++i, ++index) {
        while (more && qi < q.size() && q[qi]->index == index) more = offer_quarantined(*q[qi++], index++);
        if (!more) break;
        report::InspectItem it;
        it.sample = r.get(i);
        it.id = it.sample.id;
        it.index = index;
        more = chooser.offer(std::move(it));
      }
      for (; more && qi < q.size(); ++qi) {
        more = offer_quarantined(*q[qi], q[qi]->index);
        index = q[qi]->index + 1;
      }
    }
  } else {
    if (int rc = a.setup.prepare("inspect", false, true)) return rc;
    piece = a.setup.piece_of();
    title = "tokalign inspect: " + a.setup.data + " (" + a.setup.tmpl->name + ")";
    a.setup.for_each([&](const CompileSetup::Record& r) { return chooser.offer(CompileSetup::inspect_item(r)); });
  }
  for (const std::string& m : chooser.missing()) std::fprintf(stderr, "tokalign inspect: no sample %s\n", m.c_str());

  std::vector<report::InspectItem>& items = chooser.chosen();
  if (!a.html.empty()) {
    Output h(a.html);
    h.write(report::html_page(items, piece, title));
    h.close();
    std::fprintf(stderr, "tokalign inspect: wrote %zu sample(s) to %s\n", items.size(), a.html.c_str());
    if (a.output == "-" && !a.json) return chooser.missing().empty() ? 0 : 1;
  }
  Output out(a.output);
  const bool color = a.color == "always" || (a.color == "auto" && a.output == "-" && isatty(fileno(stdout)));
  std::string buf;
  for (const report::InspectItem& it : items) {
    if (a.json) report::write_json(buf, it, piece);
    else report::write_terminal(buf, it, piece, color);
    out.write(buf);
    buf.clear();
  }
  out.close();
  return chooser.missing().empty() ? 0 : 1;
}

}  // namespace

Run add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  app.description(
      "Show every token of chosen samples: position, id, text (whitespace made visible), label (trained,\n"
      "ignored or image) and provenance (segment kind, role, message index). Samples come from a dataset\n"
      "compiled on the fly (the compile options apply) or from a shard folder (no provenance there).\n"
      "Without a choice the first --limit samples are shown.");
  a->setup.add_to(app);
  app.add_option("--shard", a->shard, "read a compiled shard folder instead of --data");
  app.add_option("--id", a->ids, "sample id to show (repeatable)");
  app.add_option("--index", a->indices, "record index to show, from 0 (repeatable)");
  app.add_option("--filter", a->filter,
                 "zero-trained, quarantined, boundary-merge, truncated, special-in-content, longest, random")
      ->check(CLI::IsMember({"zero-trained", "quarantined", "boundary-merge", "truncated", "special-in-content",
                             "longest", "random"}));
  app.add_option("--limit,-n", a->limit, "how many samples (default 5)")->check(CLI::Range(1, 1000000));
  app.add_option("--seed", a->seed, "seed for --filter random (default 0)");
  app.add_flag("--json", a->json, "one JSON object per sample: {id, index, tokens: [{pos, id, text, label, role, turn, segment}]}");
  app.add_option("--html", a->html, "write a self-contained HTML page with the chosen samples");
  app.add_option("--color", a->color, "auto (default: when stdout is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--output,-o", a->output, "where the table or JSON goes (- for stdout)");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
