// Unigram language model (HF tokenizers/src/models/unigram/model.rs, encode_optimized):
// Viterbi over all vocabulary pieces that start at each char, an unknown char scored
// min_score - 10, consecutive unknowns fused when fuse_unk, byte fallback for pieces that
// end up unknown.
#pragma once

#include "tokenizer/models/model.h"
#include "tokenizer/models/vocab.h"

namespace tokalign::tok {

class UnigramModel : public Model {
 public:
  // Throws tokalign::Error if unk_id is out of range.
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<uint32_t> unk_id,
               bool byte_fallback, bool fuse_unk);
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view t) const override { return vocab_.get(t); }
  std::optional<std::string_view> id_to_token(uint32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t id_end() const override { return vocab_.id_end(); }

 private:
  struct TrieNode {
    int32_t child_base = -1;  // index into edges_
    int32_t id = -1;          // piece ending here
  };
  void build_trie();

  Vocab vocab_;
  std::vector<double> scores_;
  std::vector<std::string> pieces_;
  // Byte trie: nodes with sorted edge lists.
  struct Edge {
    unsigned char byte;
    uint32_t node;
  };
  std::vector<std::vector<Edge>> edges_;
  std::vector<int32_t> node_id_;
  std::optional<uint32_t> unk_id_;
  bool byte_fallback_, fuse_unk_;
  double min_score_ = 0;
};

}  // namespace tokalign::tok
