// Added tokens: strings matched in the text before anything else runs
// (HF tokenizers/src/tokenizer/added_vocabulary.rs). Tokens with normalized=false are
// found in the raw text; the rest of the text is normalized piece by piece and tokens with
// normalized=true are then found in the normalized text, by their normalized form.
// Matching is leftmost-longest; single_word, lstrip and rstrip follow HF's find_matches.
// With parse_special off, special tokens are not matched (HF encode_special_tokens).
// SpecialPolicy can also allow special tokens only inside given byte ranges of the input:
// the compiler parses them in template scaffolding and not in message content.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizers/normalizer.h"
#include "tokenizer/pre_tokenized_string.h"
#include "util/hash_map.h"

namespace tokalign::tok {

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  // What decoding prints for it: its normalized form when it is matched normalized and the
  // normalizer changes it, else the content (HF AddedVocabulary::simple_id_to_token).
  std::string decode_text;
};

// Where special tokens are matched: nowhere (parse = false), everywhere (parse = true, no
// ranges), or only where the whole match lies inside one of `ranges` (sorted, disjoint byte
// ranges of the original input).
struct SpecialPolicy {
  bool parse = true;
  std::span<const std::pair<size_t, size_t>> ranges;
  bool restricted() const { return parse && !ranges.empty(); }
  bool allows(size_t start, size_t end) const;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // Splits out added tokens and normalizes the remaining text pieces.
  void extract_and_normalize(PreTokenizedString& s, const Normalizer* normalizer, const SpecialPolicy& special) const;
  // extract_and_normalize without a normalizer, as byte ranges of `text` (no NormalizedString
  // per piece): each range an added token's id, or -1 for text. Empty ranges are left out.
  struct RawSplit {
    size_t start, end;
    int64_t id;
  };
  void split_raw(std::string_view text, const SpecialPolicy& special, std::vector<RawSplit>& out) const;

  std::optional<uint32_t> token_to_id(std::string_view content) const { return by_content_.get(content); }
  const AddedToken* by_id(uint32_t id) const;
  bool is_special(uint32_t id) const {
    const AddedToken* t = by_id(id);
    return t && t->special;
  }
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // Whether s is the content of a special token (HF is_special_token, used by decode).
  bool is_special_content(std::string_view s) const { return special_contents_.get(s).has_value(); }
  // The special tokens whose content occurs anywhere in `text` (overlapping or not), as
  // indexes into tokens(), ascending, each once.
  void special_tokens_in(std::string_view text, std::vector<uint32_t>& out) const;

 private:
  // A byte trie answering "longest pattern starting here".
  class Matcher {
   public:
    void add(std::string_view pattern, uint32_t token_index);
    bool empty() const { return nodes_.size() <= 1; }
    // Leftmost-longest match at or after `from`: sets [start, end) and token index.
    bool find(std::string_view s, size_t from, size_t& start, size_t& end, uint32_t& token) const;
    // Appends the token index of every pattern occurring anywhere in s (repeats included).
    void find_all(std::string_view s, std::vector<uint32_t>& tokens) const;

   private:
    // The first position at or after i where a pattern may start; s.size() if none.
    size_t next_start(std::string_view s, size_t i) const;
    // The trie node after byte b from `node`, or -1.
    int64_t step(uint32_t node, unsigned char b) const;
    struct Node {
      std::vector<std::pair<unsigned char, uint32_t>> next;
      int64_t token = -1;
    };
    std::vector<Node> nodes_{1};
    bool first_byte_[256] = {};
    size_t first_bytes_ = 0;  // how many bytes first_byte_ holds
    char only_first_ = 0;     // the one, when first_bytes_ == 1
  };
  struct Match {
    int64_t token;  // index into tokens_, -1 for text
    size_t start, end;
  };
  // In n's text; special ranges are checked through n's alignments. Without n, in `s`,
  // which starts `shift` bytes into the input (the identity alignment).
  void find_matches(const NormalizedString& n, const Matcher& m, const SpecialPolicy& special,
                    std::vector<Match>& out) const;
  void find_matches(std::string_view s, size_t shift, const NormalizedString* n, const Matcher& m,
                    const SpecialPolicy& special, std::vector<Match>& out) const;
  void split_with(NormalizedString& n, const Matcher& m, const SpecialPolicy& special, std::vector<Split>& out) const;

  std::vector<AddedToken> tokens_;
  StringIdMap by_content_;
  StringIdMap special_contents_;
  std::vector<int64_t> index_of_id_;  // id -> index into tokens_ (sparse ids are few)
  Matcher raw_, normalized_;
  Matcher special_;  // the special tokens' contents, for special_tokens_in
};

}  // namespace tokalign::tok
