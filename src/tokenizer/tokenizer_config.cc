#include "tokenizer/tokenizer_config.h"

#include <simdjson.h>

#include <cstdlib>
#include <filesystem>

#include "util/error.h"
#include "util/file.h"
#include "util/json_big_int.h"

namespace tokalign::tok {

namespace {

namespace dom = simdjson::dom;

// Sets `out` from a token field when the key is present: a string, {"content": ...}, or null.
void read_token(dom::element d, const char* key, std::optional<std::string>& out) {
  dom::element e;
  if (d[key].get(e) != simdjson::SUCCESS) return;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS || e["content"].get(s) == simdjson::SUCCESS) out = std::string(s);
  else out.reset();
}

void read_bool(dom::element d, const char* key, std::optional<bool>& out) {
  bool b;
  if (d[key].get(b) == simdjson::SUCCESS) out = b;
}

}  // namespace

TokenizerConfig TokenizerConfig::read(const std::string& folder) {
  namespace fs = std::filesystem;
  TokenizerConfig c;
  dom::parser parser;
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    const std::string path = (fs::path(folder) / name).string();
    if (!fs::exists(path)) continue;
    const std::string text = widen_big_integers(read_file(path));
    dom::element d;
    if (auto err = parser.parse(text).get(d))
      throw Error(path + ": not valid JSON (" + simdjson::error_message(err) + ")");
    read_token(d, "bos_token", c.bos_token);
    read_token(d, "eos_token", c.eos_token);
    read_token(d, "unk_token", c.unk_token);
    read_token(d, "pad_token", c.pad_token);
    read_token(d, "sep_token", c.sep_token);
    read_token(d, "cls_token", c.cls_token);
    read_token(d, "mask_token", c.mask_token);
    std::string_view tmpl;
    dom::array named;
    if (d["chat_template"].get(tmpl) == simdjson::SUCCESS) {
      c.chat_templates["default"] = std::string(tmpl);
    } else if (d["chat_template"].get(named) == simdjson::SUCCESS) {
      for (dom::element e : named) {
        std::string_view n, t;
        if (e["name"].get(n) || e["template"].get(t))
          throw Error(path + ": chat_template list entries need \"name\" and \"template\" strings");
        c.chat_templates[std::string(n)] = std::string(t);
      }
    }
    read_bool(d, "legacy", c.legacy);
    read_bool(d, "add_bos_token", c.add_bos_token);
    read_bool(d, "add_eos_token", c.add_eos_token);
    read_bool(d, "add_prefix_space", c.add_prefix_space);
    dom::array extra;
    if (d["additional_special_tokens"].get(extra) == simdjson::SUCCESS) {
      c.additional_special_tokens.clear();
      for (dom::element e : extra) {
        std::string_view s;
        if (e.get(s) == simdjson::SUCCESS || e["content"].get(s) == simdjson::SUCCESS) c.additional_special_tokens.emplace_back(s);
      }
    }
    std::string_view cls;
    if (d["tokenizer_class"].get(cls) == simdjson::SUCCESS) c.tokenizer_class = std::string(cls);
    dom::object atd;
    if (d["added_tokens_decoder"].get(atd) != simdjson::SUCCESS) continue;
    for (auto [k, v] : atd) {
      const std::string key(k);
      char* end = nullptr;
      const unsigned long id = std::strtoul(key.c_str(), &end, 10);
      std::string_view content;
      if (key.empty() || !end || *end || v["content"].get(content))
        throw Error(path + ": added_tokens_decoder entry \"" + key + "\" is malformed");
      Added a;
      a.content = std::string(content);
      bool f;
      if (v["special"].get(f) == simdjson::SUCCESS) a.special = f;
      if (v["lstrip"].get(f) == simdjson::SUCCESS) a.lstrip = f;
      if (v["rstrip"].get(f) == simdjson::SUCCESS) a.rstrip = f;
      if (v["normalized"].get(f) == simdjson::SUCCESS) a.normalized = f;
      if (v["single_word"].get(f) == simdjson::SUCCESS) a.single_word = f;
      c.added_tokens_decoder[static_cast<uint32_t>(id)] = a;
    }
  }
  return c;
}

}  // namespace tokalign::tok
