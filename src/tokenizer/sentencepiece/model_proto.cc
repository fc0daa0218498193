#include "tokenizer/sentencepiece/model_proto.h"

#include <cstring>

#include "util/error.h"

namespace tokalign::tok::spm {

namespace {

// Protocol-buffer wire format: a key (field number << 3 | wire type), then a varint (0),
// 8 bytes (1), a length and that many bytes (2), or 4 bytes (5).
class Reader {
 public:
  Reader(std::string_view b, const std::string& src, size_t base) : b_(b), src_(src), base_(base) {}
  bool done() const { return i_ >= b_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i_ >= b_.size()) fail("truncated varint");
      const uint8_t c = static_cast<uint8_t>(b_[i_++]);
      v |= static_cast<uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (n > b_.size() - i_) fail("length runs past the end");
    std::string_view s = b_.substr(i_, n);
    i_ += n;
    return s;
  }
  float fixed32_float() {
    if (b_.size() - i_ < 4) fail("truncated fixed32");
    float f;
    std::memcpy(&f, b_.data() + i_, 4);
    i_ += 4;
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); return;
      case 1:
        if (b_.size() - i_ < 8) fail("truncated fixed64");
        i_ += 8;
        return;
      case 2: bytes(); return;
      case 5:
        if (b_.size() - i_ < 4) fail("truncated fixed32");
        i_ += 4;
        return;
      default: fail("unknown wire type " + std::to_string(wire));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(src_ + ": not a SentencePiece model: " + what + " at byte " + std::to_string(base_ + i_));
  }

 private:
  std::string_view b_;
  const std::string& src_;
  size_t base_;
  size_t i_ = 0;
};

}  // namespace

ModelProto parse_model_proto(std::string_view bytes, const std::string& source) {
  ModelProto m;
  Reader r(bytes, source, 0);
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (wire == 2 && (field == 1 || field == 2 || field == 3)) {
      std::string_view sub = r.bytes();
      Reader s(sub, source, static_cast<size_t>(sub.data() - bytes.data()));
      if (field == 1) {
        Piece p;
        while (!s.done()) {
          const uint64_t k = s.varint();
          const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
          if (f == 1 && w == 2) p.text = std::string(s.bytes());
          else if (f == 2 && w == 5) p.score = s.fixed32_float();
          else if (f == 3 && w == 0) p.type = static_cast<int>(s.varint());
          else s.skip(w);
        }
        m.pieces.push_back(std::move(p));
      } else if (field == 2) {  // TrainerSpec
        while (!s.done()) {
          const uint64_t k = s.varint();
          const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
          if (f == 3 && w == 0) m.model_type = static_cast<int>(s.varint());
          else if (f == 35 && w == 0) m.byte_fallback = s.varint() != 0;
          else if (f == 40 && w == 0) m.unk_id = static_cast<int>(s.varint());
          else s.skip(w);
        }
      } else {  // NormalizerSpec
        while (!s.done()) {
          const uint64_t k = s.varint();
          const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
          if (f == 1 && w == 2) m.normalizer_name = std::string(s.bytes());
          else if (f == 2 && w == 2) m.has_precompiled_charsmap = !s.bytes().empty();
          else if (f == 3 && w == 0) m.add_dummy_prefix = s.varint() != 0;
          else if (f == 4 && w == 0) m.remove_extra_whitespaces = s.varint() != 0;
          else s.skip(w);
        }
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) throw Error(source + ": not a SentencePiece model: no pieces");
  return m;
}

}  // namespace tokalign::tok::spm
