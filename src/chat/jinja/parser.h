// Tokens to a Template, with jinja2's grammar and operator precedence (jinja2/parser.py):
// conditional < or < and < not < comparisons and `in` < + - < ~ < * / // % < ** < unary
// minus < filters, tests, calls, attributes and subscripts.
//
// The statements chat templates use are supported: if / elif / else, for (with an `if`
// filter, `else`, tuple targets), set (also namespace attributes and block set), macro,
// break / continue (transformers enables loopcontrols), filter blocks, with, and
// transformers' {% generation %}, and call blocks. Anything else (include, import, extends,
// block, recursive loops) is an error naming its position, as are unknown filters and tests.
#pragma once

#include <string_view>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace tokalign::chat::jinja {

// Throws tokalign::Error ("template line L, column C: ...").
Template parse(std::string_view source, const LexOptions& options = {});

}  // namespace tokalign::chat::jinja
