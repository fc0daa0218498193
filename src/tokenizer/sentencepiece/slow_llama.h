// transformers' slow SentencePiece LlamaTokenizer, as LLaVA loads it (AutoTokenizer with
// use_fast=False under transformers 4.37.2, its pinned version), over the tokenizer.model with
// libsentencepiece (what the slow tokenizer runs: sentencepiece.SentencePieceProcessor).
//
// The semantics reproduced (transformers v4.37 src/transformers/models/llama/tokenization_llama.py
// and tokenization_utils.py PreTrainedTokenizer.tokenize):
//   - added tokens (every special token, the config's added_tokens_decoder, tokens added later)
//     are cut out of the text first, longest match leftmost (tokens_trie.split), honouring each
//     token's lstrip / rstrip / single_word; the pieces between them are tokenized on their own;
//   - legacy (the config's `legacy`; absent means True in 4.37): each piece is
//     sp.encode(piece), so SentencePiece's dummy prefix "▁" returns after every special token;
//   - legacy False: the model is loaded with add_dummy_prefix off, the whole text gets one "▁"
//     in front (dropped again when a special token follows it), and a piece that starts with
//     "▁" or " " is encoded as unk_token + piece with the unk token's pieces cut off (the
//     "unk-prefix trick", so SentencePiece does not eat the leading space);
//   - ids: added tokens by their id, everything else sp.piece_to_id (unknown pieces -> unk);
//   - add_bos_token (absent means True in 4.37) / add_eos_token (False) around the ids.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::tok::spm {

class SlowLlamaTokenizer {
 public:
  // Which transformers' defaults apply where tokenizer_config.json is silent.
  struct Defaults {
    bool legacy = true;         // 4.37: `legacy=None` becomes True (with a warning)
    bool add_bos_token = true;  // 4.37: LlamaTokenizer(add_bos_token=True)
    std::optional<bool> force_legacy;  // from_pretrained(..., legacy=X): wins over the config
  };

  // Loads `folder`/tokenizer.model with tokenizer_config.json and special_tokens_map.json.
  // Throws tokalign::Error naming the file when there is no tokenizer.model or it is unreadable.
  static SlowLlamaTokenizer load(const std::string& folder, Defaults defaults);
  static SlowLlamaTokenizer load(const std::string& folder) { return load(folder, Defaults{}); }

  SlowLlamaTokenizer(SlowLlamaTokenizer&&) noexcept;
  SlowLlamaTokenizer& operator=(SlowLlamaTokenizer&&) noexcept;
  ~SlowLlamaTokenizer();

  // tokenizer.tokenize(text): the tokens (pieces and added tokens) before ids.
  // split_special_tokens: added tokens in the text are not matched (tokenized as text).
  // Throws tokalign::Error when the text is not valid UTF-8 (naming the byte).
  std::vector<std::string> tokenize(std::string_view text, bool split_special_tokens = false) const;
  // convert_tokens_to_ids
  std::vector<int32_t> tokens_to_ids(const std::vector<std::string>& tokens) const;
  // tokenizer(text).input_ids (add_special_tokens: the BOS / EOS the config asks for).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true, bool split_special_tokens = false) const;
  // convert_ids_to_tokens: an added token's content, else the SentencePiece piece.
  std::string id_to_token(int32_t id) const;
  // The id of an added token or a piece; nullopt when it is neither.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // len(tokenizer): the pieces plus added tokens beyond them.
  size_t size() const;

  // tokenizer.add_tokens(tokens, special_tokens=special): a token not in the vocabulary gets
  // the next id. Returns how many were new.
  size_t add_tokens(const std::vector<std::string>& tokens, bool special);

  bool legacy() const { return legacy_; }
  bool add_bos_token() const { return add_bos_; }
  bool add_eos_token() const { return add_eos_; }
  const std::string& unk_token() const { return unk_; }
  const std::optional<std::string>& bos_token() const { return bos_; }
  const std::optional<std::string>& eos_token() const { return eos_; }
  const std::optional<std::string>& pad_token() const { return pad_; }

 private:
  struct Added {
    std::string content;
    int32_t id = 0;
    bool lstrip = false, rstrip = false, single_word = false;
  };
  struct Processor;  // libsentencepiece, kept out of this header

  SlowLlamaTokenizer();
  void add(const Added& a);
  std::vector<std::string> split_added(std::string_view text) const;  // tokens_trie.split + strips
  std::vector<std::string> base_tokenize(std::string_view text, bool split_special) const;  // PreTrainedTokenizer.tokenize
  void sp_tokenize(std::string_view text, std::vector<std::string>& out) const;  // LlamaTokenizer._tokenize
  bool is_special(std::string_view token) const;

  std::unique_ptr<Processor> sp_;
  bool legacy_ = true, add_bos_ = true, add_eos_ = false;
  std::string unk_ = "<unk>";
  std::optional<std::string> bos_, eos_, pad_;
  std::vector<std::string> additional_special_;
  std::map<std::string, Added, std::less<>> added_;  // content -> token
  std::map<int32_t, std::string> added_by_id_;
  size_t unk_token_length_ = 0;
};

}  // namespace tokalign::tok::spm
