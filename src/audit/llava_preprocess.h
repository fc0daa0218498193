// LLaVA's label preprocessing, emulated: preprocess_multimodal, tokenizer_image_token and the
// preprocess_v1 / preprocess_llama_2 / preprocess_mpt / preprocess_plain arithmetic of
// llava/train/train.py (LLaVA-1.5 and LLaVA-NeXT: NeXT's mpt starts cur_len at 1 and words
// its warning differently), with the tokenizer as LLaVA's AutoTokenizer(use_fast=False) loads it
// under transformers 4.37 (LLaVA's pin: a LlamaTokenizer folder gives the slow SentencePiece
// tokenizer, tok::spm::SlowLlamaTokenizer) or 5.x (a tokenizer.json, or a tokenizer.model
// folder converted as 5.x converts it). Outcomes are LLaVA's: the cur_len and total_len it
// compares, the warning it prints, whether it zeroes the sample, or the exception it raises.
// NeXT's qwen / gemma / llama3 preprocessors are not emulated yet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/llava_conv.h"
#include "tokenizer/sentencepiece/slow_llama.h"
#include "chat/hf_template.h"
#include "tokenizer/tokenizer.h"

namespace tokalign::audit {

// Which transformers loads the tokenizer: 4.37.2 (LLaVA's pin) or 5.x (5.17 measured).
enum class Transformers { v4_37, v5 };

// The tokenizer as LLaVA's train() leaves it.
struct LlavaTokenizer {
  const tok::Tokenizer* tok = nullptr;
  // Set when use_fast=False gives transformers 4.37's slow LlamaTokenizer; `tok` is then unused.
  std::shared_ptr<const tok::spm::SlowLlamaTokenizer> slow;
  std::optional<uint32_t> bos_id;  // tokenizer.bos_token_id
  std::optional<uint32_t> pad_id;  // tokenizer.pad_token_id after train() set it
  std::optional<bool> legacy;      // nullopt: the tokenizer class has no `legacy` attribute
  std::string class_name;
  size_t model_max_length = 2048;
  std::string path;                                // where it was loaded from (for a copy with <image> added)
  std::optional<uint32_t> unk_id;                  // tokenizer.unk_token_id
  std::optional<uint32_t> own_pad_id;              // the pad token of the tokenizer's own config
  size_t size = 0;                                 // len(tokenizer)
  std::vector<std::string> additional_special;     // tokenizer.additional_special_tokens (4.x)
  Transformers transformers = Transformers::v4_37;
  // The tokenizer's own chat template (preprocess_llama3 renders with it); null when it has
  // none, with `chat_template_error` saying why.
  std::shared_ptr<const chat::HfChatTemplate> chat_template;
  std::string chat_template_error;

  enum class PadRule {
    unk,          // LLaVA-1.5 train(): pad_token = unk_token, even when there is none
    unk_or_own,   // pad = unk when the tokenizer has one, else its own pad token
  };
  // Reads tokenizer_config.json / special_tokens_map.json beside `path` (a folder or a
  // tokenizer.json) for the class, legacy, bos, unk and pad tokens. Under 4.37 a LlamaTokenizer
  // folder loads its tokenizer.model as the slow tokenizer (tokalign::Error when it has none).
  static LlavaTokenizer load(const tok::Tokenizer& t, const std::string& path, PadRule pad, Transformers v);

  // tokenizer(text).input_ids, or with add_special_tokens=False
  std::vector<int32_t> call(const std::string& text, bool add_special_tokens = true) const;
  std::vector<int32_t> image_token(const std::string& prompt) const;  // tokenizer_image_token(prompt)
  // LLaVA-NeXT's preprocess_qwen / llama3: a deep copy of the tokenizer with "<image>" added as a
  // special token when the sample has an image; apply_chat_template's encode (no special tokens
  // added), and convert_tokens_to_ids("<image>") (nullopt where transformers gives None).
  std::vector<int32_t> chat_encode(const std::string& rendered, bool with_image) const;
  // The id of an added token or vocabulary entry (of the <image> copy with with_image), else
  // nullopt; convert_token is convert_tokens_to_ids: unk for an unknown token, None without one.
  std::optional<int32_t> token_id(const std::string& token, bool with_image = false) const;
  std::optional<int32_t> convert_token(const std::string& token, bool with_image = false) const;

 private:
  struct ImageCopy;
  mutable std::shared_ptr<ImageCopy> image_copy_;
  const ImageCopy& image_copy() const;
};

// One LLaVA record: its conversations as ("from", "value") and whether it has an image.
struct LlavaSample {
  std::vector<std::pair<std::string, std::string>> sentences;
  bool has_image = false;
};

struct Outcome {
  std::optional<int64_t> cur_len, total_len;  // absent for plain (no check) and errors
  bool mismatch = false;
  bool zeroed = false;
  std::string warning;  // what LLaVA prints, empty when nothing
  std::string error;    // the exception LLaVA raises ("KeyError: 'system'"), empty when none
  std::string preprocessor;
  std::vector<int32_t> input_ids, labels;
  // The terms of LLaVA's count, for explaining a mismatch.
  int64_t cur_start = 0;               // where cur_len starts (1 assumes a BOS; mpt: 0 or 1)
  std::vector<int64_t> round_lens;     // round_len as counted, after the legacy adjustment
  int64_t legacy_adjust = 0;           // total added by the legacy branch
  size_t rounds_split = 0;             // pieces the prompt split into (an early break stops short)
};

// A few sentences saying which term of LLaVA's arithmetic was off for a mismatched sample.
std::string explain(const Outcome& o, const LlavaConv& conv, const LlavaTokenizer& t);

// Reads one dataset record as LLaVA's LazySupervisedDataset sees it. Returns false with
// `error` set to what LLaVA would raise when it cannot (not JSON, no "conversations"); `id` is
// the record's id when it has one.
bool read_llava_record(std::string_view record, LlavaSample& out, std::string& id, std::string& error);

Outcome llava_preprocess(const LlavaConv& conv, Impl impl, LlavaSample sample, const LlavaTokenizer& t);

}  // namespace tokalign::audit
