#include "tokenizer/normalized_string.h"

#include <algorithm>

#include "unicode/categories.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::tok {

using unicode::char_len;
using unicode::decode;


Alignment NormalizedString::align_at(size_t i) const {
  if (!align_.empty()) return align_[i];
  // Identity: each byte maps to the whole char that holds it.
  size_t a = unicode::char_floor(normalized_, i);
  size_t b = a + char_len(static_cast<unsigned char>(normalized_[a]));
  return {static_cast<uint32_t>(a), static_cast<uint32_t>(b)};
}

void NormalizedString::materialize() {
  if (!align_.empty() || normalized_.empty()) return;
  align_.resize(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) {
    size_t n = char_len(static_cast<unsigned char>(normalized_[i]));
    for (size_t k = 0; k < n; ++k)
      align_[i + k] = {static_cast<uint32_t>(i), static_cast<uint32_t>(i + n)};
    i += n;
  }
}

std::optional<Offsets> NormalizedString::normalized_to_original(size_t start, size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end || end > normalized_.size()) return std::nullopt;
  return Offsets{align_at(start).start, align_at(end - 1).end};
}

std::optional<Offsets> NormalizedString::original_to_normalized(size_t start, size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end) return std::nullopt;
  if (original_.empty() && start == 0 && end == 0) return Offsets{0, normalized_.size()};
  std::optional<size_t> s, e;
  for (size_t i = 0; i < normalized_.size(); ++i) {
    Alignment a = align_at(i);
    if (!(end >= a.end)) break;
    if (!s && start <= a.start && a.start != a.end) s = i;
    e = i + 1;
  }
  if (s && e) return Offsets{*s, *e};
  if (s) return Offsets{*s, *s};
  if (e) return Offsets{*e, *e};
  return std::nullopt;
}

NormalizedString NormalizedString::slice(size_t start, size_t end) const {
  NormalizedString out;
  if (align_.empty() && normalized_.data() == original_.data()) {
    out.original_ = original_.substr(start, end - start);
    out.normalized_ = out.original_;
    out.shift_ = shift_ + start;
    return out;
  }
  auto orig = normalized_to_original(start, end);
  if (!orig || orig->second > original_.size() || orig->first > orig->second)
    throw Error("internal: bad NormalizedString slice");
  out.original_ = original_.substr(orig->first, orig->second - orig->first);
  out.normalized_ = normalized_.substr(start, end - start);
  out.buf_ = buf_;
  out.shift_ = shift_ + orig->first;
  const uint32_t n_shift = static_cast<uint32_t>(orig->first);
  if (!align_.empty()) {
    out.align_.reserve(end - start);
    for (size_t i = start; i < end; ++i)
      out.align_.push_back({align_[i].start - n_shift, align_[i].end - n_shift});
  } else if (start < end) {
    // Materialized view of the original that no transformation touched yet.
    out.align_.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      Alignment a = align_at(i);
      out.align_.push_back({a.start - n_shift, a.end - n_shift});
    }
  }
  return out;
}

void NormalizedString::transform_range(size_t n_start, size_t n_end,
                                       std::span<const std::pair<char32_t, int>> dest,
                                       size_t initial_offset) {
  materialize();
  std::string_view replaced = normalized_.substr(n_start, n_end - n_start);
  size_t rpos = 0;  // next unread byte of `replaced`
  auto take_chars = [&](size_t n) {
    size_t bytes = 0;
    for (size_t k = 0; k < n && rpos < replaced.size(); ++k) {
      size_t l = char_len(static_cast<unsigned char>(replaced[rpos]));
      rpos += l;
      bytes += l;
    }
    return bytes;
  };
  size_t offset = take_chars(initial_offset) + n_start;
  std::string text;
  text.reserve(dest.size() + 8);
  std::vector<Alignment> al;
  al.reserve(dest.size() + 8);
  for (auto [c, change] : dest) {
    const size_t idx = offset;
    Alignment a;
    if (change > 0) {
      a = idx < 1 ? Alignment{0, 0} : align_[idx - 1];
    } else {
      if (idx >= align_.size()) throw Error("internal: transform past the end of the string");
      a = align_[idx];
    }
    if (change <= 0) offset += take_chars(1);
    if (change < 0) offset += take_chars(static_cast<size_t>(-change));
    size_t before = text.size();
    unicode::append_utf8(text, c);
    al.insert(al.end(), text.size() - before, a);
  }
  auto new_buf = std::make_shared<std::string>();
  new_buf->reserve(normalized_.size() - (n_end - n_start) + text.size());
  new_buf->append(normalized_.substr(0, n_start));
  new_buf->append(text);
  new_buf->append(normalized_.substr(n_end));
  align_.erase(align_.begin() + static_cast<ptrdiff_t>(n_start), align_.begin() + static_cast<ptrdiff_t>(n_end));
  align_.insert(align_.begin() + static_cast<ptrdiff_t>(n_start), al.begin(), al.end());
  buf_ = std::move(new_buf);
  normalized_ = *buf_;
}

void NormalizedString::transform(std::span<const std::pair<char32_t, int>> dest,
                                 size_t initial_offset) {
  materialize();
  // HF: transform_range(Range::Original(..)), i.e. the normalized range that the whole
  // original maps to.
  auto r = original_to_normalized(0, original_.size());
  if (!r) return;
  transform_range(r->first, r->second, dest, initial_offset);
}

std::vector<std::pair<char32_t, int>> NormalizedString::chars_as_replacements() const {
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) t.emplace_back(decode(normalized_, i), 0);
  return t;
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t i = 0;
  char32_t next = decode(normalized_, i);
  std::vector<std::pair<char32_t, int>> t;
  bool first = true;
  for (size_t k = 0; k < s.size();) {
    t.emplace_back(decode(s, k), first ? 0 : 1);
    first = false;
  }
  t.emplace_back(next, 1);
  transform_range(0, i, t, 0);
}

void NormalizedString::append(std::string_view s) {
  std::vector<std::pair<char32_t, int>> t;
  if (normalized_.empty()) {
    for (size_t k = 0; k < s.size();) t.emplace_back(decode(s, k), 1);
    transform_range(0, 0, t, 0);
    return;
  }
  size_t b = unicode::char_floor(normalized_, normalized_.size() - 1);
  size_t j = b;
  t.emplace_back(decode(normalized_, j), 0);
  for (size_t k = 0; k < s.size();) t.emplace_back(decode(s, k), 1);
  transform_range(b, normalized_.size(), t, 0);
}

void NormalizedString::replace(const Pattern& pattern, std::string_view content) {
  std::vector<Piece> pieces;
  pattern.find_matches(normalized_, pieces);
  bool any = false;
  for (const Piece& p : pieces) any |= p.is_match;
  if (!any) return;
  materialize();
  auto buf = std::make_shared<std::string>();
  buf->reserve(normalized_.size() + 16);
  std::vector<Alignment> al;
  al.reserve(align_.size() + 16);
  size_t last_end = 0;
  for (const Piece& p : pieces) {
    if (!p.is_match) continue;
    buf->append(normalized_.substr(last_end, p.start - last_end));
    al.insert(al.end(), align_.begin() + last_end, align_.begin() + p.start);
    // Every inserted char is a "new" char after the removed match: it takes the
    // alignment of the match's last byte (HF NormalizedString::replace).
    Alignment a = p.end < 1 ? Alignment{0, 0} : align_[p.end - 1];
    size_t before = buf->size();
    buf->append(content);
    al.insert(al.end(), buf->size() - before, a);
    last_end = p.end;
  }
  buf->append(normalized_.substr(last_end));
  al.insert(al.end(), align_.begin() + last_end, align_.end());
  buf_ = std::move(buf);
  normalized_ = *buf_;
  align_ = std::move(al);
}

void NormalizedString::lowercase() {
  bool changes = false;
  for (size_t i = 0; i < normalized_.size() && !changes;) {
    char32_t c = decode(normalized_, i);
    char32_t out[3];
    changes = unicode::to_lowercase(c, out) != 1 || out[0] != c;
  }
  if (!changes) return;
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) {
    char32_t out[3];
    int n = unicode::to_lowercase(decode(normalized_, i), out);
    for (int k = 0; k < n; ++k) t.emplace_back(out[k], k > 0 ? 1 : 0);
  }
  transform(t, 0);
}

void NormalizedString::strip(bool left, bool right) {
  // HF NormalizedString::lrstrip, including its use of the byte length where it means the
  // char count when it picks the char that absorbs the trailing spaces.
  std::vector<char32_t> chars;
  for (size_t i = 0; i < normalized_.size();) chars.push_back(decode(normalized_, i));
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && unicode::is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() && unicode::is_whitespace(chars[chars.size() - 1 - trailing]))
      ++trailing;
  if (leading == 0 && trailing == 0) return;
  const size_t count = chars.size();
  std::vector<std::pair<char32_t, int>> t;
  for (size_t i = 0; i < count; ++i) {
    if (i < leading || i >= count - std::min(trailing, count)) continue;
    if (i + trailing + 1 == normalized_.size()) t.emplace_back(chars[i], -static_cast<int>(trailing));
    else t.emplace_back(chars[i], 0);
  }
  transform(t, leading);
}

void split_spans(const std::vector<Piece>& m, SplitBehavior behavior, std::vector<SplitSpan>& spans) {
  // HF NormalizedString::split: how each behavior turns matches into kept pieces.
  spans.clear();
  spans.reserve(m.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const Piece& p : m) spans.push_back({p.start, p.end});
      break;
    case SplitBehavior::Removed:
      for (const Piece& p : m)
        if (!p.is_match) spans.push_back({p.start, p.end});
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (const Piece& p : m) {
        if (p.is_match == prev && !spans.empty()) spans.back().end = p.end;
        else spans.push_back({p.start, p.end});
        prev = p.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (const Piece& p : m) {
        if (p.is_match && !prev && !spans.empty()) spans.back().end = p.end;
        else spans.push_back({p.start, p.end});
        prev = p.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (size_t k = m.size(); k-- > 0;) {
        const Piece& p = m[k];
        if (p.is_match && !prev && !spans.empty()) spans.back().start = p.start;
        else spans.push_back({p.start, p.end});
        prev = p.is_match;
      }
      std::reverse(spans.begin(), spans.end());
      break;
    }
  }
}

void NormalizedString::split(const Pattern& pattern, SplitBehavior behavior,
                             std::vector<NormalizedString>& out) const {
  thread_local std::vector<Piece> m;
  thread_local std::vector<SplitSpan> spans;
  pattern.find_matches(normalized_, m);
  split_spans(m, behavior, spans);
  out.reserve(out.size() + spans.size());
  for (const SplitSpan& s : spans) out.push_back(slice(s.start, s.end));
}

}  // namespace tokalign::tok
