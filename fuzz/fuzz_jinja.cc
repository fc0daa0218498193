// Arbitrary bytes -> a chat template and the conversation it renders (src/chat/jinja/): the
// lexer, parser and interpreter must never crash, hang or grow without bound, whatever the
// template does (runaway loops and recursion end in a clear error). The input is the
// template, then optionally a 0x01 byte and JSON that replaces the default messages (an
// object is taken as the template's variables).
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/hf_template.h"
#include "util/error.h"

using namespace tokalign::chat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t cut = input.find('\x01');
  const std::string source = input.substr(0, cut);
  jinja::Dict tokens;
  tokens.set("bos_token", jinja::Value("<s>"));
  tokens.set("eos_token", jinja::Value("</s>"));
  HfChatTemplate::Call call;
  try {
    call.messages = jinja::from_json(
        R"([{"role":"system","content":"S"},{"role":"user","content":"hi </s>"},)"
        R"({"role":"assistant","content":"<think>r</think>ok","tool_calls":[{"function":{"name":"f","arguments":{"a":[1,2.5,null]}}}]},)"
        R"({"role":"user","content":[{"type":"image"},{"type":"text","text":"what?"}]}])");
    if (cut != std::string::npos) {
      jinja::Value v = jinja::from_json(input.substr(cut + 1));
      if (v.is_dict()) call.extra = v.dict();
      else call.messages = v;
    }
  } catch (const tokalign::Error&) {
  }
  jinja::RenderLimits limits;
  limits.max_steps = 20000;
  limits.max_output = 1 << 16;
  limits.max_call_depth = 20;
  try {
    HfChatTemplate t = HfChatTemplate::from_text(source, tokens);
    for (bool gen : {false, true}) {
      call.add_generation_prompt = gen;
      try {
        jinja::Rendered r = t.render(call, limits);
        for (auto [a, b] : r.generation)
          if (a > b || b > r.text.size()) __builtin_trap();
      } catch (const tokalign::Error&) {
      }
    }
  } catch (const tokalign::Error&) {
  }
  return 0;
}
