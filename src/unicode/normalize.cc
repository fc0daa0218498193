#include "unicode/normalize.h"

#include <utf8proc.h>

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

// Starters that never combine with what precedes them start a new normalization segment.
bool segment_start(char32_t c) {
  if (c < 0x300) return true;
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (p->combining_class != 0) return false;
  return !(c >= 0x1160 && c <= 0x11FF);  // conjoining jamo V/T compose with L
}

void append_segment(std::vector<std::pair<char32_t, int>>& out, std::string_view in_seg,
                    const std::string& out_seg) {
  const size_t m = count_chars(in_seg);
  std::vector<char32_t> chars;
  for (size_t i = 0; i < out_seg.size();) chars.push_back(decode(out_seg, i));
  const size_t k = chars.size();
  for (size_t j = 0; j < k; ++j) {
    int change = 0;
    if (k >= m) {
      change = j < m ? 0 : 1;
    } else if (j + 1 == k) {
      change = -static_cast<int>(m - k);
    }
    out.emplace_back(chars[j], change);
  }
}

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

bool quick_check_unchanged(std::string_view s, Form form) {
  if (form == Form::NFC || form == Form::NFKC) {
    // Every char below U+0300 is NFC-stable; NFKC also folds some Latin-1 chars (e.g. U+00A0).
    const unsigned char limit = form == Form::NFC ? 0xCC : 0xC2;
    for (unsigned char b : s)
      if (b >= limit) return false;
    return true;
  }
  for (unsigned char b : s)
    if (b >= 0xC0) return false;
  return true;
}

std::vector<std::pair<char32_t, int>> normalize_transform(std::string_view s, Form form) {
  std::vector<std::pair<char32_t, int>> out;
  const std::string whole = normalize(s, form);
  // Normalize segment by segment so each change stays local; if segmenting changed the
  // result (a rare composition across what looked like a boundary), treat it as one segment.
  std::string joined;
  std::vector<std::pair<size_t, size_t>> segs;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    char32_t c = decode(s, i);
    if (at > start && segment_start(c)) {
      segs.emplace_back(start, at);
      start = at;
    }
  }
  if (start < s.size()) segs.emplace_back(start, s.size());
  std::vector<std::string> outs;
  outs.reserve(segs.size());
  for (auto [a, b] : segs) {
    outs.push_back(normalize(s.substr(a, b - a), form));
    joined += outs.back();
  }
  if (joined != whole) {
    append_segment(out, s, whole);
    return out;
  }
  for (size_t i = 0; i < segs.size(); ++i)
    append_segment(out, s.substr(segs[i].first, segs[i].second - segs[i].first), outs[i]);
  return out;
}

}  // namespace tokalign::unicode
