// Models turn one pre-tokenized word into token ids (HF tokenizers/src/models/):
// BPE, Unigram, WordPiece, WordLevel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::tok {

// A token of one word: id and byte range inside the word.
struct Token {
  uint32_t id;
  uint32_t start;
  uint32_t end;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` (non-empty) to out.
  virtual void tokenize(std::string_view word, std::vector<Token>& out) const = 0;
  virtual std::optional<uint32_t> token_to_id(std::string_view token) const = 0;
  // The vocabulary string of an id (as written in tokenizer.json), if any.
  virtual std::optional<std::string_view> id_to_token(uint32_t id) const = 0;
  virtual size_t vocab_size() const = 0;
  // One past the largest id with a token (ids may have gaps).
  virtual size_t id_end() const = 0;
};

}  // namespace tokalign::tok
