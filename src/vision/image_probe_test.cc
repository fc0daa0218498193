#include "vision/image_probe.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace tokalign::vision {
namespace {

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string png(uint32_t w, uint32_t h) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(w) + be32(h) + std::string("\x08\x02\0\0\0", 5);
}

TEST(ImageProbe, PngHeader) {
  const ImageInfo i = probe_image(png(640, 480));
  EXPECT_EQ(i.width, 640u);
  EXPECT_EQ(i.height, 480u);
  EXPECT_STREQ(i.format, "PNG");
}

TEST(ImageProbe, JpegTakesTheFrameHeaderAfterOtherSegments) {
  // SOI, an APP0 of 16 bytes, SOF2 (progressive) with height 300 and width 200, then SOS.
  std::string j("\xFF\xD8", 2);
  j += std::string("\xFF\xE0\x00\x10", 4) + std::string(14, 'x');
  j += std::string("\xFF\xC2\x00\x11\x08\x01\x2C\x00\xC8\x03", 10) + std::string(9, '\0');
  j += std::string("\xFF\xDA\x00\x08", 4);
  const ImageInfo i = probe_image(j);
  EXPECT_EQ(i.width, 200u);
  EXPECT_EQ(i.height, 300u);
  EXPECT_STREQ(i.format, "JPEG");
}

TEST(ImageProbe, RefusesZeroTruncatedAndForeign) {
  EXPECT_THROW(probe_image(png(0, 5)), Error);
  EXPECT_THROW(probe_image(png(5, 5).substr(0, 20)), Error);
  EXPECT_THROW(probe_image(png(0x80000000u, 5)), Error);
  EXPECT_THROW(probe_image("hello"), Error);
  EXPECT_THROW(probe_image(""), Error);
  // A JPEG of APP segments only never loops and ends as truncated.
  std::string loop("\xFF\xD8", 2);
  for (int k = 0; k < 100; ++k) loop += std::string("\xFF\xE0\x00\x02", 4);
  EXPECT_THROW(probe_image(loop), Error);
}

TEST(ImageProbe, RootRefusesEscapes) {
  EXPECT_EQ(resolve_image_path("", "a/b.png"), "a/b.png");
  EXPECT_THROW(resolve_image_path("/tmp/x-root", "../etc/passwd"), Error);
  EXPECT_EQ(resolve_image_path("/tmp/x-root", "a/../b.png"), "/tmp/x-root/b.png");
}

}  // namespace
}  // namespace tokalign::vision
