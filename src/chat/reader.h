// Dataset records to Conversations: LLaVA JSON/JSONL and ShareGPT
// (`conversations: [{from, value}]`, `image` as a string or list), OpenAI / Hugging Face
// `messages: [{role, content}]` with content as a string or typed parts
// (`{"type": "text", "text"}`, `{"type": "image", ...}`), LLaMA-Factory's `images` list.
#pragma once

#include <string>
#include <string_view>

#include "chat/conversation.h"
#include "chat/problem.h"

namespace tokalign::chat {

enum class InputFormat { auto_detect, llava, messages };

// "auto", "llava" (also "sharegpt"), "messages" (also "openai"); throws tokalign::Error
// listing the names otherwise.
InputFormat parse_input_format(const std::string& name);

class ConversationReader {
 public:
  explicit ConversationReader(InputFormat format = InputFormat::auto_detect);
  ~ConversationReader();
  ConversationReader(const ConversationReader&) = delete;
  ConversationReader& operator=(const ConversationReader&) = delete;

  // Parses one record. On success fills `out` (its pos set to `pos`) and returns true; on a
  // problem (malformed JSON, invalid UTF-8, missing or mistyped field, unknown role) fills
  // `problem` and returns false. out.id is set whenever the record's id could be read.
  bool read(std::string_view record, const SourcePos& pos, Conversation& out, Problem& problem);

 private:
  struct Impl;
  Impl* impl_;
  InputFormat format_;
};

}  // namespace tokalign::chat
