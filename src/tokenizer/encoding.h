// The result of encoding one text.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tokalign::tok {

struct Encoding {
  std::vector<uint32_t> ids;
  // Per token, [start, end) in Unicode scalar values (chars) of the input text, as HF's
  // Python and Node bindings report them; (0, 0) for tokens the post-processor added.
  // Filled only when offsets are requested.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  // 1 for tokens the post-processor added (bos/eos/cls/sep), 0 otherwise.
  std::vector<uint8_t> special_mask;
};

}  // namespace tokalign::tok
