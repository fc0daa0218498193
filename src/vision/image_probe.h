// Image width and height from the file header alone, as PIL's Image.open(path).size reports
// them (what LLaVA and the Hugging Face image processors start from): no pixel is decoded, and
// EXIF orientation is ignored, as PIL's size ignores it.
//
// Formats: PNG (IHDR), JPEG (the first SOF0..SOF15 frame header, baseline / progressive /
// lossless / CMYK alike), GIF (logical screen), BMP (BITMAPCOREHEADER and BITMAPINFOHEADER+;
// negative height = top-down), WebP (VP8 lossy, VP8L lossless, VP8X extended), TIFF (first IFD,
// both byte orders). Hand-written: no Debian library reads headers only, and decoding to
// count is what this replaces. Fuzzed (fuzz/fuzz_image_probe.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tokalign::vision {

struct ImageInfo {
  uint32_t width = 0, height = 0;
  const char* format = "";  // "PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF" (PIL's format names)
};

// The most bytes a probe reads from a file. A JPEG's frame header may sit behind large APPn
// segments (EXIF thumbnails, ICC profiles); past this it is an error.
constexpr size_t kProbeLimit = 1 << 20;

// Probes bytes already in memory (at least the file's start). Throws tokalign::Error saying
// what is wrong (unknown format, truncated header, zero size) and at which byte.
ImageInfo probe_image(std::string_view bytes);

// `path` under `root` (as given when root is empty); a path that leaves the root, by ".." or a
// link, is refused with tokalign::Error.
std::string resolve_image_path(const std::string& root, const std::string& path);

// Reads a prefix of `path` and probes it; the error names the file.
ImageInfo probe_image_file(const std::string& path);

}  // namespace tokalign::vision
