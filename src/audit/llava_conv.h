// LLaVA's conversation templates as LLaVA's own code defines them (llava/conversation.py of
// haotian-liu/LLaVA c121f04 and LLaVA-VL/LLaVA-NeXT df17966) and Conversation.get_prompt(),
// reproduced string for string, edge cases included (an empty message renders "ROLE:" with no
// separator; Llama-2's ret.lstrip(sep) strips a character set). The audit needs LLaVA's
// behaviour, not a correct one: tokalign's own templates (templates/*.json) are what compile
// uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tokalign::audit {

enum class Impl { llava, llava_next };
enum class SepStyle { single, two, mpt, plain, llama_2, chatml, gemma, llama_3 };

struct LlavaConv {
  std::string name;
  std::string system;
  std::string roles[2];
  SepStyle style;
  std::string sep, sep2;  // sep2 empty where LLaVA has None
  std::string version;
};

// conv_templates[name] of the implementation; nullopt when the name is not there (train()
// then silently uses vicuna_v1).
std::optional<LlavaConv> find_conv(Impl impl, const std::string& name);
std::vector<std::string> conv_names(Impl impl);

// Conversation.get_prompt() for messages [(role, text)]; throws tokalign::Error with Python's
// exception text where LLaVA raises (an assert in the Llama-2 and Gemma styles), or for
// LLAMA_3 (rendered by a Hugging Face chat template, not emulated here).
std::string get_prompt(const LlavaConv& c, const std::vector<std::pair<std::string, std::string>>& messages);

// Python's str.split(sep) (sep not empty).
std::vector<std::string> py_split(const std::string& s, const std::string& sep);

}  // namespace tokalign::audit
