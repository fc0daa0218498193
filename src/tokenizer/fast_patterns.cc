#include "tokenizer/fast_patterns.h"

#include "unicode/categories.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

const std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string_view kQwenRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Character classes the patterns test. "Other" is neither letter, number nor whitespace.
enum : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 4, kNewline = 8 /* \r or \n, also kSpace */ };

struct AsciiTable {
  uint8_t cls[128];
  AsciiTable() {
    for (int c = 0; c < 128; ++c) {
      uint8_t k = kOther;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = kLetter;
      else if (c >= '0' && c <= '9') k = kNumber;
      else if (c == ' ' || (c >= 0x09 && c <= 0x0D)) k = kSpace;
      if (c == '\r' || c == '\n') k = kSpace | kNewline;
      cls[c] = k;
    }
  }
};
const AsciiTable kAscii;

[[gnu::noinline]] uint8_t klass_non_ascii(std::string_view s, size_t i, size_t& n) {
  size_t j = i;
  char32_t c = unicode::decode(s, j);
  n = j - i;
  if (unicode::is_whitespace(c)) return kSpace;  // U+0085, U+2028 ... are \s, not [\r\n]
  unicode::Category k = unicode::category(c);
  if (unicode::is_letter(k)) return kLetter;
  if (unicode::is_number(k)) return kNumber;
  return kOther;
}

// Class of the char at s[i]; sets n to its byte length.
[[gnu::always_inline]] inline uint8_t klass(std::string_view s, size_t i, size_t& n) {
  unsigned char b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    n = 1;
    return kAscii.cls[b];
  }
  return klass_non_ascii(s, i, n);
}

inline uint8_t klass_at(std::string_view s, size_t i) {
  size_t n;
  return i < s.size() ? klass(s, i, n) : 0xFF;
}

// End of the run of chars of class `want` (any bit of it) from i.
inline size_t run_end(std::string_view s, size_t i, uint8_t want) {
  size_t n;
  while (i < s.size() && (klass(s, i, n) & want)) i += n;
  return i;
}

inline size_t run_end_exact(std::string_view s, size_t i, uint8_t want) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t end = s.size();
  for (;;) {
    // ASCII stretch first, one table lookup per byte and no out-parameter.
    while (i < end && p[i] < 0x80 && kAscii.cls[p[i]] == want) ++i;
    if (i >= end || p[i] < 0x80) return i;
    size_t n;
    if (klass_non_ascii(s, i, n) != want) return i;
    i += n;
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) or the case-sensitive form, at s[i] == '\''. Returns the
// match end or 0. Under Unicode case folding 's' also matches U+017F (long s).
size_t contraction(std::string_view s, size_t i, bool ignore_case) {
  auto at = [&](size_t k) -> int { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : -1; };
  auto is = [&](size_t k, char lower) {
    int c = at(k);
    return c == lower || (ignore_case && c == lower - 32);
  };
  if (is(1, 's')) return i + 2;
  if (ignore_case && at(1) == 0xC5 && at(2) == 0xBF) return i + 3;  // U+017F
  if (is(1, 't')) return i + 2;
  if (is(1, 'r') && is(2, 'e')) return i + 3;
  if (is(1, 'v') && is(2, 'e')) return i + 3;
  if (is(1, 'm')) return i + 2;
  if (is(1, 'l') && is(2, 'l')) return i + 3;
  if (is(1, 'd')) return i + 2;
  return 0;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+ at a whitespace char: the three whitespace alternatives.
size_t whitespace_alternatives(std::string_view s, size_t i, bool with_newline_alt) {
  size_t end = run_end(s, i, kSpace);
  if (with_newline_alt) {
    // \s*[\r\n]+: up to and including the last \r or \n of the run.
    size_t last_nl = 0;
    bool any = false;
    size_t n;
    for (size_t k = i; k < end; k += n)
      if (klass(s, k, n) & kNewline) {
        last_nl = k + n;
        any = true;
      }
    if (any) return last_nl;
  }
  // \s+(?!\S): the run, or the run less its last char when a non-space follows.
  if (end >= s.size()) return end;
  size_t last = end - 1;
  while (last > i && unicode::is_continuation(static_cast<unsigned char>(s[last]))) --last;
  if (last > i) return last;
  return end;  // \s+
}

// Llama-3 / Qwen: (?i:contractions)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*
//                 |\s*[\r\n]+|\s+(?!\S)|\s+
size_t llama3_match(std::string_view s, size_t i, size_t max_digits) {
  size_t n;
  const uint8_t c = klass(s, i, n);
  if (s[i] == '\'') {
    if (size_t e = contraction(s, i, true)) return e;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c == kLetter) return run_end_exact(s, i + n, kLetter);
  if (!(c & (kNewline | kNumber)) && klass_at(s, i + n) == kLetter) return run_end_exact(s, i + n, kLetter);
  // \p{N}{1,D}
  if (c == kNumber) {
    size_t e = i + n, count = 1, m;
    while (count < max_digits && e < s.size() && klass(s, e, m) == kNumber) {
      e += m;
      ++count;
    }
    return e;
  }
  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
  size_t k = i;
  if (s[i] == ' ' && klass_at(s, i + 1) == kOther) k = i + 1;
  if (klass_at(s, k) == kOther) {
    size_t e = run_end_exact(s, k, kOther);
    while (e < s.size() && (s[e] == '\r' || s[e] == '\n')) ++e;
    return e;
  }
  return whitespace_alternatives(s, i, true);
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t gpt2_match(std::string_view s, size_t i) {
  if (s[i] == '\'') {
    if (size_t e = contraction(s, i, false)) return e;
  }
  size_t k = i;
  if (s[i] == ' ' && i + 1 < s.size()) {
    uint8_t next = klass_at(s, i + 1);
    if (next == kLetter || next == kNumber || next == kOther) k = i + 1;
  }
  size_t n;
  const uint8_t c = klass(s, k, n);
  if (c == kLetter || c == kNumber || c == kOther) return run_end_exact(s, k + n, c);
  return whitespace_alternatives(s, i, false);
}

class TilingPattern : public Pattern {
 public:
  enum class Kind { Llama3, Qwen, Gpt2 };
  explicit TilingPattern(Kind k) : kind_(k) {}
  void find_matches(std::string_view s, std::vector<Piece>& out) const override {
    out.clear();
    if (s.empty()) {
      out.push_back({0, 0, false});
      return;
    }
    // Every position starts a match: the matches tile the string.
    for (size_t i = 0; i < s.size();) {
      size_t e = kind_ == Kind::Gpt2 ? gpt2_match(s, i) : llama3_match(s, i, kind_ == Kind::Llama3 ? 3 : 1);
      out.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(e), true});
      i = e;
    }
  }

 private:
  Kind kind_;
};

}  // namespace

std::unique_ptr<Pattern> fast_pattern_for(std::string_view regex) {
  if (regex == kLlama3Regex) return std::make_unique<TilingPattern>(TilingPattern::Kind::Llama3);
  if (regex == kQwenRegex) return std::make_unique<TilingPattern>(TilingPattern::Kind::Qwen);
  if (regex == kGpt2Regex) return std::make_unique<TilingPattern>(TilingPattern::Kind::Gpt2);
  return nullptr;
}

}  // namespace tokalign::tok
