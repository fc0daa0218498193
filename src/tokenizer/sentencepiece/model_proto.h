// Reading a SentencePiece tokenizer.model (a serialized sentencepiece.ModelProto): the pieces
// with their scores and types, and the trainer and normalizer settings that decide how it
// tokenizes. Only the fields tokalign needs are decoded; the rest is skipped.
//
// Hand-written because Debian's libsentencepiece-dev ships no sentencepiece_model.pb.h (the
// processor API hides the model type and the normalizer spec), and libprotobuf plus protoc
// for one message is more machinery than ~100 lines of wire-format reading. Fuzzed
// (fuzz/fuzz_spm_model.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::tok::spm {

struct Piece {
  std::string text;
  float score = 0;
  // sentencepiece.ModelProto.SentencePiece.Type: NORMAL 1, UNKNOWN 2, CONTROL 3,
  // USER_DEFINED 4, UNUSED 5, BYTE 6.
  int type = 1;
};

struct ModelProto {
  std::vector<Piece> pieces;
  int model_type = 1;  // TrainerSpec.model_type: UNIGRAM 1, BPE 2, WORD 3, CHAR 4
  bool byte_fallback = false;
  int unk_id = 0;
  std::string normalizer_name;
  bool has_precompiled_charsmap = false;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

// Parses the serialized model; throws tokalign::Error naming `source` and the byte offset.
ModelProto parse_model_proto(std::string_view bytes, const std::string& source);

}  // namespace tokalign::tok::spm
