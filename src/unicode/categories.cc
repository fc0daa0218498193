#include "unicode/categories.h"

#include <utf8proc.h>

#include <array>

namespace tokalign::unicode {

namespace {

Category from_utf8proc(utf8proc_category_t k) {
  switch (k) {
    case UTF8PROC_CATEGORY_LU: return Category::Lu;
    case UTF8PROC_CATEGORY_LL: return Category::Ll;
    case UTF8PROC_CATEGORY_LT: return Category::Lt;
    case UTF8PROC_CATEGORY_LM: return Category::Lm;
    case UTF8PROC_CATEGORY_LO: return Category::Lo;
    case UTF8PROC_CATEGORY_MN: return Category::Mn;
    case UTF8PROC_CATEGORY_MC: return Category::Mc;
    case UTF8PROC_CATEGORY_ME: return Category::Me;
    case UTF8PROC_CATEGORY_ND: return Category::Nd;
    case UTF8PROC_CATEGORY_NL: return Category::Nl;
    case UTF8PROC_CATEGORY_NO: return Category::No;
    case UTF8PROC_CATEGORY_PC: return Category::Pc;
    case UTF8PROC_CATEGORY_PD: return Category::Pd;
    case UTF8PROC_CATEGORY_PS: return Category::Ps;
    case UTF8PROC_CATEGORY_PE: return Category::Pe;
    case UTF8PROC_CATEGORY_PI: return Category::Pi;
    case UTF8PROC_CATEGORY_PF: return Category::Pf;
    case UTF8PROC_CATEGORY_PO: return Category::Po;
    case UTF8PROC_CATEGORY_SM: return Category::Sm;
    case UTF8PROC_CATEGORY_SC: return Category::Sc;
    case UTF8PROC_CATEGORY_SK: return Category::Sk;
    case UTF8PROC_CATEGORY_SO: return Category::So;
    case UTF8PROC_CATEGORY_ZS: return Category::Zs;
    case UTF8PROC_CATEGORY_ZL: return Category::Zl;
    case UTF8PROC_CATEGORY_ZP: return Category::Zp;
    case UTF8PROC_CATEGORY_CC: return Category::Cc;
    case UTF8PROC_CATEGORY_CF: return Category::Cf;
    case UTF8PROC_CATEGORY_CS: return Category::Cs;
    case UTF8PROC_CATEGORY_CO: return Category::Co;
    default: return Category::Cn;
  }
}

// Categories of the Basic Multilingual Plane are looked up in a table built once
// (64 KiB); the rest goes to utf8proc.
struct BmpTable {
  std::array<Category, 0x10000> cat;
  BmpTable() {
    for (char32_t c = 0; c < 0x10000; ++c)
      cat[c] = from_utf8proc(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
  }
};

const BmpTable& bmp() {
  static const BmpTable table;
  return table;
}

bool enclosed_letter(char32_t c) {
  return (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) ||
         (c >= 0x1F150 && c <= 0x1F169) || (c >= 0x1F170 && c <= 0x1F189);
}

}  // namespace

Category category(char32_t c) {
  if (c < 0x10000) return bmp().cat[c];
  if (c > 0x10FFFF) return Category::Cn;
  return from_utf8proc(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  Category k = category(c);
  return is_letter(k) || is_mark(k) || k == Category::Nd || k == Category::Nl ||
         k == Category::Pc || c == 0x200C || c == 0x200D || enclosed_letter(c);
}

int to_lowercase(char32_t c, char32_t out[3]) {
  if (c == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

}  // namespace tokalign::unicode
