#include "vision/policy.h"

#include <cmath>
#include <limits>

#include "util/error.h"

namespace tokalign::vision {

namespace {

std::vector<std::pair<uint32_t, uint32_t>> grid_range(uint32_t lo, uint32_t hi, uint32_t crop) {
  // LLaVA-NeXT's "(1x1),...,(6x6)": every (i, j) in the range, i outer, times the crop size.
  std::vector<std::pair<uint32_t, uint32_t>> v;
  for (uint32_t i = lo; i <= hi; ++i)
    for (uint32_t j = lo; j <= hi; ++j) v.emplace_back(i * crop, j * crop);
  return v;
}

std::vector<Policy> make_builtin() {
  std::vector<Policy> v;
  Policy p;
  p.name = "llava-1.5";
  p.description = "CLIP ViT-L/14-336, patch features without CLS: 576 per image (LLaVA-1.5, pad or resize)";
  v.push_back(p);
  p.name = "clip-224";
  p.description = "CLIP ViT-L/14 at 224: 256 per image";
  p.crop = 224;
  v.push_back(p);
  p.name = "siglip-384";
  p.description = "SigLIP so400m-patch14-384: 27x27 = 729 per image";
  p.crop = 384;
  v.push_back(p);
  p = Policy{};
  p.name = "llava-next";
  p.description = "LLaVA-1.6 anyres, CLIP-336, pinpoints 336x672 672x336 672x672 1008x336 336x1008, spatial_unpad + image_newline";
  p.kind = Policy::Kind::anyres;
  p.pinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
  v.push_back(p);
  p = Policy{};
  p.name = "llava-onevision";
  p.description = "LLaVA-OneVision: SigLIP-384, pinpoints (1x1)..(6x6) x 384, anyres_max_9, spatial_unpad + image_newline";
  p.kind = Policy::Kind::anyres;
  p.crop = 384;
  p.pinpoints = grid_range(1, 6, 384);
  p.anyres_max = 9;
  v.push_back(p);
  p = Policy{};
  p.name = "qwen2-vl";
  p.description = "Qwen2-VL dynamic resolution: smart_resize (factor 28, 3136..1003520 pixels), patch 14, merge 2, "
                  "+ <|vision_start|> <|vision_end|>";
  p.kind = Policy::Kind::qwen2vl;
  v.push_back(p);
  p.name = "qwen2.5-vl";
  p.description = "Qwen2.5-VL: as qwen2-vl with its preprocessor_config's max_pixels 12845056";
  p.max_pixels = 12845056;
  v.push_back(p);
  return v;
}

// select_best_resolution: the resolution keeping the most of the image after downscaling,
// then the least waste; the first wins a tie.
std::pair<uint32_t, uint32_t> best_resolution(uint32_t W, uint32_t H, const std::vector<std::pair<uint32_t, uint32_t>>& res) {
  std::pair<uint32_t, uint32_t> best{0, 0};
  int64_t max_effective = 0;
  double min_wasted = std::numeric_limits<double>::infinity();
  for (const auto& [w, h] : res) {
    const double scale = std::min(static_cast<double>(w) / W, static_cast<double>(h) / H);
    const int64_t dw = static_cast<int64_t>(W * scale), dh = static_cast<int64_t>(H * scale);
    const int64_t effective = std::min<int64_t>(dw * dh, int64_t{W} * H);
    const int64_t wasted = int64_t{w} * h - effective;
    if (effective > max_effective || (effective == max_effective && static_cast<double>(wasted) < min_wasted)) {
      max_effective = effective;
      min_wasted = static_cast<double>(wasted);
      best = {w, h};
    }
  }
  return best;
}

Count anyres(const Policy& p, uint32_t W, uint32_t H) {
  const uint32_t n = p.crop / p.patch;
  const auto [bw, bh] = best_resolution(W, H, p.pinpoints);
  Count c;
  c.grid_width = bw;
  c.grid_height = bh;
  // The crops' feature map, (gh*n) x (gw*n), then unpad_image with the original size (W, H).
  int64_t rows = int64_t{bh / p.crop} * n, cols = int64_t{bw / p.crop} * n;
  const double original_aspect = static_cast<double>(W) / H, current_aspect = static_cast<double>(cols) / rows;
  if (original_aspect > current_aspect) {
    const double scale = static_cast<double>(cols) / W;
    const int64_t new_height = static_cast<int64_t>(H * scale);
    const int64_t padding = py_floordiv(static_cast<double>(rows - new_height), 2.0);
    rows -= 2 * padding;
  } else {
    const double scale = static_cast<double>(rows) / H;
    const int64_t new_width = static_cast<int64_t>(W * scale);
    const int64_t padding = py_floordiv(static_cast<double>(cols - new_width), 2.0);
    cols -= 2 * padding;
  }
  if (p.anyres_max) {
    const double times = std::sqrt(static_cast<double>(rows * cols) / (static_cast<double>(p.anyres_max) * n * n));
    if (times > 1.1) {
      rows = static_cast<int64_t>(py_floordiv(static_cast<double>(rows), times));
      cols = static_cast<int64_t>(py_floordiv(static_cast<double>(cols), times));
    }
  }
  c.rows = static_cast<uint32_t>(rows);
  c.cols = static_cast<uint32_t>(cols);
  c.features = uint64_t{n} * n + static_cast<uint64_t>(rows * (cols + 1));
  c.tokens = c.features;
  return c;
}

Count qwen2vl(const Policy& p, uint32_t W, uint32_t H) {
  const double factor = p.patch * p.merge;
  if (static_cast<double>(std::max(W, H)) / std::min(W, H) > 200)
    throw Error("Qwen2-VL refuses an aspect ratio over 200 (" + std::to_string(W) + "x" + std::to_string(H) + ")");
  // Python's round() rounds half to even, as nearbyint does in the default rounding mode.
  double h_bar = std::nearbyint(H / factor) * factor, w_bar = std::nearbyint(W / factor) * factor;
  if (h_bar * w_bar > static_cast<double>(p.max_pixels)) {
    const double beta = std::sqrt(static_cast<double>(uint64_t{H} * W) / static_cast<double>(p.max_pixels));
    h_bar = std::max(factor, std::floor(H / beta / factor) * factor);
    w_bar = std::max(factor, std::floor(W / beta / factor) * factor);
  } else if (h_bar * w_bar < static_cast<double>(p.min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(p.min_pixels) / static_cast<double>(uint64_t{H} * W));
    h_bar = std::ceil(H * beta / factor) * factor;
    w_bar = std::ceil(W * beta / factor) * factor;
  }
  Count c;
  c.grid_width = static_cast<uint32_t>(w_bar);
  c.grid_height = static_cast<uint32_t>(h_bar);
  c.rows = static_cast<uint32_t>(h_bar / p.patch);
  c.cols = static_cast<uint32_t>(w_bar / p.patch);
  c.features = uint64_t{c.rows} * c.cols / (uint64_t{p.merge} * p.merge);
  c.tokens = c.features + p.wrap;
  return c;
}

}  // namespace

double py_floordiv(double a, double b) {
  // CPython's float_floor_div: div = (a - fmod(a, b)) / b, corrected toward the floor.
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

const std::vector<Policy>& builtin_policies() {
  static const std::vector<Policy> v = make_builtin();
  return v;
}

std::optional<Policy> find_policy(const std::string& name) {
  for (const Policy& p : builtin_policies())
    if (p.name == name) return p;
  return std::nullopt;
}

Count count_tokens(const Policy& p, uint32_t width, uint32_t height) {
  if (!width || !height) throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) + " has a zero side");
  switch (p.kind) {
    case Policy::Kind::fixed: {
      const uint64_t n = p.crop / p.patch;
      Count c;
      c.features = c.tokens = n * n + (p.cls ? 1 : 0);
      c.rows = c.cols = static_cast<uint32_t>(n);
      return c;
    }
    case Policy::Kind::anyres: return anyres(p, width, height);
    case Policy::Kind::qwen2vl: return qwen2vl(p, width, height);
  }
  return {};
}

}  // namespace tokalign::vision
