#include "tokenizer/added_vocabulary.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "unicode/categories.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

using unicode::decode;

void AddedVocabulary::Matcher::add(std::string_view p, uint32_t token) {
  if (p.empty()) return;
  uint32_t node = 0;
  for (unsigned char b : p) {
    int64_t next = step(node, b);
    if (next < 0) {
      next = static_cast<int64_t>(nodes_.size());
      nodes_[node].next.emplace_back(b, static_cast<uint32_t>(next));
      nodes_.emplace_back();
    }
    node = static_cast<uint32_t>(next);
  }
  nodes_[node].token = token;
  if (!first_byte_[static_cast<unsigned char>(p[0])]) ++first_bytes_;
  first_byte_[static_cast<unsigned char>(p[0])] = true;
  only_first_ = p[0];
}

size_t AddedVocabulary::Matcher::next_start(std::string_view s, size_t i) const {
  if (i >= s.size()) return s.size();
  if (first_bytes_ == 1) {  // every pattern starts with one byte (special tokens: '<'): memchr to it
    const void* at = std::memchr(s.data() + i, only_first_, s.size() - i);
    return at ? static_cast<size_t>(static_cast<const char*>(at) - s.data()) : s.size();
  }
  while (i < s.size() && !first_byte_[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}

int64_t AddedVocabulary::Matcher::step(uint32_t node, unsigned char b) const {
  const auto& nx = nodes_[node].next;
  auto it = std::find_if(nx.begin(), nx.end(), [b](const auto& e) { return e.first == b; });
  return it == nx.end() ? -1 : static_cast<int64_t>(it->second);
}

bool AddedVocabulary::Matcher::find(std::string_view s, size_t from, size_t& start, size_t& end,
                                    uint32_t& token) const {
  if (empty()) return false;
  for (size_t i = next_start(s, from); i < s.size(); i = next_start(s, i + 1)) {
    int64_t best = -1;
    size_t best_end = 0;
    int64_t node = 0;
    for (size_t k = i; k < s.size() && (node = step(static_cast<uint32_t>(node), static_cast<unsigned char>(s[k]))) >= 0;
         ++k) {
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = k + 1;
      }
    }
    if (best >= 0) {
      start = i;
      end = best_end;
      token = static_cast<uint32_t>(best);
      return true;
    }
  }
  return false;
}

void AddedVocabulary::Matcher::find_all(std::string_view s, std::vector<uint32_t>& tokens) const {
  if (empty()) return;
  for (size_t i = next_start(s, 0); i < s.size(); i = next_start(s, i + 1)) {
    int64_t node = 0;
    for (size_t k = i; k < s.size() && (node = step(static_cast<uint32_t>(node), static_cast<unsigned char>(s[k]))) >= 0;
         ++k)
      if (nodes_[node].token >= 0) tokens.push_back(static_cast<uint32_t>(nodes_[node].token));
  }
}

void AddedVocabulary::special_tokens_in(std::string_view text, std::vector<uint32_t>& out) const {
  out.clear();
  special_.find_all(text, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.content.empty()) continue;
    by_content_.set(t.content, t.id);
    if (t.id >= index_of_id_.size()) index_of_id_.resize(size_t(t.id) + 1, -1);
    index_of_id_[t.id] = static_cast<int64_t>(i);
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    AddedToken& t = tokens_[i];
    t.decode_text = t.content;
    if (t.content.empty()) continue;
    if (t.special) {
      special_contents_.set(t.content, t.id);
      special_.add(t.content, static_cast<uint32_t>(i));
    }
    if (!t.normalized) {
      raw_.add(t.content, static_cast<uint32_t>(i));
      continue;
    }
    // Normalized tokens are matched by their normalized form.
    NormalizedString n(t.content, 0);
    if (normalizer) normalizer->normalize(n);
    normalized_.add(n.get(), static_cast<uint32_t>(i));
    t.decode_text = n.get();
  }
}

const AddedToken* AddedVocabulary::by_id(uint32_t id) const {
  if (id >= index_of_id_.size() || index_of_id_[id] < 0) return nullptr;
  return &tokens_[static_cast<size_t>(index_of_id_[id])];
}

namespace {

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s.size() - 1;
  while (i > 0 && unicode::is_continuation(static_cast<unsigned char>(s[i]))) --i;
  return unicode::is_word_char(decode(s, i));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  return unicode::is_word_char(decode(s, i));
}

// Start of the run of whitespace that ends s (regex `\s*$`).
size_t space_leftmost_at_end(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    size_t k = i - 1;
    while (k > 0 && unicode::is_continuation(static_cast<unsigned char>(s[k]))) --k;
    size_t j = k;
    if (!unicode::is_whitespace(decode(s, j))) break;
    i = k;
  }
  return i;
}

// Length of the run of whitespace that starts s (regex `^\s*`).
size_t space_rightmost_at_start(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (!unicode::is_whitespace(decode(s, j))) break;
    i = j;
  }
  return i;
}

}  // namespace

bool SpecialPolicy::allows(size_t start, size_t end) const {
  if (!parse) return false;
  if (ranges.empty()) return true;
  // The last range starting at or before `start` must contain [start, end).
  auto it = std::upper_bound(ranges.begin(), ranges.end(), start,
                             [](size_t v, const std::pair<size_t, size_t>& r) { return v < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return end <= it->second;
}

void AddedVocabulary::find_matches(const NormalizedString& n, const Matcher& m, const SpecialPolicy& special,
                                   std::vector<Match>& out) const {
  find_matches(n.get(), n.offsets_original().first, &n, m, special, out);
}

void AddedVocabulary::find_matches(std::string_view s, size_t shift, const NormalizedString* n, const Matcher& m,
                                   const SpecialPolicy& special, std::vector<Match>& out) const {
  out.clear();
  if (s.empty()) {
    out.push_back({-1, 0, 0});
    return;
  }
  size_t start_offset = 0;
  size_t from = 0, a, b;
  uint32_t ti;
  while (from < s.size() && m.find(s, from, a, b, ti)) {
    from = b;  // the automaton moves past every match, kept or not
    const AddedToken& t = tokens_[ti];
    if (t.special && !special.parse) continue;
    if (t.special && special.restricted()) {
      auto r = n ? n->normalized_to_original(a, b) : std::optional<std::pair<size_t, size_t>>({a, b});
      if (!r || !special.allows(shift + r->first, shift + r->second)) continue;
    }
    if (t.single_word) {
      const bool start_space = a == 0 || !ends_with_word(s.substr(0, a));
      const bool stop_space = b == s.size() || !starts_with_word(s.substr(b));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) a = std::max(space_leftmost_at_end(s.substr(0, a)), start_offset);
    if (t.rstrip) b += space_rightmost_at_start(s.substr(b));
    if (start_offset < a) out.push_back({-1, start_offset, a});
    out.push_back({static_cast<int64_t>(ti), a, b});
    start_offset = b;
  }
  if (start_offset != s.size()) out.push_back({-1, start_offset, s.size()});
}

void AddedVocabulary::split_with(NormalizedString& n, const Matcher& m, const SpecialPolicy& special,
                                 std::vector<Split>& out) const {
  if (m.empty()) {
    if (!n.empty()) out.push_back({std::move(n), -1});
    return;
  }
  thread_local std::vector<Match> matches;
  find_matches(n, m, special, matches);
  if (matches.size() == 1 && matches[0].token < 0) {
    if (!n.empty()) out.push_back({std::move(n), -1});
    return;
  }
  for (const Match& mt : matches) {
    NormalizedString piece = n.slice(mt.start, mt.end);
    if (piece.empty()) continue;
    int64_t id = mt.token >= 0 ? static_cast<int64_t>(tokens_[static_cast<size_t>(mt.token)].id) : -1;
    out.push_back({std::move(piece), id});
  }
}

void AddedVocabulary::split_raw(std::string_view text, const SpecialPolicy& special, std::vector<RawSplit>& out) const {
  // extract_and_normalize's two passes (tokens matched on raw text, then on normalized text,
  // which is the same text here) over byte ranges.
  out.clear();
  thread_local std::vector<Match> first, second;
  auto pass = [&](const Matcher& m, size_t start, size_t end, std::vector<Match>& matches, auto&& take) {
    if (m.empty()) {
      take(Match{-1, start, end});
      return;
    }
    find_matches(text.substr(start, end - start), start, nullptr, m, special, matches);
    for (const Match& mt : matches) take(Match{mt.token, start + mt.start, start + mt.end});
  };
  pass(raw_, 0, text.size(), first, [&](const Match& a) {
    if (a.end <= a.start) return;
    if (a.token >= 0) {
      out.push_back({a.start, a.end, static_cast<int64_t>(tokens_[static_cast<size_t>(a.token)].id)});
      return;
    }
    pass(normalized_, a.start, a.end, second, [&](const Match& b) {
      if (b.end <= b.start) return;
      out.push_back({b.start, b.end, b.token >= 0 ? static_cast<int64_t>(tokens_[static_cast<size_t>(b.token)].id) : -1});
    });
  });
}

void AddedVocabulary::extract_and_normalize(PreTokenizedString& s, const Normalizer* normalizer,
                                            const SpecialPolicy& special) const {
  std::vector<Split> next;
  for (Split& sp : s.splits()) {
    if (sp.added_id >= 0) {
      next.push_back(std::move(sp));
      continue;
    }
    split_with(sp.normalized, raw_, special, next);
  }
  std::vector<Split> out;
  out.reserve(next.size());
  for (Split& sp : next) {
    if (sp.added_id >= 0) {
      out.push_back(std::move(sp));
      continue;
    }
    if (normalizer) normalizer->normalize(sp.normalized);
    split_with(sp.normalized, normalized_, special, out);
  }
  s.splits() = std::move(out);
}

}  // namespace tokalign::tok
