#include "vision/image_probe.h"

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <memory>
#include <optional>

#include "util/error.h"

namespace tokalign::vision {

namespace {

// A header that runs past the bytes at hand: probe_image_file reads more and tries again.
struct Truncated : Error {
  using Error::Error;
};

[[noreturn]] void fail(const char* format, const std::string& what, size_t at) {
  throw Error(std::string(format) + ": " + what + " (byte " + std::to_string(at) + ")");
}

// Bounds-checked little / big endian reads: a read past the end is a truncated header.
struct Bytes {
  std::string_view s;
  const char* format;
  void need(size_t at, size_t n) const {
    if (at > s.size() || s.size() - at < n)
      throw Truncated(std::string(format) + ": truncated header (byte " + std::to_string(s.size()) + ")");
  }
  uint32_t u8(size_t at) const {
    need(at, 1);
    return static_cast<unsigned char>(s[at]);
  }
  uint32_t le16(size_t at) const { return u8(at) | u8(at + 1) << 8; }
  uint32_t be16(size_t at) const { return u8(at) << 8 | u8(at + 1); }
  uint32_t le24(size_t at) const { return le16(at) | u8(at + 2) << 16; }
  uint32_t le32(size_t at) const { return le16(at) | le16(at + 2) << 16; }
  uint32_t be32(size_t at) const { return be16(at) << 16 | be16(at + 2); }
  bool has(size_t at, std::string_view tag) const { return s.size() >= at + tag.size() && s.substr(at, tag.size()) == tag; }
};

ImageInfo done(const char* format, uint64_t w, uint64_t h, size_t at) {
  if (w == 0 || h == 0) fail(format, "zero width or height (" + std::to_string(w) + "x" + std::to_string(h) + ")", at);
  // PIL keeps Python ints; tokalign keeps 32 bits, far beyond any image a model takes.
  if (w > 0x7FFFFFFF || h > 0x7FFFFFFF) fail(format, "width or height beyond 2^31", at);
  return ImageInfo{static_cast<uint32_t>(w), static_cast<uint32_t>(h), format};
}

ImageInfo png(const Bytes& b) {
  // 8-byte signature, then the IHDR chunk: length, "IHDR", width, height (big endian).
  if (!b.has(12, "IHDR")) fail("PNG", "the first chunk is not IHDR", 12);
  return done("PNG", b.be32(16), b.be32(20), 16);
}

ImageInfo gif(const Bytes& b) { return done("GIF", b.le16(6), b.le16(8), 6); }

ImageInfo bmp(const Bytes& b) {
  const uint32_t header = b.le32(14);
  if (header == 12) return done("BMP", b.le16(18), b.le16(20), 18);
  if (header != 40 && header != 52 && header != 56 && header != 64 && header != 108 && header != 124)
    fail("BMP", "unsupported header size " + std::to_string(header), 14);
  const int32_t w = static_cast<int32_t>(b.le32(18)), h = static_cast<int32_t>(b.le32(22));
  if (w < 0) fail("BMP", "negative width", 18);
  // A negative height stores the rows top-down; the size is its magnitude.
  return done("BMP", static_cast<uint64_t>(w), h < 0 ? -static_cast<int64_t>(h) : h, 18);
}

ImageInfo webp(const Bytes& b) {
  if (b.has(12, "VP8 ")) {
    // The key frame header: 3-byte frame tag, start code 9D 01 2A, 14-bit width and height.
    if (b.u8(23) != 0x9D || b.u8(24) != 0x01 || b.u8(25) != 0x2A) fail("WEBP", "VP8 start code missing", 23);
    return done("WEBP", b.le16(26) & 0x3FFF, b.le16(28) & 0x3FFF, 26);
  }
  if (b.has(12, "VP8L")) {
    if (b.u8(20) != 0x2F) fail("WEBP", "VP8L signature missing", 20);
    const uint32_t bits = b.le32(21);
    return done("WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 21);
  }
  if (b.has(12, "VP8X")) return done("WEBP", uint64_t{b.le24(24)} + 1, uint64_t{b.le24(27)} + 1, 24);
  fail("WEBP", "no VP8, VP8L or VP8X chunk first", 12);
}

ImageInfo tiff(const Bytes& b) {
  const bool le = b.u8(0) == 'I';
  auto u16 = [&](size_t at) { return le ? b.le16(at) : b.be16(at); };
  auto u32 = [&](size_t at) { return le ? b.le32(at) : b.be32(at); };
  if (u16(2) == 43) fail("TIFF", "BigTIFF is not supported", 2);
  const size_t ifd = u32(4);
  const uint32_t entries = u16(ifd);
  uint64_t w = 0, h = 0;
  for (uint32_t k = 0; k < entries; ++k) {
    const size_t e = ifd + 2 + 12 * size_t{k};
    const uint32_t tag = u16(e), type = u16(e + 2);
    if (tag != 256 && tag != 257) continue;
    // SHORT (3) sits in the first two bytes of the value field, LONG (4) fills it.
    uint64_t v;
    if (type == 3) v = u16(e + 8);
    else if (type == 4) v = u32(e + 8);
    else fail("TIFF", "ImageWidth/ImageLength of type " + std::to_string(type), e);
    (tag == 256 ? w : h) = v;
  }
  if (!w || !h) fail("TIFF", "the first IFD has no ImageWidth or ImageLength", ifd);
  return done("TIFF", w, h, ifd);
}

ImageInfo jpeg(const Bytes& b) {
  // Marker segments after SOI; the frame header (SOFn) holds the size. As PIL, the last SOF
  // before the scan (SOS) wins. Each segment is skipped by its length, so a scan ends the loop
  // and no loop can revisit a byte.
  size_t at = 2;
  std::optional<ImageInfo> found;
  for (;;) {
    if (b.u8(at) != 0xFF) fail("JPEG", "expected a marker", at);
    while (b.u8(at) == 0xFF) ++at;  // fill bytes
    const uint32_t m = b.u8(at++);
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length
    if (m == 0xD9) break;                                             // EOI
    const uint32_t len = b.be16(at);
    if (len < 2) fail("JPEG", "segment length below 2", at);
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      // SOFn: length, precision, height, width (big endian).
      found = done("JPEG", b.be16(at + 5), b.be16(at + 3), at + 3);
    }
    if (m == 0xDA) break;  // SOS: the scan follows
    at += len;
  }
  if (!found) fail("JPEG", "no frame header (SOF) before the scan", at);
  return *found;
}

}  // namespace

ImageInfo probe_image(std::string_view s) {
  auto starts = [&](std::string_view magic) { return s.substr(0, magic.size()) == magic; };
  if (starts("\x89PNG\r\n\x1a\n")) return png(Bytes{s, "PNG"});
  if (starts("\xFF\xD8\xFF")) return jpeg(Bytes{s, "JPEG"});
  if (starts("GIF87a") || starts("GIF89a")) return gif(Bytes{s, "GIF"});
  if (starts("BM")) return bmp(Bytes{s, "BMP"});
  if (starts("RIFF") && s.size() >= 12 && s.substr(8, 4) == "WEBP") return webp(Bytes{s, "WEBP"});
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4)) || starts(std::string_view("II+\0", 4)) ||
      starts(std::string_view("MM\0+", 4)))
    return tiff(Bytes{s, "TIFF"});
  if (s.empty()) throw Error("empty file");
  throw Error("not an image format tokalign reads (PNG, JPEG, GIF, BMP, WebP, TIFF)");
}

std::string resolve_image_path(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  if (root.empty()) return path;
  const fs::path r = fs::weakly_canonical(fs::path(root));
  const fs::path p = fs::weakly_canonical(r / fs::path(path));
  const auto [end, at] = std::mismatch(r.begin(), r.end(), p.begin(), p.end());
  if (end != r.end()) throw Error(path + ": outside the image root " + root);
  return p.string();
}

ImageInfo probe_image_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error(path + ": cannot open");
  // Most headers sit in the first kilobytes; read more only when the probe runs out.
  std::string buf;
  for (size_t want = 64 << 10;; want = std::min(want * 4, kProbeLimit)) {
    const size_t had = buf.size();
    buf.resize(want);
    buf.resize(had + std::fread(buf.data() + had, 1, want - had, f.get()));
    const bool whole = buf.size() < want;
    try {
      return probe_image(buf);
    } catch (const Truncated& e) {
      if (whole || want >= kProbeLimit) throw Error(path + ": " + e.what() + (whole ? "" : " within the first 1 MiB"));
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
}

}  // namespace tokalign::vision
