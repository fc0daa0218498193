#include "audit/llava_conv.h"

#include "util/error.h"

namespace tokalign::audit {

namespace {

const char* kVicunaV0 =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, "
    "and polite answers to the human's questions.";
const char* kVicunaV1 =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
    "and polite answers to the user's questions.";
const char* kMmtag =
    "A chat between a curious user and an artificial intelligence assistant. The assistant is able to understand the "
    "visual content that the user provides, and assist the user with a variety of tasks using natural language.The "
    "visual content will be provided with the following format: <Image>visual content</Image>.";
const char* kLlama2 =
    "You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, while being safe.  "
    "Your answers should not include any harmful, unethical, racist, sexist, toxic, dangerous, or illegal content. "
    "Please ensure that your responses are socially unbiased and positive in nature.\n\nIf a question does not make "
    "any sense, or is not factually coherent, explain why instead of answering something not correct. If you don't "
    "know the answer to a question, please don't share false information.";
const char* kLlavaLlama =
    "You are a helpful language and vision assistant. You are able to understand the visual content that the user "
    "provides, and assist the user with a variety of tasks using natural language.";
const char* kSimple = "Answer the questions about the visual content that the user provides.";

std::vector<LlavaConv> table(Impl impl) {
  const LlavaConv v0{"v0", kVicunaV0, {"Human", "Assistant"}, SepStyle::single, "###", "", "Unknown"};
  const LlavaConv v1{"v1", kVicunaV1, {"USER", "ASSISTANT"}, SepStyle::two, " ", "</s>", "v1"};
  const LlavaConv llama2{"llama_2", kLlama2, {"USER", "ASSISTANT"}, SepStyle::llama_2, "<s>", "</s>", "llama_v2"};
  const LlavaConv mistral{"mistral_instruct", "", {"USER", "ASSISTANT"}, SepStyle::llama_2, "", "</s>", "llama_v2"};
  const std::string im = "<|im_start|>";
  auto mpt = [&](const char* name, std::string system) {
    return LlavaConv{name, im + "system\n" + system, {im + "user\n", im + "assistant\n"}, SepStyle::mpt, "<|im_end|>", "", "mpt"};
  };
  const LlavaConv plain{"plain", "", {"", ""}, SepStyle::plain, "\n", "", "Unknown"};
  auto named = [](LlavaConv c, const char* name) {
    c.name = name;
    return c;
  };
  auto with = [](LlavaConv c, const char* name, const char* system, const char* version = nullptr) {
    c.name = name;
    c.system = system;
    if (version) c.version = version;
    return c;
  };
  std::vector<LlavaConv> t = {
      named(v0, "default"), v0, v1, named(v1, "vicuna_v1"), llama2, mistral,
      mpt("chatml_direct", "Answer the questions."), mpt("mistral_direct", "Answer the questions."), plain,
      named(plain, "v0_plain"), named(v0, "llava_v0"), with(v1, "llava_v1", kVicunaV0),
      with(llama2, "llava_llama_2", kLlavaLlama),
      mpt("mpt", "A conversation between a user and an LLM-based AI assistant. The assistant gives helpful and honest answers."),
  };
  if (impl == Impl::llava) {
    t.push_back(with(v0, "v0_mmtag", kMmtag, "v0_mmtag"));
    t.push_back(with(v1, "v1_mmtag", kMmtag, "v1_mmtag"));
    return t;
  }
  t.push_back(with(v0, "llava_v0_mmtag", kMmtag, "v0_mmtag"));
  t.push_back(with(v1, "llava_v1_mmtag", kMmtag, "v1_mmtag"));
  t.push_back(mpt("mistral_orca", "You are MistralOrca, a large language model trained by Alignment Lab AI. Write out your "
                                  "reasoning step-by-step to be sure you get the right answers!"));
  t.push_back(LlavaConv{"mistral_zephyr", "<|system|>\nYou are a helpful AI assistant.", {"<|user|>\n", "<|assistant|>\n"},
                        SepStyle::mpt, "</s>", "", "mpt"});
  t.push_back(with(llama2, "llava_llama_2_simple", kSimple));
  t.push_back(with(llama2, "llava_llama_2_mmtag",
                   "Answer the questions about the visual content that the user provides.The visual content will be "
                   "provided with the following format: <Image>visual content</Image>.",
                   "llama_v2_mmtag"));
  t.push_back(named(mistral, "llava_mistral_instruct"));
  t.push_back(LlavaConv{"llava_llama_3", kLlavaLlama, {"user", "assistant"}, SepStyle::llama_3, "<|eot_id|>", "", "llama_v3"});
  auto qwen = [&](const char* name, const char* system) {
    return LlavaConv{name, im + "system\n" + system, {im + "user", im + "assistant"}, SepStyle::chatml, "<|im_end|>", "", "qwen"};
  };
  t.push_back(qwen("qwen_1_5", "You are a helpful assistant."));
  t.push_back(qwen("qwen_2", "You are a helpful assistant."));
  t.push_back(qwen("qwen_2_5", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."));
  t.push_back(LlavaConv{"gemma_instruct", "", {"<start_of_turn>user\n", "<start_of_turn>model\n"}, SepStyle::gemma,
                        "<end_of_turn>\n", "", "gemma"});
  return t;
}

// Python's str.lstrip(chars): removes leading characters found in `chars` (ASCII here).
std::string lstrip_chars(const std::string& s, const std::string& chars) {
  size_t i = 0;
  while (i < s.size() && chars.find(s[i]) != std::string::npos) ++i;
  return s.substr(i);
}

}  // namespace

std::optional<LlavaConv> find_conv(Impl impl, const std::string& name) {
  for (const LlavaConv& c : table(impl))
    if (c.name == name) return c;
  return std::nullopt;
}

std::vector<std::string> conv_names(Impl impl) {
  std::vector<std::string> n;
  for (const LlavaConv& c : table(impl)) n.push_back(c.name);
  return n;
}

std::vector<std::string> py_split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, from)) {
    out.push_back(s.substr(from, at - from));
    from = at + sep.size();
  }
  out.push_back(s.substr(from));
  return out;
}

std::string get_prompt(const LlavaConv& c, const std::vector<std::pair<std::string, std::string>>& m) {
  std::string ret;
  switch (c.style) {
    case SepStyle::single:
      ret = c.system + c.sep;
      for (const auto& [role, msg] : m) ret += msg.empty() ? role + ":" : role + ": " + msg + c.sep;
      return ret;
    case SepStyle::two: {
      const std::string seps[2] = {c.sep, c.sep2};
      ret = c.system + seps[0];
      for (size_t i = 0; i < m.size(); ++i)
        ret += m[i].second.empty() ? m[i].first + ":" : m[i].first + ": " + m[i].second + seps[i % 2];
      return ret;
    }
    case SepStyle::mpt:
      ret = c.system + c.sep;
      for (const auto& [role, msg] : m) ret += msg.empty() ? role : role + msg + c.sep;
      return ret;
    case SepStyle::chatml:
      ret = c.system.empty() ? "" : c.system + c.sep + "\n";
      for (const auto& [role, msg] : m) ret += msg.empty() ? role + "\n" : role + "\n" + msg + c.sep + "\n";
      return ret;
    case SepStyle::gemma:
      for (size_t i = 0; i < m.size(); ++i) {
        if (m[i].first != c.roles[i % 2]) throw Error("AssertionError: Conversation should alternate user/assistant/user/assistant/...");
        ret += m[i].second.empty() ? m[i].first : m[i].first + m[i].second + c.sep;
      }
      return ret;
    case SepStyle::llama_2:
      for (size_t i = 0; i < m.size(); ++i) {
        std::string msg = m[i].second;
        if (i == 0) {
          if (msg.empty()) throw Error("AssertionError: first message should not be none");
          if (m[i].first != c.roles[0]) throw Error("AssertionError: first message should come from user");
        }
        if (msg.empty()) continue;
        if (i == 0 && !c.system.empty()) msg = "<<SYS>>\n" + c.system + "\n<</SYS>>\n\n" + msg;
        if (i % 2 == 0) ret += c.sep + "[INST] " + msg + " [/INST]";
        else ret += " " + msg + " " + c.sep2;
      }
      return lstrip_chars(ret, c.sep);
    case SepStyle::plain: {
      const std::string seps[2] = {c.sep, c.sep2};
      ret = c.system;
      for (size_t i = 0; i < m.size(); ++i) {
        if (m[i].second.empty()) continue;
        if (i % 2 == 1 && c.sep2.empty()) throw Error("TypeError: can only concatenate str (not \"NoneType\") to str");
        ret += m[i].second + seps[i % 2];
      }
      return ret;
    }
    case SepStyle::llama_3:
      throw Error("the llama_v3 style renders through a Hugging Face chat template; not emulated yet");
  }
  return ret;
}

}  // namespace tokalign::audit
