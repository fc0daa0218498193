// A dataset audited record by record, as the `audit` command and the Python module
// (tokalign.Auditor) both do it: LLaVA's train() setup for a --version (the conversation
// template it really uses, its pad token), LLaVA's outcome for each sample (llava_preprocess),
// and, where LLaVA trains a sample, how its ids and labels compare with tokalign compile's for
// the template of the same name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/llava_conv.h"
#include "audit/llava_preprocess.h"
#include "chat/reader.h"
#include "compile/compiler.h"
#include "tokenizer/tokenizer.h"

namespace tokalign::audit {

struct AuditOptions {
  std::string version;  // LLaVA's --version: a conversation template name, or v0 / v0.5
  Impl impl = Impl::llava;
  // "unk" (LLaVA-1.5's train(): pad = unk, even when there is none) or "unk-or-own" (pad = unk
  // when there is one, else the tokenizer's own); empty: the implementation's own rule.
  std::string pad;
  Transformers transformers = Transformers::v4_37;
  size_t model_max_length = 2048;
};

// Parses "llava" / "llava-next", "4.37" / "5" / "5.17", "unk" / "unk-or-own" / ""; throws
// tokalign::Error naming the choices.
Impl parse_impl(const std::string& s);
Transformers parse_transformers(const std::string& s);
void check_pad_rule(const std::string& s);

struct AuditResult {
  std::string id;  // the record's id, or "#index"
  Outcome outcome;
  // Set where LLaVA trains the sample and tokalign compile's ids / labels differ (a sentence).
  std::string labels_differ, ids_differ;
};

class Auditor {
 public:
  // `t` is the tokenizer loaded from `tokenizer_path`; it must outlive the Auditor.
  Auditor(const tok::Tokenizer& t, const std::string& tokenizer_path, const AuditOptions& o);

  AuditResult audit(std::string_view record, const chat::SourcePos& pos);

  const LlavaConv& conv() const { return conv_; }
  const LlavaTokenizer& tokenizer() const { return lt_; }
  // The --version is no template of the implementation: train() silently uses vicuna_v1.
  bool fallback() const { return fallback_; }
  // v0 / v0.5 select no template: conversation.py's default is used with their own pad token.
  bool default_conv() const { return default_conv_; }
  const std::string& lookup_name() const { return lookup_; }
  // A few sentences on which term of LLaVA's count was off for a mismatched sample.
  std::string explain(const Outcome& o) const { return audit::explain(o, conv_, lt_); }
  // The implementation's versions that train every sample audited so far (the first 200),
  // with this tokenizer.
  std::vector<std::string> working_versions() const;
  size_t kept() const { return kept_.size(); }

 private:
  AuditOptions opts_;
  LlavaConv conv_;
  bool fallback_ = false, default_conv_ = false;
  std::string lookup_;
  LlavaTokenizer lt_;
  std::unique_ptr<compile::Compiler> compiler_;  // null where tokalign has no template of that name
  chat::ConversationReader reader_;
  std::vector<LlavaSample> kept_;
};

}  // namespace tokalign::audit
