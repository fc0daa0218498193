// A decoder chain compiled into one string per id, so that decoding is appending.
//
// Tokenizer::decode runs HF's chain on a list of token strings: one string per token per
// step. Most chains in use are token-local up to a final join: SentencePiece files (Llama-2,
// Mistral, Yi, Phi-3) decode with Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0);
// byte-level files (GPT-2, Llama-3, Qwen) with ByteLevel. For those the chain's result is
//   Strip(join(piece(id) for each id, byte-fallback runs grouped)) or
//   utf8_lossy(join(raw bytes of each id)),
// with piece(id) computed once per id by the same decoder code. Other chains have no plan,
// and the tokenizer keeps the general path. flat_test.cc checks both paths agree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/decoders/decoder.h"

namespace tokalign::tok {

class FlatDecoder {
 public:
  // The text each id decodes from (the added token's decode text or the model's token), or
  // nullopt for an id without a token; whether it is a special token's content.
  struct Source {
    size_t ids;
    std::function<std::optional<std::string_view>(uint32_t)> text;
    std::function<bool(std::string_view)> special;
  };
  // Null when the chain has no flat form (or there is no chain).
  static std::unique_ptr<FlatDecoder> compile(const Decoder* chain, const Source& source);

  // Appends the decoded text of `ids` to `out` (cleared first). Ids past the table are
  // skipped, as the general path skips unknown ids.
  void decode(std::span<const uint32_t> ids, bool skip_special_tokens, std::string& out) const;
  // True when decode(ids) gives exactly `want`, found by comparing each piece as it comes
  // instead of building the text; false when it does not, or when this plan cannot tell in
  // place (a Strip of trailing or non-ASCII chars): then decode and compare.
  bool decodes_to(std::span<const uint32_t> ids, bool skip_special_tokens, std::string_view want) const;

 private:
  // The joined text before its final step (Strip or the UTF-8 repair), in parts: put(bytes,
  // size, padded) for each piece (padded: 16 bytes may be read from it) and each byte-fallback
  // run; put returns false to stop, and walk then returns false.
  template <class Put>
  bool walk(std::span<const uint32_t> ids, bool skip_special_tokens, Put&& put) const;
  enum class Kind : uint8_t { pieces, byte_level };
  Kind kind_ = Kind::pieces;
  bool byte_fallback_ = false;
  const StripDecoder* strip_ = nullptr;  // applied to the joined text
  std::string text_;  // the pieces, back to back, then kPad bytes (pieces are copied 16 bytes at a time)
  // Per id, all a decode reads of it in one place (one cache line, where four arrays took up to four).
  struct Entry {
    uint32_t offset = 0, size = 0;  // the piece in text_
    int16_t byte = -1;              // byte-fallback value, -1 none
    uint8_t flags = 0;              // kKnown | kSpecial | kPlain
  };
  std::vector<Entry> entries_;
  // kPlain: a piece of at most kPad bytes, not a byte-fallback token (one compare in decodes_to).
  static constexpr uint8_t kKnown = 1, kSpecial = 2, kPlain = 4;
  static constexpr size_t kPad = 16;
};

}  // namespace tokalign::tok
