// Pre-tokenizers: cut each normalized text piece into the "words" the model sees (HF
// tokenizers/src/pre_tokenizers/). Only text splits are touched; added tokens pass through.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pre_tokenized_string.h"

namespace tokalign::tok {

// One split of a pre-tokenizer that only cuts (never rewrites) its input.
struct RangeStep {
  const Pattern* pattern;
  SplitBehavior behavior;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& s) const = 0;
  // If this pre-tokenizer only cuts text (no char is changed, added or removed other than
  // by a split behavior), appends its splits in order and returns true. The tokenizer then
  // cuts untouched text as byte ranges, without building a NormalizedString per word.
  virtual bool range_steps(std::vector<RangeStep>&) const { return false; }
};

using PreTokenizerPtr = std::unique_ptr<PreTokenizer>;

// GPT-2 style: optional prefix space, optional GPT-2 regex split, then every byte becomes
// its alphabet char. With `map_bytes` off the last step is left to a model that works on
// raw bytes (see BpeModel's byte-level mode): same ids, no re-encoding of the text.
class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  void pre_tokenize(PreTokenizedString& s) const override;
  void set_map_bytes(bool on) { map_bytes_ = on; }
  bool range_steps(std::vector<RangeStep>& out) const override {
    if (map_bytes_ || add_prefix_space_) return false;
    if (use_regex_) out.push_back({regex_.get(), SplitBehavior::Isolated});
    return true;
  }

 private:
  bool add_prefix_space_, use_regex_, map_bytes_ = true;
  std::unique_ptr<Pattern> regex_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Pattern> p, SplitBehavior b) : pattern_(std::move(p)), behavior_(b) {}
  void pre_tokenize(PreTokenizedString& s) const override;
  bool range_steps(std::vector<RangeStep>& out) const override {
    out.push_back({pattern_.get(), behavior_});
    return true;
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  SplitBehavior behavior_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split);
  void pre_tokenize(PreTokenizedString& s) const override;
  char32_t replacement() const { return replacement_; }
  PrependScheme scheme() const { return scheme_; }
  bool split() const { return split_; }

 private:
  char32_t replacement_;
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
  StringPattern space_{" "};
};

// Any of the fixed-pattern splitters: Whitespace, WhitespaceSplit, Punctuation, Digits,
// CharDelimiterSplit, and BertPreTokenizer (whitespace-removed then punctuation-isolated).
class PatternSplitPreTokenizer : public PreTokenizer {
 public:
  struct Step {
    std::unique_ptr<Pattern> pattern;
    SplitBehavior behavior;
  };
  explicit PatternSplitPreTokenizer(std::vector<Step> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(PreTokenizedString& s) const override;
  bool range_steps(std::vector<RangeStep>& out) const override {
    for (const Step& st : steps_) out.push_back({st.pattern.get(), st.behavior});
    return true;
  }

  static PreTokenizerPtr whitespace();
  static PreTokenizerPtr whitespace_split();
  static PreTokenizerPtr punctuation(SplitBehavior b);
  static PreTokenizerPtr digits(bool individual);
  static PreTokenizerPtr char_delimiter(char32_t c);
  static PreTokenizerPtr bert();

 private:
  std::vector<Step> steps_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<PreTokenizerPtr> items) : items_(std::move(items)) {}
  void pre_tokenize(PreTokenizedString& s) const override {
    for (const auto& p : items_) p->pre_tokenize(s);
  }
  bool range_steps(std::vector<RangeStep>& out) const override {
    for (const auto& p : items_)
      if (!p->range_steps(out)) return false;
    return true;
  }
  std::vector<PreTokenizerPtr>& items() { return items_; }

 private:
  std::vector<PreTokenizerPtr> items_;
};

}  // namespace tokalign::tok
