// Post-processors add a model's special tokens around the encoded text and may trim
// offsets (HF tokenizers/src/processors/ and ByteLevel's post-processor half).
// Only single sequences are supported; pairs are not part of tokalign's use.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/encoding.h"

namespace tokalign::tok {

// The text of each token (aligned with Encoding::ids), for processors that trim offsets:
// the model's token string, or for an added token the text it matched (HF Token::value).
// Null when offsets are not wanted; may be left empty when no processor trims_offsets().
using TokenValues = std::vector<std::string_view>;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(Encoding& e, bool add_special_tokens, TokenValues* values) const = 0;
  // True when process() reads the token values (it trims offsets by the tokens' spaces).
  virtual bool trims_offsets() const { return false; }
  // True when process() only puts `before` and `after` around the encoding with special
  // tokens' marks and (0, 0) offsets, when asked to add special tokens (an encoder may then
  // put them in place itself).
  virtual bool only_wraps(std::span<const uint32_t>& /*before*/, std::span<const uint32_t>& /*after*/) const {
    return false;
  }
};

using PostProcessorPtr = std::unique_ptr<PostProcessor>;

// TemplateProcessing: the single-sequence template as a list of pieces, each either the
// sequence or the ids of a named special token.
class TemplateProcessor : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;
    std::vector<uint32_t> ids;  // special token ids when !is_sequence
  };
  explicit TemplateProcessor(std::vector<Piece> single);
  void process(Encoding& e, bool add_special_tokens, TokenValues* values) const override;
  bool only_wraps(std::span<const uint32_t>& before, std::span<const uint32_t>& after) const override {
    before = before_;
    after = after_;
    return true;
  }

 private:
  std::vector<uint32_t> before_, after_;  // the special ids around the sequence
};

// ByteLevel (trim_offsets), RobertaProcessing and BertProcessing share the offset trim and
// the cls/sep wrapping.
class ByteLevelProcessor : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim_offsets, bool add_prefix_space) : trim_(trim_offsets), prefix_space_(add_prefix_space) {}
  void process(Encoding& e, bool add_special_tokens, TokenValues* values) const override;
  bool trims_offsets() const override { return trim_; }

 private:
  bool trim_, prefix_space_;
};

class WrapProcessor : public PostProcessor {  // Bert and Roberta: [cls] A [sep]
 public:
  WrapProcessor(uint32_t cls, uint32_t sep, bool trim_offsets, bool add_prefix_space)
      : cls_(cls), sep_(sep), trim_(trim_offsets), prefix_space_(add_prefix_space) {}
  void process(Encoding& e, bool add_special_tokens, TokenValues* values) const override;
  bool trims_offsets() const override { return trim_; }

 private:
  uint32_t cls_, sep_;
  bool trim_, prefix_space_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<PostProcessorPtr> p) : items_(std::move(p)) {}
  void process(Encoding& e, bool add_special_tokens, TokenValues* values) const override {
    for (const auto& p : items_) p->process(e, add_special_tokens, values);
  }
  bool trims_offsets() const override {
    for (const auto& p : items_)
      if (p->trims_offsets()) return true;
    return false;
  }

 private:
  std::vector<PostProcessorPtr> items_;
};

}  // namespace tokalign::tok
