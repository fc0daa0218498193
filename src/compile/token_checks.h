// The per-token checks of a compiled sample: every id inside the vocabulary (an image token
// may hold LLaVA's placeholder -200 instead), no image token labelled, and how many tokens
// are trained. One pass over three int32 arrays of unit stride and no branches, which the
// compiler runs several tokens a step; only when it finds a fault does a second pass find the
// first of each kind. token_checks_test.cc holds it to a plain loop on random samples.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shard/sample.h"

namespace tokalign::compile {

struct TokenFaults {
  static constexpr size_t kNone = static_cast<size_t>(-1);
  size_t bad_id = kNone;     // the first id outside the vocabulary (not an image's placeholder)
  size_t bad_label = kNone;  // the first labelled image token
  size_t trained = 0;        // labels that are not kIgnoreIndex
};

// ids, labels and chunk_of (the token's text chunk; < 0: an image token) hold n entries.
inline TokenFaults check_tokens(const int32_t* ids, const int32_t* labels, const int32_t* chunk_of, size_t n,
                                uint32_t vocab_size) {
  auto id_bad = [&](size_t i) {
    return (static_cast<uint32_t>(ids[i]) >= vocab_size) & !((ids[i] == shard::kImagePlaceholder) & (chunk_of[i] < 0));
  };
  auto label_bad = [&](size_t i) { return (labels[i] != shard::kIgnoreIndex) & (chunk_of[i] < 0); };
  uint32_t any_bad = 0, trained = 0;  // 32-bit lanes, like the arrays
  for (size_t i = 0; i < n; ++i) {
    trained += labels[i] != shard::kIgnoreIndex;
    any_bad |= id_bad(i) | label_bad(i);
  }
  TokenFaults f;
  f.trained = trained;
  for (size_t i = 0; any_bad && i < n; ++i) {
    if (f.bad_id == TokenFaults::kNone && id_bad(i)) f.bad_id = i;
    if (f.bad_label == TokenFaults::kNone && label_bad(i)) f.bad_label = i;
  }
  return f;
}

}  // namespace tokalign::compile
