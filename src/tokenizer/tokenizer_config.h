// What transformers reads beside a tokenizer: tokenizer_config.json and special_tokens_map.json
// in the model folder (special_tokens_map first, tokenizer_config wins). Only the fields
// tokalign uses; a token may be written as a string or as {"content": ...}, and null reads as
// absent. Python's big integers (model_max_length 1e30) are accepted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tokalign::tok {

struct TokenizerConfig {
  struct Added {
    std::string content;
    bool special = true, lstrip = false, rstrip = false, normalized = false, single_word = false;
  };
  std::optional<std::string> tokenizer_class;
  std::optional<bool> legacy, add_bos_token, add_eos_token, add_prefix_space;
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token, sep_token, cls_token, mask_token;
  // chat_template: a string (named "default" here) or a list of {"name", "template"}.
  std::map<std::string, std::string> chat_templates;
  std::vector<std::string> additional_special_tokens;  // strings or {"content": ...}
  std::map<uint32_t, Added> added_tokens_decoder;

  // Reads the files in `folder` that exist; throws tokalign::Error naming a malformed one.
  static TokenizerConfig read(const std::string& folder);
};

}  // namespace tokalign::tok
