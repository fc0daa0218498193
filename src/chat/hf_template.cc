#include "chat/hf_template.h"

#include <filesystem>

#include "chat/jinja/parser.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"
#include "util/file.h"

namespace tokalign::chat {

namespace fs = std::filesystem;

namespace {

std::string folder_of(const std::string& path) {
  if (path.empty()) return ".";
  if (fs::is_directory(path)) return path;
  const fs::path p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

std::string pick(const std::map<std::string, std::string>& named, const std::string& name, const std::string& where) {
  const std::string want = name.empty() ? "default" : name;
  auto it = named.find(want);
  if (it != named.end()) return it->second;
  std::string have;
  for (const auto& [k, v] : named) have += (have.empty() ? "" : ", ") + k;
  throw Error(where + ": no chat template named \"" + want + "\"" + (have.empty() ? "" : " (it has: " + have + ")"));
}

// A tokenizer_config.json-like file's chat_template (also chat_template.json's).
std::string template_from_json(const std::string& path, const std::string& name) {
  const fs::path dir = fs::path(path).parent_path();
  tok::TokenizerConfig c;
  // TokenizerConfig reads fixed names in a folder; a file of another name is read through a
  // temporary view of it.
  if (fs::path(path).filename() == "tokenizer_config.json") {
    c = tok::TokenizerConfig::read(dir.empty() ? "." : dir.string());
  } else {
    const std::string text = read_file(path);
    jinja::Value v;
    try {
      v = jinja::from_json(text);
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
    const jinja::Value* t = v.is_dict() ? v.dict().find("chat_template") : nullptr;
    if (t && t->is_string()) c.chat_templates["default"] = t->str();
    else if (t && t->is_list())
      for (const jinja::Value& e : t->list()) {
        const jinja::Value* n = e.is_dict() ? e.dict().find("name") : nullptr;
        const jinja::Value* s = e.is_dict() ? e.dict().find("template") : nullptr;
        if (n && s && n->is_string() && s->is_string()) c.chat_templates[n->str()] = s->str();
      }
  }
  if (c.chat_templates.empty()) throw Error(path + ": has no \"chat_template\"");
  return pick(c.chat_templates, name, path);
}

bool has_generation(const jinja::Body& body) {
  for (const auto& s : body) {
    if (s->kind == jinja::Stmt::Kind::generation) return true;
    for (const auto& [c, b] : s->branches)
      if (has_generation(b)) return true;
    if (has_generation(s->body) || has_generation(s->else_body)) return true;
  }
  return false;
}

}  // namespace

HfChatTemplate HfChatTemplate::from_text(const std::string& text, jinja::Dict tokens, std::string origin) {
  HfChatTemplate t;
  t.origin_ = std::move(origin);
  t.text_ = text;
  try {
    t.parsed_ = jinja::parse(text);
  } catch (const Error& e) {
    throw Error(t.origin_ + ": " + e.what());
  }
  t.tokens_ = std::move(tokens);
  t.uses_generation_ = has_generation(t.parsed_.body);
  return t;
}

HfChatTemplate HfChatTemplate::load(const ChatTemplateSource& src) {
  const std::string folder = folder_of(src.tokenizer_path);
  const tok::TokenizerConfig config = tok::TokenizerConfig::read(folder);
  jinja::Dict tokens;
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) tokens.set(key, jinja::Value(*v));
  };
  put("bos_token", config.bos_token);
  put("eos_token", config.eos_token);
  put("unk_token", config.unk_token);
  put("sep_token", config.sep_token);
  put("pad_token", config.pad_token);
  put("cls_token", config.cls_token);
  put("mask_token", config.mask_token);
  if (!config.additional_special_tokens.empty()) {
    jinja::List extra;
    for (const std::string& s : config.additional_special_tokens) extra.push_back(jinja::Value(s));
    tokens.set("additional_special_tokens", jinja::Value(std::move(extra)));
  }

  std::string text, origin;
  if (!src.template_file.empty()) {
    origin = src.template_file;
    if (!fs::exists(origin)) throw Error(origin + ": no such file");
    const std::string ext = fs::path(origin).extension().string();
    text = ext == ".json" ? template_from_json(origin, src.name) : read_file(origin);
  } else if (fs::exists(fs::path(folder) / "chat_template.jinja") && src.name.empty()) {
    origin = (fs::path(folder) / "chat_template.jinja").string();
    text = read_file(origin);
  } else if (fs::exists(fs::path(folder) / "chat_template.json") && src.name.empty()) {
    origin = (fs::path(folder) / "chat_template.json").string();
    text = template_from_json(origin, src.name);
  } else {
    origin = (fs::path(folder) / "tokenizer_config.json").string();
    if (config.chat_templates.empty())
      throw Error(origin + ": the tokenizer has no chat_template (give one with --chat-template FILE)");
    text = pick(config.chat_templates, src.name, origin);
  }
  return from_text(text, std::move(tokens), origin);
}

jinja::Rendered HfChatTemplate::render(const Call& call, const jinja::RenderLimits& limits) const {
  jinja::Dict vars;
  vars.set("messages", call.messages);
  vars.set("tools", call.tools ? *call.tools : jinja::Value::none());
  vars.set("documents", call.documents ? *call.documents : jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value(call.add_generation_prompt));
  for (const auto& [k, v] : tokens_.items()) vars.set(k, v);
  jinja::Function raise;
  raise.name = "raise_exception";
  raise.call = [](jinja::Args& a) -> jinja::Value {
    throw Error(a.pos.empty() ? std::string("raise_exception") : a.pos[0].to_str());
  };
  vars.set("raise_exception", jinja::Value(std::move(raise)));
  jinja::Function now;
  now.name = "strftime_now";
  const std::optional<std::tm> fixed = call.now;
  now.call = [fixed](jinja::Args& a) -> jinja::Value {
    if (a.pos.empty() || !a.pos[0].is_string()) throw Error("strftime_now takes a format string");
    std::tm tm{};
    if (fixed) {
      tm = *fixed;
    } else {
      const std::time_t t = std::time(nullptr);
      localtime_r(&t, &tm);
    }
    char buf[512];
    const size_t n = std::strftime(buf, sizeof buf, a.pos[0].str().c_str(), &tm);
    return jinja::Value(std::string(buf, n));
  };
  vars.set("strftime_now", jinja::Value(std::move(now)));
  for (const auto& [k, v] : call.extra.items()) vars.set(k, v);
  try {
    return jinja::render(parsed_, vars, limits);
  } catch (const Error& e) {
    throw Error(origin_ + ": " + e.what());
  }
}

}  // namespace tokalign::chat
