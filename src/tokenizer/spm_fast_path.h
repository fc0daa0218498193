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
// Short input words are looked up whole (ids and offsets) in a per-thread table first
// (hot_words.h), and a piece at an input's start copies the tokens of the words it shares
// with a recently encoded one (a system prompt, in every sample).
// tokenizer_test.cc checks the two paths agree.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/models/bpe.h"
#include "tokenizer/normalizers/normalizer.h"
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"
#include "tokenizer/shared_words.h"

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
  // Tokens this thread copied from recently encoded pieces rather than encoding them (for tests).
  size_t reused_tokens() const;

 private:
  // Which pieces get the prepended "▁".
  enum class Prepend {
    always,          // the Prepend normalizer: every non-empty piece
    unless_meta,     // Metaspace "always": a piece not starting with " " or "▁"
    at_input_start,  // Metaspace "first": that, and only the piece at the input's start
    never,
  };
  struct ThreadState;
  SpmFastPath(const BpeModel& m, Prepend prepend);
  bool prepends(std::string_view piece, size_t shift) const;
  // The piece's words from byte `from` (a word's start) on, each from this thread's `hot`
  // table (HotWords or CompactHotWords) or through the model: appends their ids and input ranges.
  template <class Table>
  void encode_words(std::string_view piece, size_t shift, size_t from, Table& hot, std::vector<uint32_t>& ids,
                    Offsets& offsets) const;
  // One word (input bytes; `first`: it gets the prepended "▁") through the model: appends its ids
  // and their input ranges shifted by `at`.
  void encode_word(std::string_view in, bool first, std::vector<uint32_t>& ids, Offsets& offsets, uint32_t at) const;
  // Whether the scan cuts the piece into words at byte i.
  bool cut_at(std::string_view piece, size_t i) const;
  // For a piece at an input's start: the tokens of the words it shares with a recently kept
  // such piece are copied (`tokens`, from `slot`), and encoding goes on at byte `cut`.
  static constexpr size_t kNone = SIZE_MAX;
  struct Reuse {
    size_t slot = kNone;
    size_t cut = 0;     // where the first word not copied starts (0: none copied)
    size_t tokens = 0;  // tokens copied
    size_t same = 0;    // bytes shared with the kept piece
  };
  Reuse reuse_recent(std::string_view piece, ThreadState& state, std::vector<uint32_t>& ids,
                     Offsets& offsets) const;
  // Keeps the piece and its tokens (ids and offsets: this piece's) among the recent ones.
  void remember_recent(std::string_view piece, ThreadState& state, const Reuse& reuse,
                       std::span<const uint32_t> ids, std::span<const std::pair<uint32_t, uint32_t>> offsets) const;
  const BpeModel& model_;
  Prepend prepend_;
  bool compact_;  // the vocabulary's ids fit CompactHotWords
  uint64_t uid_;  // identifies this path's per-thread state (ThreadState)
  // The short words any thread has encoded, for the others (shared_words.h); with compact_.
  std::unique_ptr<SharedCompactWords> shared_;
};

}  // namespace tokalign::tok
