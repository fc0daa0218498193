// Normalizers: the first stage of the pipeline, run on each piece of input that is not an
// added token (HF tokenizers/src/normalizers/). Each rewrites a NormalizedString in place,
// keeping the alignment to the original text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/normalized_string.h"
#include "unicode/normalize.h"

namespace tokalign::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

using NormalizerPtr = std::unique_ptr<Normalizer>;

class UnicodeNormalizer : public Normalizer {  // NFC, NFD, NFKC, NFKD
 public:
  explicit UnicodeNormalizer(unicode::Form f) : form_(f) {}
  void normalize(NormalizedString& s) const override;

 private:
  unicode::Form form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override { s.lowercase(); }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& s) const override;

 private:
  bool left_, right_;
};

class StripAccentsNormalizer : public Normalizer {  // drops every combining mark (M*)
 public:
  void normalize(NormalizedString& s) const override;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Pattern> p, std::string content)
      : pattern_(std::move(p)), content_(std::move(content)) {}
  void normalize(NormalizedString& s) const override { s.replace(*pattern_, content_); }
  const Pattern& pattern() const { return *pattern_; }
  const std::string& content() const { return content_; }

 private:
  std::unique_ptr<Pattern> pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prepend_(std::move(p)) {}
  void normalize(NormalizedString& s) const override {
    if (!s.empty()) s.prepend(prepend_);
  }
  const std::string& prepend() const { return prepend_; }

 private:
  std::string prepend_;
};

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(handle_chinese_chars), strip_accents_(strip_accents), lowercase_(lowercase) {}
  void normalize(NormalizedString& s) const override;

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class ByteLevelNormalizer : public Normalizer {  // every byte becomes its GPT-2 alphabet char
 public:
  void normalize(NormalizedString& s) const override;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<NormalizerPtr> n) : items_(std::move(n)) {}
  void normalize(NormalizedString& s) const override {
    for (const auto& n : items_) n->normalize(s);
  }
  const std::vector<NormalizerPtr>& items() const { return items_; }

 private:
  std::vector<NormalizerPtr> items_;
};

// Bert's character classes (HF normalizers/bert.rs), shared with BertPreTokenizer.
bool bert_is_chinese_char(char32_t c);

}  // namespace tokalign::tok
