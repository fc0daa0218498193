#include "tokenizer/pattern.h"

#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

// Appends a match [a, b) after the non-match that precedes it.
inline void push_match(std::vector<Piece>& out, size_t& prev, size_t a, size_t b) {
  if (prev != a) out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(a), false});
  out.push_back({static_cast<uint32_t>(a), static_cast<uint32_t>(b), true});
  prev = b;
}

inline void push_tail(std::vector<Piece>& out, size_t prev, size_t len) {
  if (prev != len) out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(len), false});
}

}  // namespace

void StringPattern::find_matches(std::string_view s, std::vector<Piece>& out) const {
  out.clear();
  if (s.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  if (s_.empty()) {
    out.push_back({0, static_cast<uint32_t>(s.size()), false});
    return;
  }
  size_t prev = 0;
  for (size_t at = s.find(s_); at != std::string_view::npos; at = s.find(s_, at + s_.size()))
    push_match(out, prev, at, at + s_.size());
  push_tail(out, prev, s.size());
}

void RegexPattern::find_matches(std::string_view s, std::vector<Piece>& out) const {
  out.clear();
  if (s.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t prev = 0;
  size_t from = 0;
  size_t a, b;
  bool matched = false;
  // Empty matches advance by one char, and an empty match right where the previous match
  // ended is skipped, as Oniguruma's find_iter does.
  while (from <= s.size() && re_.search(s, from, a, b)) {
    if (a == b && matched && a == prev) {
      if (b >= s.size()) break;
      from = b + unicode::char_len(static_cast<unsigned char>(s[b]));
      continue;
    }
    matched = true;
    push_match(out, prev, a, b);
    if (b == a) {
      if (b >= s.size()) break;
      from = b + unicode::char_len(static_cast<unsigned char>(s[b]));
    } else {
      from = b;
    }
  }
  push_tail(out, prev, s.size());
}

void CharPredicatePattern::find_matches(std::string_view s, std::vector<Piece>& out) const {
  out.clear();
  if (s.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    char32_t c = unicode::decode(s, i);
    if (pred_(c)) push_match(out, prev, at, i);
  }
  push_tail(out, prev, s.size());
}

void InvertPattern::find_matches(std::string_view s, std::vector<Piece>& out) const {
  p_->find_matches(s, out);
  for (Piece& p : out) p.is_match = !p.is_match;
}

}  // namespace tokalign::tok
