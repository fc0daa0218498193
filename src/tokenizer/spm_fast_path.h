// Llama-2-style SentencePiece BPE without a NormalizedString.
//
// The tokenizer.json files of Llama-2, Mistral v0.1/v0.2, Vicuna and LLaVA-1.5, TinyLlama,
// Yi and Phi-3 normalize with Sequence[Prepend("▁"), Replace(" ", "▁")], have no
// pre-tokenizer, and give the whole normalized piece to a BPE with byte fallback. A
// tokenizer.model converted the way transformers does it (sentencepiece/convert.cc) has no
// normalizer and a Metaspace("▁", split: false) pre-tokenizer, which does the same but
// prepends per its scheme (always, first piece only, never; not before a leading "▁"). The general
// path builds that normalized string with a byte-by-byte alignment to the input, cuts it at
// U+2581 where no merge can reach across (BpeModel::tokenize), and maps each token back
// through the alignment. Here the same words are built straight from the input (a space is a
// "▁", the piece's first word gets the prepended "▁") and each token's input range comes from
// a walk over the word: the result is the same ids and offsets, with far less work per byte.
// Short input words are looked up whole (ids and offsets) in a per-thread table first.
// tokenizer_test.cc checks the two paths agree.
#pragma once

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/models/bpe.h"
#include "tokenizer/normalizers/normalizer.h"
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"

namespace tokalign::tok {

class SpmFastPath {
 public:
  // Null unless the pipeline is exactly the one above, the model a BpeModel that may be cut
  // at U+2581, and no added token is matched on normalized text.
  static std::unique_ptr<SpmFastPath> detect(const Normalizer* normalizer, const PreTokenizer* pre_tokenizer,
                                             const Model* model, const AddedVocabulary& added);

  // Byte ranges in the input: [start, end), always at char boundaries.
  using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;
  // Encodes one piece of input (text between added tokens, `shift` bytes into an input
  // shorter than 4 GiB): appends ids, and with `offsets` each token's byte range in the input.
  void encode(std::string_view piece, size_t shift, std::vector<uint32_t>& ids, Offsets* offsets) const;

 private:
  // Which pieces get the prepended "▁".
  enum class Prepend {
    always,          // the Prepend normalizer: every non-empty piece
    unless_meta,     // Metaspace "always": a piece not starting with " " or "▁"
    at_input_start,  // Metaspace "first": that, and only the piece at the input's start
    never,
  };
  SpmFastPath(const BpeModel& m, Prepend prepend);
  bool prepends(std::string_view piece, size_t shift) const;
  // One word (input bytes; `first`: it gets the prepended "▁") through the model: appends its ids
  // and their input ranges shifted by `at`.
  void encode_word(std::string_view in, bool first, std::vector<uint32_t>& ids, Offsets& offsets, uint32_t at) const;
  const BpeModel& model_;
  Prepend prepend_;
  uint64_t uid_;  // identifies this path's per-thread table of input words
};

}  // namespace tokalign::tok
