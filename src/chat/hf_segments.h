// Segments from a model's own Jinja chat template (compile --template hf).
//
// The template gives one string; labels need to know which characters are which message's
// text. This is found by rendering, never by guessing from the template's source:
//   - the whole conversation F (add_generation_prompt false);
//   - each message's start: where the render of the messages before it stops agreeing with F;
//   - each message's text: the same render with that message's content replaced by a marker
//     (the text before the marker must be F's, so the template's output before a message
//     does not depend on it); the text after the marker, matched against F, ends it;
//   - each assistant message's prompt P (the messages before it, add_generation_prompt true),
//     which must be a prefix of F: what the model is trained to continue is what it will be
//     given at inference. A template that rewrites earlier turns (reasoning templates that
//     drop old <think> blocks) fails this check and the sample is quarantined
//     (template_not_prefix_stable), never trained on a prompt it will not see.
// An assistant message is then [P's end .. its text) generated scaffolding (trained, e.g. an
// empty <think></think>), its text, and the end of turn through the last special token;
// templates with {% generation %} blocks train exactly those blocks instead.
#pragma once

#include "chat/conversation.h"
#include "chat/hf_template.h"
#include "chat/problem.h"
#include "chat/segment.h"
#include "chat/template.h"

namespace tokalign::tok {
class Tokenizer;
}

namespace tokalign::chat {

// The Template compile uses for a model's own chat template (compile --template hf): no
// special tokens added by the tokenizer (apply_chat_template(tokenize=True) encodes with
// add_special_tokens=False; the template writes bos_token itself), and the tokenizer's special
// tokens for finding ends of turns.
Template hf_compile_template(const tok::Tokenizer& tokenizer, const ChatTemplateSource& source);

// `t.hf` must be set. Returns false with `p` set when the template refuses the conversation
// or cannot be segmented.
bool render_hf_segments(const Template& t, const Conversation& c, Rendered& out, Problem& p);

}  // namespace tokalign::chat
