// A piece of the input as the pipeline transforms it, with the map back to the original
// bytes. A port of HF's NormalizedString (tokenizers/src/tokenizer/normalizer.rs): every
// byte of the normalized text carries the (start, end) byte range of the original text it
// came from, and transformations follow HF's (char, change) protocol so offsets agree.
//
// Speed: a string nothing has transformed yet keeps no alignment table (it is implicit:
// each byte maps to its own char) and no copy of its text (it is a view of the input).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/pattern.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

using Offsets = std::pair<size_t, size_t>;

struct Alignment {
  uint32_t start;
  uint32_t end;
};

// How a split pattern's matches are kept (tokenizer.json "behavior").
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A kept piece of a split, as a byte range of the string that was split.
struct SplitSpan {
  uint32_t start;
  uint32_t end;
};

// The pieces a split keeps, from the pattern's matches and the behavior (HF
// NormalizedString::split). Shared by NormalizedString::split and the tokenizer's
// range-only fast path.
void split_spans(const std::vector<Piece>& matches, SplitBehavior behavior, std::vector<SplitSpan>& out);

class NormalizedString {
 public:
  NormalizedString() = default;
  // `original` must outlive this object; `shift` is its byte offset in the whole input.
  NormalizedString(std::string_view original, size_t shift) : original_(original), normalized_(original), shift_(shift) {}

  std::string_view get() const { return normalized_; }
  std::string_view original() const { return original_; }
  size_t size() const { return normalized_.size(); }
  bool empty() const { return normalized_.empty(); }
  // Byte range of the original text this string covers, in the whole input.
  Offsets offsets_original() const { return {shift_, shift_ + original_.size()}; }
  bool is_identity() const { return align_.empty() && normalized_.data() == original_.data(); }

  // HF convert_offsets(Range::Normalized(..)): original byte range (relative to this
  // string's original text) of a normalized byte range.
  std::optional<Offsets> normalized_to_original(size_t start, size_t end) const;
  // HF convert_offsets(Range::Original(..)).
  std::optional<Offsets> original_to_normalized(size_t start, size_t end) const;

  // A sub-string by normalized byte range (char boundaries).
  NormalizedString slice(size_t start, size_t end) const;

  // HF transform_range over a normalized byte range / over the whole string.
  void transform_range(size_t start, size_t end, std::span<const std::pair<char32_t, int>> dest,
                       size_t initial_offset);
  void transform(std::span<const std::pair<char32_t, int>> dest, size_t initial_offset);

  void prepend(std::string_view s);
  void append(std::string_view s);
  void replace(const Pattern& pattern, std::string_view content);
  void lowercase();
  void strip(bool left, bool right);
  template <class Keep>
  void filter(Keep keep);
  template <class Map>
  void map(Map f);

  // Splits by pattern; empty pieces are kept (callers drop them, as HF does).
  void split(const Pattern& pattern, SplitBehavior behavior, std::vector<NormalizedString>& out) const;

 private:
  void materialize();
  Alignment align_at(size_t i) const;
  std::vector<std::pair<char32_t, int>> chars_as_replacements() const;

  std::string_view original_;
  std::string_view normalized_;   // into original_ or *buf_
  std::shared_ptr<const std::string> buf_;
  std::vector<Alignment> align_;  // per normalized byte; empty while identity
  size_t shift_ = 0;
};

template <class Keep>
void NormalizedString::filter(Keep keep) {
  // HF NormalizedString::filter
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(normalized_.size());
  int removed = 0;
  size_t removed_start = 0;
  bool have_last = false;
  char32_t last = 0;
  std::string_view s = normalized_;
  for (size_t i = 0; i < s.size();) {
    char32_t c = unicode::decode(s, i);
    if (keep(c)) {
      if (have_last) t.emplace_back(last, -removed);
      else removed_start = static_cast<size_t>(removed);
      last = c;
      have_last = true;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (have_last) t.emplace_back(last, -removed);
  // An all-removed string: HF keeps removed_start from the last kept char (0 if none) and
  // transforms with no chars, which empties the string.
  transform(t, have_last ? removed_start : 0);
}

template <class Map>
void NormalizedString::map(Map f) {
  std::vector<std::pair<char32_t, int>> t = chars_as_replacements();
  for (auto& [c, change] : t) c = f(c);
  transform(t, 0);
}

}  // namespace tokalign::tok
