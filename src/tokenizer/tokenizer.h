// The Hugging Face tokenization pipeline, bit-exact with tokenizers 0.23
// (tokenizers/src/tokenizer/mod.rs, encode_single_sequence + post_process):
//
//   1. added vocabulary   split out added tokens found in the raw text (normalized=false)
//   2. normalizer         each remaining text piece (normalizers/)
//      added vocabulary   split out added tokens found in the normalized text
//   3. pre-tokenizer      cut text pieces into words (pre_tokenizers/)
//   4. model              words -> ids (models/: BPE, Unigram, WordPiece, WordLevel)
//   5. post-processor     special tokens around the sequence (processors/)
//
// and back: ids -> token strings -> decoders/ -> text.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/decoders/decoder.h"
#include "tokenizer/decoders/flat.h"
#include "tokenizer/encoding.h"
#include "tokenizer/models/model.h"
#include "tokenizer/normalizers/normalizer.h"
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"
#include "tokenizer/processors/processor.h"
#include "tokenizer/spm_fast_path.h"

namespace tokalign::tok {

struct EncodeOptions {
  bool add_special_tokens = true;  // run the post-processor's template (bos, cls, ...)
  bool parse_special = true;       // match special tokens in the text; off = plain text
  // With parse_special on: when not empty, special tokens are matched only where the whole
  // match lies inside one of these sorted, disjoint byte ranges of the text (the compiler's
  // template scaffolding); elsewhere they are plain text.
  std::span<const std::pair<size_t, size_t>> special_ranges;
  bool offsets = false;            // fill Encoding::offsets
  // With offsets: report them in bytes of the input instead of chars, at the char boundaries
  // the char offsets name (the same spans; no char index is computed).
  bool byte_offsets = false;
};

class Tokenizer {
 public:
  // Loads a tokenizer.json, or the tokenizer.json inside a model folder, or a folder with a
  // SentencePiece tokenizer.model and no tokenizer.json (see json_for). Throws
  // tokalign::Error naming the file and the problem (bad JSON, unsupported component,
  // merges naming missing tokens, ...).
  static Tokenizer from_file(const std::string& path);
  // The tokenizer.json text from_file() reads for `path`: the file itself, the folder's
  // tokenizer.json, or for a folder (or .model file) with only a SentencePiece tokenizer.model,
  // the conversion transformers 5.x makes (tokenizer/sentencepiece/convert.h). `file` gets the
  // file it came from.
  static std::string json_for(const std::string& path, std::string* file = nullptr);
  // Loads from tokenizer.json text; `source` names it in errors.
  static Tokenizer from_json(std::string_view json, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Throws tokalign::Error if text is not valid UTF-8 (naming the byte offset).
  Encoding encode(std::string_view text, const EncodeOptions& opts = {}) const;
  // The same into `out`, reusing its storage (for callers that encode in a loop).
  void encode(std::string_view text, const EncodeOptions& opts, Encoding& out) const;
  // Encodes in parallel on `threads` threads (0 = hardware concurrency), texts[i] into out[i]
  // (resized to texts.size(), its encodings' storage reused: callers encode batch after batch).
  void encode_batch(std::span<const std::string_view> texts, const EncodeOptions& opts, size_t threads,
                    std::vector<Encoding>& out) const;

  std::string decode(std::span<const uint32_t> ids, bool skip_special_tokens = false) const;
  // True when decode() appends per-id strings (decoders/flat.h) rather than running the chain.
  bool decodes_flat() const { return flat_decoder() != nullptr; }
  // True when encode() takes the Llama-2-style SentencePiece fast path (spm_fast_path.h).
  bool encodes_spm_fast() const { return spm_fast_ != nullptr; }
  const SpmFastPath* spm_fast_path() const { return spm_fast_.get(); }
  // The same into `out`, reusing its storage.
  void decode(std::span<const uint32_t> ids, std::string& out, bool skip_special_tokens = false) const;
  // True when decode(ids) surely gives `want` (compared in place, FlatDecoder::decodes_to);
  // false when it does not or this cannot tell (decode and compare then).
  bool decodes_to(std::span<const uint32_t> ids, std::string_view want) const;

  // Adds special tokens that are not in the vocabulary yet, each with the next id
  // (vocab_size()), as transformers' tokenizer.add_tokens(..., special_tokens=True) does;
  // returns the ids of all of them (existing ones keep theirs).
  std::vector<uint32_t> add_special_tokens(const std::vector<std::string>& contents);

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  // Model vocab plus added tokens not in it (HF get_vocab_size(with_added_tokens=true)).
  size_t vocab_size() const;
  const AddedVocabulary& added_vocabulary() const { return *added_; }
  const std::string& source() const { return source_; }

 private:
  Tokenizer();
  friend class TokenizerLoader;

  std::string source_;
  NormalizerPtr normalizer_;
  PreTokenizerPtr pre_tokenizer_;
  std::unique_ptr<Model> model_;
  PostProcessorPtr post_processor_;
  DecoderPtr decoder_;
  std::unique_ptr<AddedVocabulary> added_;
  // The decoder chain as per-id strings (decoders/flat.h), built on the first decode.
  // Llama-2-style SentencePiece files skip the NormalizedString (spm_fast_path.h).
  std::unique_ptr<SpmFastPath> spm_fast_;
  void detect_fast_paths();
  struct FlatState;
  std::unique_ptr<FlatState> flat_;
  const FlatDecoder* flat_decoder() const;
  // The text decoding starts from for an id: an added token's decode text, else the model's token.
  std::optional<std::string_view> decode_text(uint32_t id) const;
  bool byte_level_raw_ = false;  // model works on raw bytes (token offsets widen to chars)
  // Set when the pre-tokenizer only cuts: untouched text is then cut as byte ranges.
  bool range_only_ = false;
  std::vector<RangeStep> range_steps_;
};

}  // namespace tokalign::tok
