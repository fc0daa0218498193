// A model's own chat template (Hugging Face `chat_template`, Jinja), found and called the
// way transformers' apply_chat_template does: the template from an explicit file, else the
// folder's chat_template.jinja / chat_template.json, else tokenizer_config.json's
// `chat_template` (a string, or a list of named templates); rendered with `messages`,
// `tools` and `documents` (None when not given), `add_generation_prompt`, the special tokens
// (bos_token, eos_token, ...), raise_exception and strftime_now, plus any extra variables.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "chat/jinja/ast.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/value.h"

namespace tokalign::chat {

struct ChatTemplateSource {
  std::string tokenizer_path;  // tokenizer.json or model folder (for the config and special tokens)
  std::string template_file;   // optional: a .jinja file, or a tokenizer_config.json / chat_template.json
  std::string name;            // which named template ("default" when empty)
};

class HfChatTemplate {
 public:
  // Throws tokalign::Error naming the file (and template position) on a problem.
  static HfChatTemplate load(const ChatTemplateSource& source);
  // A template given as text, with the special tokens in `tokens` (tests, fuzzing).
  static HfChatTemplate from_text(const std::string& text, jinja::Dict tokens, std::string origin = "<template>");

  struct Call {
    jinja::Value messages;
    std::optional<jinja::Value> tools, documents;
    bool add_generation_prompt = false;
    jinja::Dict extra;                // more variables (enable_thinking, ...)
    std::optional<std::tm> now;       // strftime_now's time (default: the local time)
  };
  // Throws tokalign::Error with the template position (raise_exception's message kept).
  jinja::Rendered render(const Call& call, const jinja::RenderLimits& limits = {}) const;

  const std::string& origin() const { return origin_; }
  const std::string& text() const { return text_; }
  const jinja::Dict& special_tokens() const { return tokens_; }
  // Whether the template marks assistant text with {% generation %} blocks.
  bool uses_generation() const { return uses_generation_; }

 private:
  std::string origin_, text_;
  jinja::Template parsed_;
  jinja::Dict tokens_;
  bool uses_generation_ = false;
};

}  // namespace tokalign::chat
