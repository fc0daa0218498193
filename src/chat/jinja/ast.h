// The parsed template: expressions and statements, each with its source position.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace tokalign::chat::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Expr {
  enum class Kind {
    literal,    // value
    name,       // name
    list,       // items; name "tuple" for a tuple
    dict,       // items: key, value, key, value, ...
    attr,       // a.name
    index,      // a[b]
    slice,      // a[items[0]:items[1]:items[2]] (null: omitted)
    call,       // a(items..., kwargs)
    filter,     // a | name(items..., kwargs); a may be null inside {% filter %}
    test,       // a is [not] name(items...)
    unary,      // op a: "not", "-", "+"
    binary,     // a op b
    compare,    // a op b op c ...: ops, items
    cond,       // a if b else c
  };
  Kind kind;
  size_t pos = 0;
  Value value;
  std::string name;  // name, attr, filter, test, operator
  bool negated = false;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // compare
};

// An assignment target: a name, a namespace attribute (ns.attr), or a tuple of names.
struct Target {
  std::vector<std::string> names;
  std::string attr;  // set for ns.attr (names[0] is the namespace)
};

struct Stmt {
  enum class Kind { text, print, if_, for_, set, set_block, macro, call_block, break_, continue_, generation, filter_block, with };
  Kind kind;
  size_t pos = 0;
  std::string text;                                 // text
  ExprPtr expr;                                     // print, set, for (iterable), filter_block (the filter chain), call_block (the call)
  std::vector<std::pair<ExprPtr, Body>> branches;   // if / elif (expr: condition)
  Body body, else_body;                             // for, if (else), set_block, macro, generation, with
  Target target;                                    // for, set, set_block
  ExprPtr cond;                                     // for ... if cond
  std::string name;                                 // macro
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro, call_block's caller (defaults may be null); with (assignments)
};

struct Template {
  std::string source;  // normalized (see lexer.h)
  Body body;
  std::string where(size_t pos) const;
};

}  // namespace tokalign::chat::jinja
