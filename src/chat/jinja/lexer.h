// Jinja template text to tokens, as jinja2's lexer does it with the environment transformers
// builds for chat templates: trim_blocks and lstrip_blocks on, keep_trailing_newline off,
// newlines normalized to "\n", whitespace control with "-" and "+", comments dropped,
// {% raw %} blocks kept as text. Positions are byte offsets into the normalized source
// (Lexed::source); Lexed::where() turns one into "line L, column C" for error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::chat::jinja {

enum class TokKind : uint8_t {
  data,         // template text, printed as is
  var_begin,    // {{
  var_end,      // }}
  block_begin,  // {%
  block_end,    // %}
  name,
  string,  // text: the unescaped value
  integer,
  floating,
  op,  // text: the operator ("+", "//", "==", "(", ...)
  eof
};

struct Token {
  TokKind kind;
  std::string text;
  size_t pos = 0;
};

struct Lexed {
  std::string source;  // newlines normalized, trailing newline dropped
  std::vector<Token> tokens;
  std::string where(size_t pos) const;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws tokalign::Error naming the line and column of the problem.
Lexed lex(std::string_view source, const LexOptions& options = {});

}  // namespace tokalign::chat::jinja
