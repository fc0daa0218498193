// libFuzzer target: arbitrary bytes as an image file -> vision::probe_image, then every policy's
// count for the size it reports. Invariants: no crash, hang or sanitizer report; a size it
// returns is nonzero and below 2^31; errors are tokalign::Error only.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/error.h"
#include "vision/image_probe.h"
#include "vision/policy.h"

using namespace tokalign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vision::ImageInfo info;
  try {
    info = vision::probe_image(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const Error&) {
    return 0;
  }
  if (!info.width || !info.height || info.width > 0x7FFFFFFF || info.height > 0x7FFFFFFF) std::abort();
  for (const vision::Policy& p : vision::builtin_policies()) {
    try {
      (void)vision::count_tokens(p, info.width, info.height);
    } catch (const Error&) {
    }
  }
  return 0;
}
