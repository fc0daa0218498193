// The coverage checks of verification, for one text chunk: every labelled token covers some
// trained text (unless its id is trained everywhere), and every byte of trained text lies under
// a labelled token.
//
// Segments are the chunk's text cut in order ([start, end) consecutive, ends never
// decreasing), each trained or not; tokens have byte ranges [start, end) in the same text, and
// a token's range is clipped to the text. Two ways give the same answer:
// - by_bytes marks the trained bytes and the labelled tokens' bytes and compares the two: any
//   token order;
// - by_sweep walks the tokens with a cursor over the segments and merges the labelled tokens'
//   ranges into runs: tokens in text order only (starts and ends never decreasing, as nearly
//   always), with no per-byte work.
// check() takes the sweep when it may. The first fault is reported as by_bytes finds it: the
// first labelled token (in token order) over untrained text only, else the first trained byte
// no labelled token covers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "compile/token_ranges.h"

namespace tokalign::compile::coverage {

struct Fault {
  enum Kind { none, untrained_text_labelled, trained_text_unlabelled };
  Kind kind = none;
  size_t at = 0;  // the token index (untrained_text_labelled) or byte (trained_text_unlabelled)
  explicit operator bool() const { return kind != none; }
};

// Per-thread storage the checks reuse.
struct Scratch {
  std::vector<uint8_t> want, covered;
  std::vector<std::pair<uint32_t, uint32_t>> runs;
};

// `segs`: n_segs of {start, end, trained}; `toks[begin, end)`: {start, end}; labelled(t): token
// t carries a label; exempt(t): a labelled token that needs no trained text under it.
template <class Seg, class Tok, class Labelled, class Exempt>
Fault by_bytes(size_t text_size, const Seg* segs, size_t n_segs, const Tok* toks, size_t begin, size_t end,
               const Labelled& labelled, const Exempt& exempt, Scratch& x) {
  const size_t n = text_size;
  x.want.assign(n, 0);
  x.covered.assign(n, 0);
  uint8_t* want = x.want.data();
  uint8_t* covered = x.covered.data();
  for (size_t s = 0; s < n_segs; ++s)
    if (segs[s].trained) std::fill(want + segs[s].start, want + segs[s].end, 1);
  for (size_t t = begin; t < end; ++t) {
    if (!labelled(t)) continue;
    const size_t a = std::min<size_t>(toks[t].start, n), b = std::min<size_t>(toks[t].end, n);
    // Tokens are a few bytes: a plain loop, not a call to memchr and memset each.
    uint8_t hits = 0;
    for (size_t c = a; c < b; ++c) {
      hits |= want[c];
      covered[c] = 1;
    }
    if (!hits && !exempt(t)) return {Fault::untrained_text_labelled, t};
  }
  uint8_t missing = 0;
  for (size_t c = 0; c < n; ++c) missing |= want[c] & ~covered[c];
  for (size_t c = 0; missing && c < n; ++c)
    if (want[c] && !covered[c]) return {Fault::trained_text_unlabelled, c};
  return {};
}

// The labels as an array, when the caller has one: labelled(t) is labels[t] != ignore. The
// sweep then takes four tokens a step where it can (SSE2): four unlabelled ones, or four
// labelled ones each inside the trained segment the token before lay in and touching the run.
struct LabelArray {
  const int32_t* labels = nullptr;
  int32_t ignore = 0;
};

template <class Seg, class Tok, class Labelled, class Exempt>
Fault by_sweep(size_t text_size, const Seg* segs, size_t n_segs, const Tok* toks, size_t begin, size_t end,
               const Labelled& labelled, const Exempt& exempt, Scratch& x, LabelArray array = {}) {
  const uint32_t n = static_cast<uint32_t>(text_size);
  x.runs.clear();
  uint32_t run_start = 0, run_end = 0;  // the run being merged (empty while run_end == 0)
  size_t si = 0;                        // the first segment ending after the token's start
  uint32_t inside_start = 1, inside_end = 0;  // the trained segment the last token lay inside
#if defined(__SSE2__)
  static_assert(sizeof(Tok) == 8, "a token is its start and end, 32 bits each");
#endif
  for (size_t t = begin; t < end; ++t) {
#if defined(__SSE2__)
    while (array.labels && t + 4 <= end) {
      const __m128i none = _mm_cmpeq_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(array.labels + t)),
                                           _mm_set1_epi32(array.ignore));
      const int unlabelled = _mm_movemask_ps(_mm_castsi128_ps(none));
      if (unlabelled == 0xF) {
        t += 4;
        continue;
      }
      if (unlabelled != 0) break;
      __m128i a, b;  // four starts, four ends
      split_pairs(toks + t, a, b);
      // The token before's end (0 for the first), and each token's "end before it": the run's
      // end for the first, the token before's for the others. Ends must not decrease inside
      // the step, so that the last is the run's new end and the token before's end is at most
      // the run's (a gap against it is a gap or a token the one-at-a-time path decides).
      const __m128i prev_end = _mm_slli_si128(b, 4);
      const __m128i before = _mm_or_si128(prev_end, _mm_cvtsi32_si128(static_cast<int>(run_end)));
      const uint32_t limit = std::min(inside_end, n);  // (clipped to the text, as each token is)
      const __m128i bad = _mm_or_si128(
          _mm_or_si128(_mm_xor_si128(above_u32(b, a), _mm_set1_epi32(-1)),           // empty
                       above_u32(_mm_set1_epi32(static_cast<int>(inside_start)), a)),  // starts before the segment
          _mm_or_si128(_mm_or_si128(above_u32(b, _mm_set1_epi32(static_cast<int>(limit))),  // ends after it
                                    above_u32(prev_end, b)),                                // an end decreases
                       above_u32(a, before)));                                              // leaves a gap
      if (_mm_movemask_epi8(bad) != 0) break;
      run_end = std::max(run_end, static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_shuffle_epi32(b, _MM_SHUFFLE(3, 3, 3, 3)))));
      t += 4;
    }
    if (t >= end) break;
#endif
    if (!labelled(t)) continue;
    const uint32_t a = std::min(static_cast<uint32_t>(toks[t].start), n), b = std::min(static_cast<uint32_t>(toks[t].end), n);
    // The common case first, with few values live (the loop's others spilled to the stack):
    // inside the trained segment the token before lay in, and touching the run (a run not
    // begun has run_start 0, which a token at 0 begins).
    if (a < b && a >= inside_start && b <= inside_end && a <= run_end) {
      run_end = std::max(run_end, b);
      continue;
    }
    bool hits = false;
    if (a < b) {
      if (a >= inside_start && b <= inside_end) {
        hits = true;  // inside the same trained segment as the token before: the common case
      } else {
        while (si < n_segs && segs[si].end <= a) ++si;
        // Every segment from si on ends after a; those starting before b overlap [a, b).
        for (size_t j = si; j < n_segs && segs[j].start < b; ++j)
          if (segs[j].trained && segs[j].start < segs[j].end) {
            hits = true;
            if (segs[j].start <= a && b <= segs[j].end) {
              inside_start = segs[j].start;
              inside_end = segs[j].end;
            }
            break;
          }
      }
      if (run_end != 0 && a <= run_end) {
        run_end = std::max(run_end, b);
      } else {
        if (run_end != 0) x.runs.emplace_back(run_start, run_end);
        run_start = a;
        run_end = b;
      }
    }
    if (!hits && !exempt(t)) return {Fault::untrained_text_labelled, t};
  }
  if (run_end != 0) x.runs.emplace_back(run_start, run_end);
  // Trained segments in text order against the runs: the first byte outside every run.
  size_t r = 0;
  for (size_t s = 0; s < n_segs; ++s) {
    if (!segs[s].trained) continue;
    for (uint32_t pos = segs[s].start; pos < segs[s].end;) {
      while (r < x.runs.size() && x.runs[r].second <= pos) ++r;
      if (r == x.runs.size() || x.runs[r].first > pos) return {Fault::trained_text_unlabelled, pos};
      pos = x.runs[r].second;
    }
  }
  return {};
}

template <class Seg, class Tok, class Labelled, class Exempt>
Fault check(size_t text_size, const Seg* segs, size_t n_segs, const Tok* toks, size_t begin, size_t end,
            bool tokens_ordered, const Labelled& labelled, const Exempt& exempt, Scratch& x, LabelArray array = {}) {
  return tokens_ordered ? by_sweep(text_size, segs, n_segs, toks, begin, end, labelled, exempt, x, array)
                        : by_bytes(text_size, segs, n_segs, toks, begin, end, labelled, exempt, x);
}

}  // namespace tokalign::compile::coverage
