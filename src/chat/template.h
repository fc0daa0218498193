// Conversation templates as data. Each template is one JSON description (the built-in ones
// are the files in templates/, compiled into the binary; users pass their own with
// --template-file). The fields, documented in docs/templates.md:
//
//   name, aliases[]             the names --template accepts
//   description, source         what it is and where its strings come from
//   prefix                      text at the very start ("<|begin_of_text|>")
//   system                      default system prompt; null when the template has none
//   system_format               how the system prompt renders, "{system}" marks the text
//   system_if_empty             render system_format even when the system prompt is ""
//   system_in_first_user        system_format goes where first_user says "{system}"
//   user, first_user, assistant message formats: "{content}" marks the message text,
//                               "{eot}" the end-of-turn string
//   eot                         the end-of-turn string ("</s>", "<|im_end|>")
//   add_special_tokens          run the tokenizer's post-processor (BOS) like tokenizer(...)
//   trim_content                strip whitespace around message text (Jinja's | trim)
//   image_wrap                  text around each <image>, e.g. ["<Image>", "</Image>"] (mmtag)
//   user_content_images_only    user text replaced by its images (LLaVA's plain pretraining)
//   labels.llava, labels.llava_next   what LLaVA / LLaVA-NeXT train beyond the content:
//                               {"assistant_header", "between", "after_eot": bool,
//                                "everywhere": [token strings trained wherever they occur]}
//
// Rendering reproduces LLaVA's Conversation.get_prompt() string for string (checked against
// LLaVA's own conversation.py on the device machine, see tests/compile/).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/conversation.h"
#include "chat/problem.h"
#include "chat/segment.h"
#include "unicode/py_strip.h"

namespace tokalign::chat {

// One parsed format string: literal text and the placeholders between.
struct FormatPiece {
  enum Kind : uint8_t { text, content, eot, system } kind;
  std::string literal;  // for text
};
using Format = std::vector<FormatPiece>;

struct LlavaLabels {
  bool assistant_header = false;  // the assistant's role header (before its content)
  bool between = true;            // text between assistant content and end-of-turn
  bool after_eot = false;         // text after the assistant's end-of-turn
  std::vector<std::string> everywhere;  // token strings trained wherever they occur
};

class HfChatTemplate;

struct Template {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  std::string source;
  std::string json;  // the description it was read from (hashed into shard manifests)

  std::string prefix;
  std::optional<std::string> system;  // nullopt: no system prompt in this template
  Format system_format;
  bool system_if_empty = false;
  bool system_in_first_user = false;
  Format user, first_user, assistant;
  bool has_first_user = false;
  std::string eot;
  bool add_special_tokens = true;
  bool trim_content = false;
  std::string image_before, image_after;
  bool user_content_images_only = false;
  LlavaLabels llava, llava_next;

  // A model's own Jinja chat template (compile --template hf): rendering goes through it, and
  // segments come from prefix renders or its {% generation %} blocks (chat/hf_segments.h).
  std::shared_ptr<const HfChatTemplate> hf;
  std::vector<std::string> special_tokens;  // the tokenizer's special token strings (end-of-turn detection)

  // Parses a JSON description; throws tokalign::Error naming `source_name` and the field.
  static Template from_json(std::string_view json, const std::string& source_name);

  // Renders a conversation. Returns false with `problem` set when the conversation does not
  // fit the template (unknown order of roles, empty assistant turn, image count, ...).
  bool render(const Conversation& c, Rendered& out, Problem& problem) const;
};

// Image placement before rendering (LLaVA's preprocess_multimodal).
enum class ImagePlacement {
  llava,       // a message's single <image> moves to its front followed by "\n" (LLaVA-1.5)
  llava_next,  // the same, but only when it is not already at the front (LLaVA-NeXT)
  keep,        // placeholders stay where they are
};

// "llava", "llava-next", "keep"; throws tokalign::Error otherwise.
ImagePlacement parse_image_placement(const std::string& name);

// Built-in templates plus any loaded from files.
class TemplateRegistry {
 public:
  static const TemplateRegistry& builtin();
  // Finds by name or alias; throws tokalign::Error listing every known name otherwise.
  const Template& find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<Template>& all() const { return templates_; }
  void add(Template t);

 private:
  std::vector<Template> templates_;
};

// Message text as segments of kind `k`, cut at <image> placeholders (each an image segment,
// wrapped in the template's image_before / image_after scaffolding).
void append_message_text(Rendered& out, const Template& t, SegmentKind k, Role r, int32_t turn, std::string_view text);

// Applies placement, trimming and wrapping rules to a copy of the conversation's messages:
// what LLaVA's preprocess_multimodal does before get_prompt().
void place_images(Conversation& c, ImagePlacement placement);
// The conversation as place_images leaves it: `c` itself when placing changes no message
// (nearly always: LLaVA's data starts the message with "<image>\n" already), else `scratch`,
// filled with the placed copy (its storage reused from call to call).
const Conversation& placed(const Conversation& c, Conversation& scratch, ImagePlacement placement);

using unicode::py_strip;  // Python's str.strip()

}  // namespace tokalign::chat
