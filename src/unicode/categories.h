// Character classes with the exact meaning the Hugging Face tokenizers (Rust) code gives
// them: `char::is_whitespace` (White_Space), regex-crate `\w`,
// the unicode_categories crate's `is_punctuation`, and Bert's control / CJK tests.
// General categories come from utf8proc (Debian libutf8proc, Unicode 15).
#pragma once

#include <cstdint>

namespace tokalign::unicode {

enum class Category : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co
};

Category category(char32_t c);

inline bool is_letter(Category k) { return k >= Category::Lu && k <= Category::Lo; }
inline bool is_mark(Category k) { return k >= Category::Mn && k <= Category::Me; }
inline bool is_number(Category k) { return k >= Category::Nd && k <= Category::No; }
inline bool is_punct(Category k) { return k >= Category::Pc && k <= Category::Po; }
inline bool is_symbol(Category k) { return k >= Category::Sm && k <= Category::So; }

// Unicode White_Space property (Rust char::is_whitespace).
inline bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// regex crate `\w`: Alphabetic, marks, Nd, Pc, Join_Control.
bool is_word_char(char32_t c);

// unicode_categories::is_punctuation (P*), used with is_ascii_punctuation by HF.
inline bool is_punctuation(char32_t c) { return is_punct(category(c)); }
inline bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// Rust char::is_numeric: Nd, Nl, No.
inline bool is_numeric(char32_t c) { return is_number(category(c)); }

// Rust char::to_lowercase (full mapping: U+0130 becomes two chars). Writes up to 3 chars
// into out and returns how many.
int to_lowercase(char32_t c, char32_t out[3]);

}  // namespace tokalign::unicode
