#include "audit/auditor.h"

#include <cstdio>

#include "chat/template.h"
#include "util/error.h"

namespace tokalign::audit {

Impl parse_impl(const std::string& s) {
  if (s == "llava") return Impl::llava;
  if (s == "llava-next") return Impl::llava_next;
  throw Error("impl '" + s + "': llava or llava-next");
}

Transformers parse_transformers(const std::string& s) {
  if (s == "4.37") return Transformers::v4_37;
  if (s == "5" || s == "5.17") return Transformers::v5;
  throw Error("transformers version '" + s + "': 4.37 (LLaVA's pin) or 5");
}

void check_pad_rule(const std::string& s) {
  if (!s.empty() && s != "unk" && s != "unk-or-own") throw Error("pad token rule '" + s + "': unk or unk-or-own");
}

Auditor::Auditor(const tok::Tokenizer& t, const std::string& tokenizer_path, const AuditOptions& o) : opts_(o) {
  check_pad_rule(o.pad);
  // train(): --version v0 / v0.5 keep conversation.py's default_conversation (LLaVA-1.5:
  // conv_vicuna_v1; LLaVA-NeXT: conv_vicuna_v0) and set the pad token their own way; any other
  // name is looked up, and an unknown one silently becomes vicuna_v1.
  const bool v0 = o.version == "v0", v0_5 = o.version == "v0.5";
  default_conv_ = v0 || v0_5;
  lookup_ = default_conv_ ? (o.impl == Impl::llava ? "vicuna_v1" : "v0") : o.version;
  std::optional<LlavaConv> c = find_conv(o.impl, lookup_);
  fallback_ = !c;
  if (fallback_) c = find_conv(o.impl, "vicuna_v1");
  conv_ = *c;

  const auto pad_rule = (o.pad.empty() ? o.impl == Impl::llava : o.pad == "unk") ? LlavaTokenizer::PadRule::unk
                                                                                  : LlavaTokenizer::PadRule::unk_or_own;
  lt_ = LlavaTokenizer::load(t, tokenizer_path, pad_rule, o.transformers);
  if (v0) lt_.pad_id = lt_.own_pad_id ? lt_.own_pad_id : std::optional<uint32_t>(static_cast<uint32_t>(lt_.size));  // smart_tokenizer_and_embedding_resize
  if (v0_5) lt_.pad_id = lt_.unk_id;
  lt_.model_max_length = o.model_max_length;

  // tokalign's own compile of the same sample, for "are LLaVA's labels right where it does not
  // zero?": the template of the same name, the labels that implementation intended.
  try {
    compile::Options co;
    co.labels = o.impl == Impl::llava_next ? compile::LabelMode::llava_next : compile::LabelMode::llava;
    co.placement = o.impl == Impl::llava_next ? chat::ImagePlacement::llava_next : chat::ImagePlacement::llava;
    compiler_ = std::make_unique<compile::Compiler>(t, chat::TemplateRegistry::builtin().find(conv_.name), co);
  } catch (const Error&) {
  }
}

AuditResult Auditor::audit(std::string_view record, const chat::SourcePos& pos) {
  AuditResult r;
  char index[32];
  std::snprintf(index, sizeof index, "#%llu", static_cast<unsigned long long>(pos.index));
  r.id = index;
  LlavaSample s;
  Outcome& o = r.outcome;
  if (read_llava_record(record, s, r.id, o.error)) {
    if (kept_.size() < 200) kept_.push_back(s);
    o = llava_preprocess(conv_, opts_.impl, s, lt_);
  }
  // Where LLaVA trains the sample, compare its labels with tokalign's for the same template.
  if (!compiler_ || !o.error.empty() || o.zeroed || o.input_ids.empty()) return r;
  chat::Conversation c;
  chat::Problem p;
  compile::Sample cs;
  if (!reader_.read(record, pos, c, p) || !compiler_->compile(c, cs, p)) return r;
  size_t k = 0;
  if (cs.input_ids != o.input_ids) {
    while (k < cs.input_ids.size() && k < o.input_ids.size() && cs.input_ids[k] == o.input_ids[k]) ++k;
    r.ids_differ = "LLaVA's tokenizer gives other ids than tokalign compile from position " + std::to_string(k) + " (LLaVA " +
                   (k < o.input_ids.size() ? std::to_string(o.input_ids[k]) : std::string("end")) + ", tokalign " +
                   (k < cs.input_ids.size() ? std::to_string(cs.input_ids[k]) : std::string("end")) + ")";
  } else if (cs.labels != o.labels) {
    while (k < cs.labels.size() && cs.labels[k] == o.labels[k]) ++k;
    r.labels_differ = "labels differ from tokalign's at position " + std::to_string(k) + " (LLaVA " +
                      std::to_string(o.labels[k]) + ", tokalign " + std::to_string(cs.labels[k]) + ")";
  }
  return r;
}

std::vector<std::string> Auditor::working_versions() const {
  std::vector<std::string> working;
  if (kept_.empty()) return working;
  for (const std::string& name : conv_names(opts_.impl)) {
    const auto c = find_conv(opts_.impl, name);
    bool ok = true;
    for (const LlavaSample& s : kept_) {
      const Outcome x = llava_preprocess(*c, opts_.impl, s, lt_);
      if (x.zeroed || !x.error.empty()) {
        ok = false;
        break;
      }
    }
    if (ok) working.push_back(name);
  }
  return working;
}

}  // namespace tokalign::audit
