// The input as a list of splits on its way through the pipeline (HF
// tokenizers/src/tokenizer/pre_tokenizer.rs, PreTokenizedString): added-token extraction and
// the pre-tokenizers cut it into pieces; pieces that are already an added token are left
// alone by everything after; empty pieces are dropped.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/normalized_string.h"

namespace tokalign::tok {

struct Split {
  NormalizedString normalized;
  int64_t added_id = -1;  // id of the added token this split is, -1 for text
};

class PreTokenizedString {
 public:
  explicit PreTokenizedString(std::string_view original) : original_(original) {
    splits_.push_back({NormalizedString(original, 0), -1});
  }

  std::string_view original() const { return original_; }
  std::vector<Split>& splits() { return splits_; }
  const std::vector<Split>& splits() const { return splits_; }

  // Calls fn(NormalizedString&, std::vector<NormalizedString>& out) on every text split
  // and replaces it by the non-empty pieces fn produces.
  template <class F>
  void split(F&& fn) {
    std::vector<Split> next;
    next.reserve(splits_.size() * 2);
    std::vector<NormalizedString> pieces;
    for (Split& s : splits_) {
      if (s.added_id >= 0) {
        next.push_back(std::move(s));
        continue;
      }
      pieces.clear();
      fn(s.normalized, pieces);
      for (NormalizedString& p : pieces)
        if (!p.empty()) next.push_back({std::move(p), -1});
    }
    splits_ = std::move(next);
  }

  // Calls fn(NormalizedString&) on every text split.
  template <class F>
  void normalize(F&& fn) {
    for (Split& s : splits_)
      if (s.added_id < 0) fn(s.normalized);
  }

 private:
  std::string_view original_;
  std::vector<Split> splits_;
};

}  // namespace tokalign::tok
