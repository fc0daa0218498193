#include "unicode/normalize.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::unicode {

namespace {

int options_for(Form form) {
  int o = UTF8PROC_STABLE;
  switch (form) {
    case Form::NFC: o |= UTF8PROC_COMPOSE; break;
    case Form::NFD: o |= UTF8PROC_DECOMPOSE; break;
    case Form::NFKC: o |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case Form::NFKD: o |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  return o;
}

// Canonical composition of two chars, or 0 (utf8proc composes a UTF-32 buffer in place).
char32_t compose_pair(char32_t a, char32_t b) {
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  return n == 1 ? static_cast<char32_t>(buf[0]) : 0;
}

int ccc(char32_t c) { return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class; }

}  // namespace

std::string normalize(std::string_view s, Form form) {
  if (s.empty()) return {};
  utf8proc_uint8_t* dst = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                    static_cast<utf8proc_option_t>(options_for(form)));
  if (n < 0) throw Error(std::string("unicode normalization failed: ") + utf8proc_errmsg(n));
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> guard(dst, &std::free);
  return std::string(reinterpret_cast<char*>(dst), static_cast<size_t>(n));
}

bool stays_unchanged(char32_t c, Form form) {
  // A char that normalization leaves alone whatever surrounds it (ASCII never changes,
  // and chars around it can only combine with it if it is a mark or a composition second):
  // combining class 0, no decomposition of the kind the form applies, and for the composed
  // forms not the second char of any canonical composition. utf8proc marks those with
  // comb_index >= 0x8000, except the Hangul jamo it composes algorithmically.
  if (c < 0x80) return true;
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (p->combining_class != 0) return false;
  const bool compat = form == Form::NFKC || form == Form::NFKD;
  const bool has_decomp = p->decomp_seqindex != UINT16_MAX && (compat || p->decomp_type == 0);
  if (c >= 0xAC00 && c <= 0xD7A3) return form == Form::NFC || form == Form::NFKC;  // Hangul syllables
  if (form == Form::NFD || form == Form::NFKD) return !has_decomp;
  if (has_decomp) {
    // A composed char keeps its form unless it is excluded from composition, a singleton
    // (its decomposition is one other char) or a compatibility mapping applies.
    if (p->comp_exclusion || (compat && p->decomp_type != 0)) return false;
    // Decompose fully and compose back: a stable char comes back as itself.
    utf8proc_int32_t buf[32];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                                 static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0)), &boundclass);
    if (n < 1 || n > 32) return false;
    n = utf8proc_normalize_utf32(buf, n, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n != 1 || buf[0] != static_cast<utf8proc_int32_t>(c)) return false;
  }
  if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return false;
  if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A7 && c <= 0x11C2)) return false;  // 11A7: utf8proc composes it too
  return true;
}

bool quick_check_unchanged(std::string_view s, Form form) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    char32_t c = decode(s, i);
    if (!stays_unchanged(c, form)) return false;
  }
  return true;
}

std::vector<std::pair<char32_t, int>> normalize_transform(std::string_view s, Form form) {
  // Decompose char by char, reorder marks, recompose, keeping for every output char the
  // input chars it came from; then express each output char as HF's change: a char that
  // takes in N input chars is -(N-1), one that takes none (an extra char of a
  // decomposition) is +1. This is how unicode-normalization-alignments reports it.
  const bool compat = form == Form::NFKC || form == Form::NFKD;
  const bool compose = form == Form::NFC || form == Form::NFKC;
  struct Ch {
    char32_t c;
    uint32_t lo, hi;  // input char indices it came from
    int cls;
    int change;       // HF's change for the decomposed forms: 0 first char, +1 the rest
  };
  std::vector<Ch> v;
  uint32_t idx = 0;
  for (size_t i = 0; i < s.size(); ++idx) {
    char32_t c = decode(s, i);
    utf8proc_int32_t buf[32];
    int last_boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(c), buf, 32,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0)), &last_boundclass);
    if (n < 0 || n > 32) throw Error("unicode decomposition failed");
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      char32_t d = static_cast<char32_t>(buf[k]);
      v.push_back({d, idx, idx, ccc(d), k == 0 ? 0 : 1});
    }
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < v.size();) {
    if (v[i].cls == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < v.size() && v[j].cls != 0) ++j;
    std::stable_sort(v.begin() + i, v.begin() + j, [](const Ch& a, const Ch& b) { return a.cls < b.cls; });
    i = j;
  }
  if (!compose) {
    // The decomposed forms: each char's change travels with it through the reordering
    // (unicode-normalization-alignments attaches it to the char).
    std::vector<std::pair<char32_t, int>> t;
    t.reserve(v.size());
    std::string check;
    for (const Ch& ch : v) {
      t.emplace_back(ch.c, ch.change);
      append_utf8(check, ch.c);
    }
    if (check == normalize(s, form)) return t;
  }
  if (compose && !v.empty()) {
    std::vector<Ch> out;
    out.reserve(v.size());
    size_t starter = 0;
    bool have_starter = v[0].cls == 0;
    int last = have_starter ? 0 : 256;
    out.push_back(v[0]);
    for (size_t i = 1; i < v.size(); ++i) {
      const Ch& ch = v[i];
      if (have_starter && (last < ch.cls || last == 0)) {
        if (char32_t comp = compose_pair(out[starter].c, ch.c)) {
          out[starter].c = comp;
          out[starter].lo = std::min(out[starter].lo, ch.lo);
          out[starter].hi = std::max(out[starter].hi, ch.hi);
          continue;
        }
      }
      if (ch.cls == 0) {
        starter = out.size();
        have_starter = true;
      }
      last = ch.cls;
      out.push_back(ch);
    }
    v = std::move(out);
  }
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(v.size());
  std::string check;
  uint32_t consumed = 0;  // input chars consumed so far
  bool monotonic = true;
  for (const Ch& ch : v) {
    append_utf8(check, ch.c);
    if (ch.hi + 1 <= consumed) {
      t.emplace_back(ch.c, 1);
    } else {
      if (ch.lo < consumed || ch.lo > consumed) monotonic = false;
      t.emplace_back(ch.c, -static_cast<int>(ch.hi + 1 - consumed - 1));
      consumed = ch.hi + 1;
    }
  }
  if (!monotonic || consumed != idx || check != normalize(s, form)) {
    // Reordering moved chars across each other: report the whole string as one change.
    t.clear();
    const std::string whole = normalize(s, form);
    std::vector<char32_t> chars;
    for (size_t i = 0; i < whole.size();) chars.push_back(decode(whole, i));
    for (size_t j = 0; j < chars.size(); ++j) {
      int change = 0;
      if (chars.size() >= idx) change = j < idx ? 0 : 1;
      else if (j + 1 == chars.size()) change = -static_cast<int>(idx - chars.size());
      t.emplace_back(chars[j], change);
    }
  }
  return t;
}

}  // namespace tokalign::unicode
