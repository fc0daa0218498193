#include "tokenizer/models/unigram.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::tok {

namespace {
constexpr double kUnkPenalty = 10.0;
}

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<uint32_t> unk_id,
                           bool byte_fallback, bool fuse_unk)
    : unk_id_(unk_id), byte_fallback_(byte_fallback), fuse_unk_(fuse_unk) {
  if (unk_id_ && *unk_id_ >= pieces.size())
    throw Error("Unigram: unk_id " + std::to_string(*unk_id_) + " is out of the vocab (" +
                std::to_string(pieces.size()) + " pieces)");
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces.size(); ++i) {
    // HF builds token_to_ids with insert: a later duplicate wins.
    vocab_.add(pieces[i].first, static_cast<uint32_t>(i));
    scores_.push_back(pieces[i].second);
    min_score_ = std::min(min_score_, pieces[i].second);
    pieces_.push_back(std::move(pieces[i].first));
  }
  if (pieces_.empty()) min_score_ = 0;
  build_trie();
}

void UnigramModel::build_trie() {
  edges_.assign(1, {});
  node_id_.assign(1, -1);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    uint32_t node = 0;
    for (unsigned char b : pieces_[i]) {
      auto& es = edges_[node];
      auto it = std::find_if(es.begin(), es.end(), [b](const Edge& e) { return e.byte == b; });
      if (it != es.end()) {
        node = it->node;
      } else {
        uint32_t nn = static_cast<uint32_t>(edges_.size());
        edges_[node].push_back({b, nn});
        edges_.emplace_back();
        node_id_.push_back(-1);
        node = nn;
      }
    }
    if (node != 0) node_id_[node] = static_cast<int32_t>(i);
  }
}

void UnigramModel::tokenize(std::string_view s, std::vector<Token>& out) const {
  const size_t size = s.size();
  struct Best {
    int64_t id = 0;
    double score = 0;
    int64_t starts_at = -1;
  };
  std::vector<Best> best(size + 1);
  const double unk_score = min_score_ - kUnkPenalty;
  for (size_t at = 0; at < size;) {
    const double here = best[at].score;
    bool single = false;
    const size_t mblen = unicode::char_len(static_cast<unsigned char>(s[at]));
    uint32_t node = 0;
    for (size_t k = at; k < size; ++k) {
      const auto& es = edges_[node];
      unsigned char b = static_cast<unsigned char>(s[k]);
      auto it = std::find_if(es.begin(), es.end(), [b](const Edge& e) { return e.byte == b; });
      if (it == es.end()) break;
      node = it->node;
      int32_t pid = node_id_[node];
      if (pid < 0) continue;
      // token_to_ids maps the piece string to its (last) id.
      uint32_t id = *vocab_.get(pieces_[static_cast<size_t>(pid)]);
      const size_t key_pos = k + 1;
      const double cand = scores_[id] + here;
      Best& t = best[key_pos];
      if (t.starts_at < 0 || cand > t.score) {
        t.score = cand;
        t.starts_at = static_cast<int64_t>(at);
        t.id = id;
      }
      if (!single && key_pos - at == mblen) single = true;
    }
    if (!single) {
      Best& t = best[at + mblen];
      const double cand = unk_score + here;
      if (t.starts_at < 0 || cand > t.score) {
        if (!unk_id_) throw Error("Unigram: text needs an unknown token but the model has no unk_id");
        t.score = cand;
        t.starts_at = static_cast<int64_t>(at);
        t.id = *unk_id_;
      }
    }
    at += mblen;
  }
  // Back-track, fusing unknowns.
  std::vector<std::pair<size_t, size_t>> pieces;  // reversed
  size_t ends = size;
  std::optional<std::pair<size_t, size_t>> unk_run;
  while (ends > 0) {
    const Best& n = best[ends];
    size_t st = static_cast<size_t>(n.starts_at);
    if (fuse_unk_ && unk_id_ && n.id == static_cast<int64_t>(*unk_id_)) {
      unk_run = unk_run ? std::pair<size_t, size_t>{st, unk_run->second} : std::pair<size_t, size_t>{st, ends};
    } else {
      if (unk_run) pieces.push_back(*unk_run);
      unk_run.reset();
      pieces.emplace_back(st, ends);
    }
    ends = st;
  }
  if (unk_run) pieces.push_back(*unk_run);
  std::reverse(pieces.begin(), pieces.end());
  for (auto [a, b] : pieces) {
    std::string_view str = s.substr(a, b - a);
    if (auto id = vocab_.get(str)) {
      out.push_back({*id, static_cast<uint32_t>(a), static_cast<uint32_t>(b)});
      continue;
    }
    if (byte_fallback_) {
      std::vector<uint32_t> ids;
      bool all = true;
      for (unsigned char c : str) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", c);
        auto id = vocab_.get(name);
        if (!id) {
          all = false;
          break;
        }
        ids.push_back(*id);
      }
      if (all) {
        for (uint32_t id : ids) out.push_back({id, static_cast<uint32_t>(a), static_cast<uint32_t>(b)});
        continue;
      }
    }
    if (!unk_id_) throw Error("Unigram: text needs an unknown token but the model has no unk_id");
    out.push_back({*unk_id_, static_cast<uint32_t>(a), static_cast<uint32_t>(b)});
  }
}

}  // namespace tokalign::tok
