// Decoders turn token strings back into text (HF tokenizers/src/decoders/ and the decoder
// halves of ByteLevel, Metaspace and Replace). Each maps a list of token strings to a new
// list; the tokenizer joins the final list.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pattern.h"

namespace tokalign::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

using DecoderPtr = std::unique_ptr<Decoder>;

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Pattern> p, std::string content) : p_(std::move(p)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override;
  std::string apply(std::string token) const;  // one token's decode_chain

 private:
  std::unique_ptr<Pattern> p_;
  std::string content_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override;
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override;
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override;
  std::string apply(std::string_view token) const;  // one token's decode_chain
  // What apply keeps of `token`: [first, second) in bytes.
  std::pair<size_t, size_t> kept(std::string_view token) const;
  char32_t content() const { return content_; }
  size_t start() const { return start_; }
  size_t stop() const { return stop_; }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool strip_first) : rep_(replacement), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override;

 private:
  char32_t rep_;
  bool strip_first_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string suffix_;
};

class CtcDecoder : public Decoder {
 public:
  CtcDecoder(std::string pad, std::string word_delimiter, bool cleanup)
      : pad_(std::move(pad)), delim_(std::move(word_delimiter)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string pad_, delim_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<DecoderPtr> d) : items_(std::move(d)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& d : items_) d->decode_chain(tokens);
  }
  const std::vector<DecoderPtr>& items() const { return items_; }

 private:
  std::vector<DecoderPtr> items_;
};

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// "<0xXX>" -> the byte, else -1 (ByteFallback's test of a token).
int byte_fallback_value(std::string_view token);

// WordPiece's cleanup of spaces before punctuation and contractions.
std::string wordpiece_cleanup(std::string s);

}  // namespace tokalign::tok
