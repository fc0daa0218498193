// One compiled sample (what the compiler produces and the writers store): token ids, labels and image slots, plus what the compiler noticed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tokalign::shard {

inline constexpr int32_t kIgnoreIndex = -100;       // label of a token that is not trained
inline constexpr int32_t kImagePlaceholder = -200;  // LLaVA's IMAGE_TOKEN_INDEX

struct ImageSlot {
  uint32_t position = 0;     // index of its first token in input_ids
  uint32_t token_count = 0;  // 1 for a placeholder, else the expanded length
  std::string path;
  // With a vision policy (compile --vision): the size from the file header and the positions
  // the image takes once expanded (token_count too when expanded); 0 = unknown.
  uint32_t width = 0, height = 0, visual_tokens = 0;
};

// Flags (bit set), recorded in the JSONL output and the shard index.
enum SampleFlag : uint32_t {
  kBoundaryMerge = 1u << 0,     // a token spans trained and untrained text (beyond a leading space)
  kTruncated = 1u << 1,         // earlier turns were dropped to fit --max-len
  kSpecialInContent = 1u << 2,  // message text contains a special-token string, kept as text
};

// Where one token came from (compile with Options::keep_provenance): the segment holding its
// first character (the trained one when it spans several), or "added" for tokens the
// post-processor put there (BOS/EOS). Kinds and roles are chat::segment_kind_name /
// chat::role_name strings.
struct TokenProvenance {
  std::string segment;  // scaffolding, system, user, assistant, end_of_turn, image, added
  std::string role;     // system, user, assistant
  int32_t turn = -1;    // message index, -1 outside any message
  std::string text;     // the prompt text the token covers ("" for added tokens and images)
  // [start, end) of that text in the rendered prompt (chars; an image placeholder counts as
  // its 7 characters "<image>"); equal for added tokens.
  uint32_t start = 0, end = 0;
  bool shares_text = false;  // several tokens cover the same characters (byte-fallback pieces)
};

struct Sample {
  std::string id;
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;
  std::vector<ImageSlot> images;
  uint32_t flags = 0;
  uint32_t dropped_turns = 0;  // messages dropped by truncation
  uint32_t boundary_merges = 0;
  // The rendered prompt as tagged pieces, kept only when asked (compile --with-segments):
  // for tests and debugging views.
  struct SegmentText {
    std::string kind, text, role;
    int32_t turn;
  };
  std::vector<SegmentText> segments;
  // Per token, kept only when asked (inspect, compile --debug).
  std::vector<TokenProvenance> provenance;
  // Special-token strings found in message text (with kSpecialInContent).
  std::vector<std::string> special_strings;
  // Ids of the whole prompt encoded with Hugging Face's defaults (special tokens parsed in
  // message text too), kept with provenance when they differ from input_ids.
  std::vector<int32_t> reference_ids;
  // The labels that are not kIgnoreIndex, as the compiler's checks counted them (they count
  // them anyway): trained_tokens() then reads no label, which the shard writer's hand-on
  // thread would otherwise do for every sample. Unset for a sample made otherwise; whoever
  // changes a compiled sample's labels resets it.
  std::optional<uint32_t> trained;
  // The length the model sees: placeholders counted as their expansion where a vision policy
  // gave it (ImageSlot::visual_tokens), else input_ids.size().
  uint64_t length_with_images() const { return with_images(input_ids.size(), images); }
  static uint64_t with_images(uint64_t ids, const std::vector<ImageSlot>& images) {
    for (const ImageSlot& im : images)
      if (im.visual_tokens > im.token_count) ids += im.visual_tokens - im.token_count;
    return ids;
  }
  // Empties the sample, keeping the storage of its vectors for the next one.
  void clear() {
    id.clear();
    input_ids.clear();
    labels.clear();
    images.clear();
    flags = dropped_turns = boundary_merges = 0;
    segments.clear();
    provenance.clear();
    special_strings.clear();
    reference_ids.clear();
    trained.reset();
  }
  uint64_t trained_tokens() const {
    if (trained) return *trained;
    // Counted in 32-bit lanes (a sample's tokens fit them), which vectorize to a compare and a
    // subtract per four labels; a 64-bit count widened every lane first, some three
    // instructions a label on the writer's thread.
    uint32_t ignored = 0;
    for (int32_t l : labels) ignored += l == kIgnoreIndex;
    return labels.size() - ignored;
  }
};

}  // namespace tokalign::shard
