// libFuzzer target: arbitrary bytes as a SentencePiece tokenizer.model -> parse_model_proto.
// Invariants: no crash, hang or sanitizer report; bad bytes are a tokalign::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/sentencepiece/model_proto.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto m = tokalign::tok::spm::parse_model_proto(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (m.pieces.empty()) __builtin_trap();
  } catch (const tokalign::Error&) {
  }
  return 0;
}
