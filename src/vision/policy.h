// How many positions an image takes in the token sequence, per vision policy, from its width
// and height alone, reproducing each original's arithmetic (including its floating-point order
// of operations):
//   fixed     CLIP / SigLIP towers at one resolution: (crop / patch)^2 [+ 1 with CLS]. LLaVA-1.5's
//             `pad` and `resize` aspect modes change pixels, not the count.
//   anyres    LLaVA-NeXT (LLaVA-VL/LLaVA-NeXT llava/mm_utils.py select_best_resolution,
//             get_anyres_image_grid_shape; llava/model/llava_arch.py unpad_image and
//             prepare_inputs_labels_for_multimodal): the base image (n^2) plus the unpadded grid
//             of crops with one image_newline per row; `anyres_max_K` (OneVision) shrinks the grid
//             by sqrt(h*w / (K*n^2)) when that exceeds 1.1.
//   qwen2vl   Qwen2-VL dynamic resolution (transformers' Qwen2VLImageProcessor smart_resize):
//             (h/patch)*(w/patch)/merge^2 <|image_pad|> tokens inside <|vision_start|> and
//             <|vision_end|>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tokalign::vision {

struct Policy {
  enum class Kind { fixed, anyres, qwen2vl };
  std::string name, description;
  Kind kind = Kind::fixed;
  uint32_t crop = 336, patch = 14;  // tower resolution and patch: n = crop / patch per side
  bool cls = false;                 // fixed: keep the CLS token (mm_vision_select_feature=cls_patch)
  // anyres: the grid resolutions as (width, height), in the order the original tries them.
  std::vector<std::pair<uint32_t, uint32_t>> pinpoints;
  uint32_t anyres_max = 0;  // anyres_max_K; 0 for plain anyres
  // qwen2vl
  uint32_t merge = 2;
  uint64_t min_pixels = 56 * 56, max_pixels = 28 * 28 * 1280;
  uint32_t wrap = 2;  // <|vision_start|> + <|vision_end|>
};

struct Count {
  uint64_t tokens = 0;    // positions in the sequence (features + wrapper tokens)
  uint64_t features = 0;  // visual features (the image placeholder expands to these)
  // anyres: the chosen grid resolution and the unpadded feature map; qwen2vl: the resized image.
  uint32_t grid_width = 0, grid_height = 0, rows = 0, cols = 0;
};

// The built-in policies: llava-1.5, clip-224, siglip-384, llava-next, llava-onevision, qwen2-vl,
// qwen2.5-vl.
const std::vector<Policy>& builtin_policies();
std::optional<Policy> find_policy(const std::string& name);

// Throws tokalign::Error for a size the original refuses (zero, or Qwen2-VL's aspect ratio
// over 200).
Count count_tokens(const Policy& p, uint32_t width, uint32_t height);

// Python's float floor division a // b (fmod-based, as CPython computes it).
double py_floordiv(double a, double b);

}  // namespace tokalign::vision
