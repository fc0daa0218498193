// Runs a parsed Template with jinja2's semantics: scoping (a `set` inside a loop body or
// macro stays there; namespace() carries state out), loop variables, macros, loop controls,
// and transformers' {% generation %} spans. The work is bounded: output size, statements
// executed (runaway loops), macro recursion depth and range() sizes, each a clear error.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace tokalign::chat::jinja {

struct RenderLimits {
  size_t max_output = size_t{64} << 20;  // bytes
  uint64_t max_steps = 20'000'000;       // statements, loop iterations and calls
  size_t max_call_depth = 100;           // macro calls inside macro calls
};

struct Rendered {
  std::string text;
  // {% generation %} blocks: [start, end) in bytes of text, in the order they closed.
  std::vector<std::pair<size_t, size_t>> generation;
};

// `globals`: the template's variables (messages, bos_token, raise_exception, ...), on top
// of jinja2's own globals (range, namespace, dict). Throws tokalign::Error with the template
// position of the failing statement or expression; raise_exception's message is kept.
Rendered render(const Template& t, const Dict& globals, const RenderLimits& limits = {});

}  // namespace tokalign::chat::jinja
