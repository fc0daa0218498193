// Byte-pair encoding, exactly as HF applies it (tokenizers/src/models/bpe/model.rs and
// word.rs): a word starts as one symbol per char (with the continuing-subword prefix and
// end-of-word suffix, byte fallback to <0xXX> tokens, and unknown chars fused or dropped),
// then the lowest-ranked adjacent pair of the merges list is merged, leftmost first, until
// no pair has a merge. `ignore_merges` emits a word that is itself in the vocab whole.
//
// Byte-level mode: under a ByteLevel pre-tokenizer the vocabulary is stored as raw bytes
// (the GPT-2 alphabet decoded), so words are never re-encoded; ids are unchanged.
#pragma once

#include <algorithm>
#include <memory>

#include "tokenizer/models/model.h"
#include "util/hash_map.h"

namespace tokalign::tok {

// vocab and merges are views (typically into the parsed tokenizer.json) that only need to
// live until the BpeModel constructor returns.
struct BpeConfig {
  std::vector<std::pair<std::string_view, uint32_t>> vocab;
  std::vector<std::pair<std::string_view, std::string_view>> merges;
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  bool byte_level = false;  // store the vocabulary as raw bytes (see above)
};

class BpeModel : public Model {
 public:
  // Throws tokalign::Error when a merge names a token missing from the vocab.
  explicit BpeModel(BpeConfig config);
  ~BpeModel() override;
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  // One word without cutting it (cached): tokenize() after any cuts.
  // `hot`: look the word up in (and remember it in) the per-thread table of short words
  // first. SpmFastPath passes false: it keeps its own table of the same words, and a second
  // one would only double what the CPU caches must hold.
  void tokenize_word(std::string_view word, std::vector<Token>& out, bool hot = true) const;
  // SentencePiece-style vocabularies: whether a word may be cut before a U+2581 that follows
  // `prev` (no merge can span such a cut; see spm_cuts_).
  bool spm_cut_after(char32_t prev) const {
    if (prev < 128) return cut_after_ascii_[prev];
    return spm_cuts_ && !blocks_cut(prev);
  }
  bool spm_cuts() const { return spm_cuts_; }
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string_view> id_to_token(uint32_t id) const override;
  // Distinct keys: duplicates in the JSON object collapse like a map, as in HF.
  size_t vocab_size() const override { return vocab_.size() + literal_extra_.size(); }
  size_t id_end() const override { return token_offset_.empty() ? 0 : token_offset_.size() - 1; }
  bool byte_level() const { return byte_level_; }

  // The merge loop alone, on initial symbol ids (exposed so tests can compare the two
  // implementations on random input).
  struct Symbol {
    uint32_t id;
    uint32_t start;
    uint32_t len;
  };
  void merge_symbols_heap(std::vector<Symbol>& syms) const;
  void merge_symbols_scan(std::vector<Symbol>& syms) const;

  // The compiled tables as a flat image and back (bpe_image.cc), so a large tokenizer.json
  // need not be rebuilt on every start. read_image throws std::runtime_error if the image
  // is corrupt.
  void write_image(std::string& out) const;
  static std::unique_ptr<BpeModel> read_image(std::string_view image);

 private:
  BpeModel();
  void fill_lookup_tables();  // cut_after_ascii_ (from spm_cuts_ and cut_blockers_), ascii_ids_, meta_id_
  bool blocks_cut(char32_t c) const {
    return std::find(cut_blockers_.begin(), cut_blockers_.end(), c) != cut_blockers_.end();
  }
  void initial_symbols(std::string_view word, std::vector<Symbol>& syms) const;
  void merge_word(std::string_view word, std::vector<Token>& out) const;

  StringIdMap vocab_;                       // model-space key (raw bytes in byte-level mode)
  StringIdMap literal_extra_;               // byte-level keys that are not valid GPT-2 alphabet
  std::string token_text_;                  // literal token strings, back to back
  std::vector<uint32_t> token_offset_;      // id -> [offset, next offset) in token_text_
  PairMap merges_;
  std::vector<int32_t> byte_ids_;           // raw byte -> id in byte-level mode (-1 none)
  std::vector<int32_t> fallback_ids_;       // byte -> id of <0xXX> (-1 none)
  std::optional<uint32_t> unk_id_;
  std::string prefix_, suffix_;
  bool fuse_unk_, byte_fallback_, ignore_merges_, byte_level_;
  uint64_t uid_;                            // identifies this model's per-thread word cache
  class SharedWords;
  std::shared_ptr<SharedWords> shared_;     // words merged by any thread (bpe.cc)
  // SentencePiece-style vocabularies: a word may be cut before a U+2581 whose preceding
  // char never precedes an interior U+2581 in any token, since no merge can then span the
  // cut (chars listed here block a cut). Empty and !spm_cuts_ when not applicable.
  bool spm_cuts_ = false;
  std::vector<char32_t> cut_blockers_;
  bool cut_after_ascii_[128] = {};  // spm_cut_after for ASCII chars
  // Ids of one-char tokens (-1 none), found once: the first step of merging a word looks up
  // each of its chars, nearly all ASCII or U+2581.
  int64_t ascii_ids_[128] = {};
  int64_t meta_id_ = -1;  // "▁"
};

}  // namespace tokalign::tok
