// What Split, Replace and the split-based pre-tokenizers look for in a string, with HF's
// `Pattern::find_matches` contract (tokenizers/src/tokenizer/pattern.rs): the result covers
// the whole input as consecutive (start, end, is_match) pieces, an empty input giving one
// empty non-match.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace tokalign::tok {

struct Piece {
  uint32_t start;
  uint32_t end;
  bool is_match;
};

class Pattern {
 public:
  virtual ~Pattern() = default;
  virtual void find_matches(std::string_view s, std::vector<Piece>& out) const = 0;
  std::vector<Piece> find_matches(std::string_view s) const {
    std::vector<Piece> out;
    find_matches(s, out);
    return out;
  }
};

// A literal string ("String" in tokenizer.json); empty matches nothing.
class StringPattern : public Pattern {
 public:
  explicit StringPattern(std::string s) : s_(std::move(s)) {}
  void find_matches(std::string_view s, std::vector<Piece>& out) const override;
  const std::string& literal() const { return s_; }

 private:
  std::string s_;
};

// An Oniguruma regex ("Regex" in tokenizer.json), run on PCRE2.
class RegexPattern : public Pattern {
 public:
  explicit RegexPattern(std::string_view re) : re_(re) {}
  void find_matches(std::string_view s, std::vector<Piece>& out) const override;
  const Regex& regex() const { return re_; }

 private:
  Regex re_;
};

// Every char for which the predicate holds is one match.
class CharPredicatePattern : public Pattern {
 public:
  explicit CharPredicatePattern(std::function<bool(char32_t)> pred) : pred_(std::move(pred)) {}
  void find_matches(std::string_view s, std::vector<Piece>& out) const override;

 private:
  std::function<bool(char32_t)> pred_;
};

// Swaps matches and non-matches (Split's `invert`).
class InvertPattern : public Pattern {
 public:
  explicit InvertPattern(std::unique_ptr<Pattern> p) : p_(std::move(p)) {}
  void find_matches(std::string_view s, std::vector<Piece>& out) const override;

 private:
  std::unique_ptr<Pattern> p_;
};

}  // namespace tokalign::tok
