// One compiled sample (what the compiler produces and the writers store): token ids, labels and image slots, plus what the compiler noticed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tokalign::shard {

inline constexpr int32_t kIgnoreIndex = -100;       // label of a token that is not trained
inline constexpr int32_t kImagePlaceholder = -200;  // LLaVA's IMAGE_TOKEN_INDEX

struct ImageSlot {
  uint32_t position = 0;     // index of its first token in input_ids
  uint32_t token_count = 0;  // 1 for a placeholder, else the expanded length
  std::string path;
};

// Flags (bit set), recorded in the JSONL output and the shard index.
enum SampleFlag : uint32_t {
  kBoundaryMerge = 1u << 0,     // a token spans trained and untrained text (beyond a leading space)
  kTruncated = 1u << 1,         // earlier turns were dropped to fit --max-len
  kSpecialInContent = 1u << 2,  // message text contains a special-token string, kept as text
};

struct Sample {
  std::string id;
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;
  std::vector<ImageSlot> images;
  uint32_t flags = 0;
  uint32_t dropped_turns = 0;  // messages dropped by truncation
  uint32_t boundary_merges = 0;
  // The rendered prompt as (segment kind, text) pairs, kept only when asked
  // (compile --with-segments): for tests and debugging views.
  std::vector<std::pair<std::string, std::string>> segments;
  uint64_t trained_tokens() const {
    uint64_t n = 0;
    for (int32_t l : labels) n += l != kIgnoreIndex;
    return n;
  }
};

}  // namespace tokalign::shard
