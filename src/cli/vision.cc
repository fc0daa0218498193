// tokalign vision: how many sequence positions an image takes under a vision policy, from
// its size or its file header (no pixel decoding). See src/vision/.
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <string>

#include "cli/commands.h"
#include "cli/io.h"
#include "cli/jsonl_input.h"
#include "util/error.h"
#include "util/json_write.h"
#include "vision/image_probe.h"
#include "vision/policy.h"

namespace tokalign::cli {

namespace {

namespace fs = std::filesystem;

struct VisionArgs {
  bool list = false;
  std::string vision = "llava-1.5", size, image, images, image_root, output = "-";
  bool cls = false;
  uint32_t anyres_max = 0;
  uint64_t min_pixels = 0, max_pixels = 0;
};

std::string result_line(const vision::Policy& p, uint32_t w, uint32_t h, const char* format) {
  const vision::Count c = vision::count_tokens(p, w, h);
  std::string line = "{\"tokens\":" + std::to_string(c.tokens) + ",\"features\":" + std::to_string(c.features) +
                     ",\"width\":" + std::to_string(w) + ",\"height\":" + std::to_string(h);
  if (format && *format) line += std::string(",\"format\":\"") + format + "\"";
  if (p.kind != vision::Policy::Kind::fixed)
    line += ",\"resized\":[" + std::to_string(c.grid_width) + "," + std::to_string(c.grid_height) + "],\"grid\":[" +
            std::to_string(c.rows) + "," + std::to_string(c.cols) + "]";
  return line + "}\n";
}

std::string error_line(const std::string& what) {
  std::string line = "{\"error\":";
  append_json_string(line, what);
  return line + "}\n";
}

bool parse_size(const std::string& s, uint32_t& w, uint32_t& h) {
  const size_t x = s.find_first_of("xX");
  if (x == std::string::npos) return false;
  try {
    size_t a = 0, b = 0;
    const unsigned long ww = std::stoul(s.substr(0, x), &a), hh = std::stoul(s.substr(x + 1), &b);
    if (a != x || b != s.size() - x - 1 || ww > 0x7FFFFFFF || hh > 0x7FFFFFFF) return false;
    w = static_cast<uint32_t>(ww);
    h = static_cast<uint32_t>(hh);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

int run(const VisionArgs& a) {
  if (a.list) {
    for (const vision::Policy& p : vision::builtin_policies()) std::printf("%-16s %s\n", p.name.c_str(), p.description.c_str());
    return 0;
  }
  std::optional<vision::Policy> policy = vision::find_policy(a.vision);
  if (!policy) {
    std::string names;
    for (const vision::Policy& p : vision::builtin_policies()) names += (names.empty() ? "" : ", ") + p.name;
    std::fprintf(stderr, "tokalign vision: unknown --vision %s (known: %s)\n", a.vision.c_str(), names.c_str());
    return 2;
  }
  if (a.cls) policy->cls = true;
  if (a.anyres_max) policy->anyres_max = a.anyres_max;
  if (a.min_pixels) policy->min_pixels = a.min_pixels;
  if (a.max_pixels) policy->max_pixels = a.max_pixels;
  const int given = !a.size.empty() + !a.image.empty() + !a.images.empty();
  if (given != 1) {
    std::fprintf(stderr, "tokalign vision: give one of --size WxH, --image PATH, --images FILE (or --list)\n");
    return 2;
  }
  Output out(a.output);
  if (!a.size.empty()) {
    uint32_t w, h;
    if (!parse_size(a.size, w, h)) {
      std::fprintf(stderr, "tokalign vision: --size %s is not WIDTHxHEIGHT\n", a.size.c_str());
      return 2;
    }
    out.write(result_line(*policy, w, h, nullptr));
    out.close();
    return 0;
  }
  if (!a.image.empty()) {
    const vision::ImageInfo info = vision::probe_image_file(vision::resolve_image_path(a.image_root, a.image));
    out.write(result_line(*policy, info.width, info.height, info.format));
    out.close();
    return 0;
  }
  Input in(a.images);
  simdjson::dom::parser parser;
  std::string line;
  size_t line_no = 0, errors = 0;
  while (read_line(in.file(), line)) {
    ++line_no;
    std::string result;
    try {
      simdjson::dom::element d;
      if (auto err = parser.parse(line).get(d)) throw Error(std::string("not valid JSON: ") + simdjson::error_message(err));
      std::string_view path;
      int64_t w, h;
      if (!d["path"].get(path)) {
        const std::string resolved = vision::resolve_image_path(a.image_root, std::string(path));
        const vision::ImageInfo info = vision::probe_image_file(resolved);
        result = result_line(*policy, info.width, info.height, info.format);
      } else if (!d["width"].get(w) && !d["height"].get(h)) {
        if (w <= 0 || h <= 0 || w > 0x7FFFFFFF || h > 0x7FFFFFFF) throw Error("width and height must be in 1..2^31-1");
        result = result_line(*policy, static_cast<uint32_t>(w), static_cast<uint32_t>(h), nullptr);
      } else {
        throw Error("expected {\"path\": ...} or {\"width\": W, \"height\": H}");
      }
    } catch (const Error& e) {
      ++errors;
      result = error_line(in.name() + ":" + std::to_string(line_no) + ": " + e.what());
    }
    out.write(result);
  }
  out.close();
  if (errors) std::fprintf(stderr, "tokalign vision: %zu of %zu lines could not be counted\n", errors, line_no);
  return errors ? 1 : 0;
}

}  // namespace

Run add_vision(CLI::App& app) {
  auto a = std::make_shared<VisionArgs>();
  app.description(
      "How many sequence positions an image takes under a vision policy (the expansion of one <image>), from its size\n"
      "or from the image file's header alone (PNG, JPEG, GIF, BMP, WebP, TIFF; no pixel is decoded; EXIF rotation is\n"
      "ignored, as PIL's Image.size ignores it). --images reads JSONL lines {\"path\": ...} or {\"width\": W, \"height\": H}\n"
      "and writes {\"tokens\", \"features\", \"width\", \"height\", ...} per line, in order; an unreadable image gives\n"
      "{\"error\": ...} on its line and exit status 1.");
  app.add_flag("--list", a->list, "list the policies");
  app.add_option("--vision", a->vision, "policy name (default llava-1.5; see --list)");
  app.add_option("--size", a->size, "one image size, WIDTHxHEIGHT");
  app.add_option("--image", a->image, "one image file");
  app.add_option("--images", a->images, "JSONL of images (- for stdin)");
  app.add_option("--image-root", a->image_root, "resolve image paths under this folder; paths leaving it are refused");
  app.add_option("--output,-o", a->output, "output file (- for stdout)");
  app.add_flag("--cls", a->cls, "fixed policies: keep the CLS token (+1)");
  app.add_option("--anyres-max", a->anyres_max, "anyres policies: anyres_max_K (0 keeps the policy's)");
  app.add_option("--min-pixels", a->min_pixels, "qwen2-vl: min_pixels");
  app.add_option("--max-pixels", a->max_pixels, "qwen2-vl: max_pixels");
  return [a] { return run(*a); };
}

}  // namespace tokalign::cli
