// WordPiece (HF tokenizers/src/models/wordpiece/mod.rs): greedy longest-match-first from
// the left, continuation pieces carrying the `##` prefix; a word with any unmatched part,
// or longer than max_input_chars_per_word, becomes one unk token.
// WordLevel (models/wordlevel/mod.rs): the whole word or unk.
#pragma once

#include "tokenizer/models/model.h"
#include "tokenizer/models/vocab.h"

namespace tokalign::tok {

class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocab vocab, std::string unk_token, std::string prefix, size_t max_chars);
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view t) const override { return vocab_.get(t); }
  std::optional<std::string_view> id_to_token(uint32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t id_end() const override { return vocab_.id_end(); }

 private:
  Vocab vocab_;
  std::string unk_, prefix_;
  size_t max_chars_;
};

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token);
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view t) const override { return vocab_.get(t); }
  std::optional<std::string_view> id_to_token(uint32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t id_end() const override { return vocab_.id_end(); }

 private:
  Vocab vocab_;
  std::string unk_;
};

}  // namespace tokalign::tok
