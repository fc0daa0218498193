#include "chat/jinja/parser.h"

#include <charconv>
#include <cmath>
#include <algorithm>
#include <set>
#include <string_view>

#include "chat/jinja/builtins.h"
#include "util/error.h"

namespace tokalign::chat::jinja {

std::string Template::where(size_t pos) const {
  Lexed l;
  l.source = source;
  return l.where(pos);
}

namespace {

constexpr size_t kMaxDepth = 200;  // nesting of expressions and blocks (a fuzzer's "((((((...")

class Parser {
 public:
  explicit Parser(Lexed lexed) : lx_(std::move(lexed)) {}

  Template run() {
    Template t;
    t.body = statements({});
    if (cur().kind != TokKind::eof) fail(cur().pos, "unexpected '" + cur().text + "'");
    t.source = std::move(lx_.source);
    return t;
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw Error("template " + lx_.where(pos) + ": " + what);
  }
  const Token& cur() const { return lx_.tokens[i_]; }
  const Token& peek(size_t k = 1) const { return lx_.tokens[std::min(i_ + k, lx_.tokens.size() - 1)]; }
  void next() {
    if (i_ + 1 < lx_.tokens.size()) ++i_;
  }
  bool is_op(std::string_view op) const { return cur().kind == TokKind::op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().kind == TokKind::name && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokKind::eof: return "end of template";
      case TokKind::block_end: return "end of statement block";
      case TokKind::var_end: return "end of print statement";
      case TokKind::data: return "template data";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail(cur().pos, "expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != TokKind::name) fail(cur().pos, "expected a name, got " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokKind::block_end) fail(cur().pos, "expected end of statement block, got " + describe(cur()));
    next();
  }
  // Items separated by commas (a trailing comma allowed) up to `close`, which is consumed.
  template <class Item>
  void comma_separated(std::string_view close, Item item) {
    for (bool first = true; !is_op(close); first = false) {
      if (!first) expect_op(",");
      if (is_op(close)) break;
      item();
    }
    expect_op(close);
  }
  // A parameter list "(a, b=default, ...)" after "(".
  void params(std::vector<std::pair<std::string, ExprPtr>>& out) {
    comma_separated(")", [&] {
      std::string p = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = expression();
      out.emplace_back(std::move(p), std::move(def));
    });
  }
  struct Depth {
    Parser& p;
    Depth(Parser& parser, size_t pos) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail(pos, "template nested too deeply");
    }
    ~Depth() { --p.depth_; }
  };

  // Statements until a block tag named in `ends` (left unconsumed, after its "{%").
  Body statements(const std::set<std::string>& ends) {
    Depth d(*this, cur().pos);
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.kind == TokKind::eof) {
        if (!ends.empty()) fail(t.pos, "unexpected end of template; expected " + join(ends));
        return body;
      }
      if (t.kind == TokKind::data) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::text;
        s->pos = t.pos;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
        continue;
      }
      if (t.kind == TokKind::var_begin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::print;
        s->pos = t.pos;
        next();
        s->expr = tuple_expr(true);
        if (cur().kind != TokKind::var_end) fail(cur().pos, "expected end of print statement, got " + describe(cur()));
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.kind != TokKind::block_begin) fail(t.pos, "unexpected " + describe(t));
      const Token& tag = peek();
      if (tag.kind != TokKind::name) fail(tag.pos, "expected a tag name, got " + describe(tag));
      if (ends.count(tag.text)) {
        next();  // past "{%", at the tag name
        return body;
      }
      next();
      body.push_back(statement());
    }
  }

  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "'" : " or '") + x + "'";
    return out;
  }

  std::unique_ptr<Stmt> statement() {
    const size_t pos = cur().pos;
    const std::string tag = expect_name();
    auto s = std::make_unique<Stmt>();
    s->pos = pos;
    if (tag == "if") {
      s->kind = Stmt::Kind::if_;
      ExprPtr c = expression();
      expect_block_end();
      for (;;) {
        Body b = statements({"elif", "else", "endif"});
        s->branches.emplace_back(std::move(c), std::move(b));
        const std::string end = expect_name();
        if (end == "elif") {
          c = expression();
          expect_block_end();
          continue;
        }
        if (end == "else") {
          expect_block_end();
          s->else_body = statements({"endif"});
          next();
        }
        expect_block_end();
        return s;
      }
    }
    if (tag == "for") {
      s->kind = Stmt::Kind::for_;
      s->target = assign_target(false);
      if (!skip_name("in")) fail(cur().pos, "expected 'in', got " + describe(cur()));
      s->expr = tuple_expr(false, {"recursive"});
      if (skip_name("if")) s->cond = expression();
      if (is_name("recursive")) fail(cur().pos, "recursive loops are not supported");
      expect_block_end();
      s->body = statements({"endfor", "else"});
      if (expect_name() == "else") {
        expect_block_end();
        s->else_body = statements({"endfor"});
        next();
      }
      expect_block_end();
      return s;
    }
    if (tag == "set") {
      s->target = assign_target(true);
      if (skip_op("=")) {
        s->kind = Stmt::Kind::set;
        s->expr = tuple_expr(true);
        expect_block_end();
        return s;
      }
      s->kind = Stmt::Kind::set_block;
      if (!s->target.attr.empty() || s->target.names.size() != 1) fail(pos, "a block set assigns one name");
      if (is_op("|")) s->expr = filter_chain(nullptr);
      expect_block_end();
      s->body = statements({"endset"});
      next();
      expect_block_end();
      return s;
    }
    if (tag == "macro") {
      s->kind = Stmt::Kind::macro;
      s->name = expect_name();
      expect_op("(");
      params(s->params);
      expect_block_end();
      s->body = statements({"endmacro"});
      next();
      if (cur().kind == TokKind::name && cur().text == s->name) next();
      expect_block_end();
      return s;
    }
    if (tag == "call") {
      // {% call [(params)] macro(args) %}body{% endcall %}: the macro gets caller(), which
      // renders the body.
      s->kind = Stmt::Kind::call_block;
      if (skip_op("(")) params(s->params);
      s->expr = expression();
      if (s->expr->kind != Expr::Kind::call) fail(pos, "expected a macro call after 'call'");
      expect_block_end();
      s->body = statements({"endcall"});
      next();
      expect_block_end();
      return s;
    }
    if (tag == "break" || tag == "continue") {
      s->kind = tag == "break" ? Stmt::Kind::break_ : Stmt::Kind::continue_;
      expect_block_end();
      return s;
    }
    if (tag == "generation") {
      s->kind = Stmt::Kind::generation;
      expect_block_end();
      s->body = statements({"endgeneration"});
      next();
      expect_block_end();
      return s;
    }
    if (tag == "filter") {
      s->kind = Stmt::Kind::filter_block;
      s->expr = filter_chain(nullptr, true);
      expect_block_end();
      s->body = statements({"endfilter"});
      next();
      expect_block_end();
      return s;
    }
    if (tag == "with") {
      s->kind = Stmt::Kind::with;
      while (cur().kind != TokKind::block_end) {
        if (!s->params.empty()) expect_op(",");
        std::string n = expect_name();
        expect_op("=");
        s->params.emplace_back(std::move(n), expression());
      }
      expect_block_end();
      s->body = statements({"endwith"});
      next();
      expect_block_end();
      return s;
    }
    fail(pos, "unsupported tag '" + tag + "'" +
                  (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else" ? " (no block is open for it)" : ""));
  }

  Target assign_target(bool with_namespace) {
    Target t;
    const bool paren = skip_op("(");
    t.names.push_back(expect_name());
    if (with_namespace && !paren && is_op(".")) {
      next();
      t.attr = expect_name();
      return t;
    }
    while (skip_op(",")) {
      if (cur().kind != TokKind::name || is_name("in")) break;
      t.names.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return t;
  }

  ExprPtr make(Expr::Kind k, size_t pos) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = pos;
    return e;
  }

  // Expressions separated by commas form a tuple (a list here).
  ExprPtr tuple_expr(bool with_cond, const std::set<std::string>& extra_ends = {}) {
    const size_t pos = cur().pos;
    std::vector<ExprPtr> items;
    bool comma = false;
    for (;;) {
      if (!items.empty()) {
        if (!skip_op(",")) break;
        comma = true;
      }
      if (cur().kind == TokKind::block_end || cur().kind == TokKind::var_end || is_op(")") ||
          (cur().kind == TokKind::name && extra_ends.count(cur().text)) || (!items.empty() && is_name("if")))
        break;
      items.push_back(with_cond ? expression() : or_expr());
    }
    if (!comma && items.size() == 1) return std::move(items[0]);
    if (items.empty()) fail(pos, "expected an expression, got " + describe(cur()));
    auto e = make(Expr::Kind::list, pos);
    e->name = "tuple";
    e->items = std::move(items);
    return e;
  }

  ExprPtr expression() {
    Depth d(*this, cur().pos);
    ExprPtr e = or_expr();
    while (is_name("if")) {
      const size_t pos = cur().pos;
      next();
      auto c = make(Expr::Kind::cond, pos);
      c->b = or_expr();
      if (skip_name("else")) c->c = expression();
      c->a = std::move(e);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b, size_t pos) {
    auto e = make(Expr::Kind::binary, pos);
    e->name = op;
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  // One precedence level of left-associative binary operators ("or", "and" are names, the
  // rest operator tokens), over the next level.
  ExprPtr binary_level(std::initializer_list<std::string_view> ops, ExprPtr (Parser::*next_level)()) {
    ExprPtr e = (this->*next_level)();
    for (;;) {
      const Token& t = cur();
      if ((t.kind != TokKind::op && t.kind != TokKind::name) || std::find(ops.begin(), ops.end(), t.text) == ops.end())
        return e;
      const std::string op = t.text;
      const size_t pos = t.pos;
      next();
      e = binary(op, std::move(e), (this->*next_level)(), pos);
    }
  }
  ExprPtr or_expr() { return binary_level({"or"}, &Parser::and_expr); }
  ExprPtr and_expr() { return binary_level({"and"}, &Parser::not_expr); }
  ExprPtr not_expr() {
    if (is_name("not")) {
      Depth d(*this, cur().pos);
      auto e = make(Expr::Kind::unary, cur().pos);
      next();
      e->name = "not";
      e->a = not_expr();
      return e;
    }
    return compare();
  }
  ExprPtr compare() {
    const size_t pos = cur().pos;
    ExprPtr first = math1();
    auto e = make(Expr::Kind::compare, pos);
    for (;;) {
      if (cur().kind == TokKind::op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        e->ops.push_back(cur().text);
        next();
      } else if (is_name("in")) {
        e->ops.push_back("in");
        next();
      } else if (is_name("not") && peek().kind == TokKind::name && peek().text == "in") {
        e->ops.push_back("notin");
        next();
        next();
      } else {
        break;
      }
      e->items.push_back(math1());
    }
    if (e->ops.empty()) return first;
    e->a = std::move(first);
    return e;
  }
  ExprPtr math1() { return binary_level({"+", "-"}, &Parser::concat); }
  ExprPtr concat() { return binary_level({"~"}, &Parser::math2); }
  ExprPtr math2() { return binary_level({"*", "/", "//", "%"}, &Parser::power); }
  ExprPtr power() { return binary_level({"**"}, &Parser::unary_filtered); }
  ExprPtr unary_filtered() { return unary(true); }
  ExprPtr unary(bool with_filter) {
    Depth d(*this, cur().pos);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make(Expr::Kind::unary, cur().pos);
      e->name = cur().text;
      next();
      e->a = unary(false);
    } else {
      e = primary();
    }
    e = postfix(std::move(e));
    if (with_filter) e = filter_expr(std::move(e));
    return e;
  }

  ExprPtr primary() {
    const Token& t = cur();
    const size_t pos = t.pos;
    switch (t.kind) {
      case TokKind::name: {
        auto e = make(Expr::Kind::literal, pos);
        if (t.text == "true" || t.text == "True") e->value = Value(true);
        else if (t.text == "false" || t.text == "False") e->value = Value(false);
        else if (t.text == "none" || t.text == "None") e->value = Value::none();
        else {
          e->kind = Expr::Kind::name;
          e->name = t.text;
        }
        next();
        return e;
      }
      case TokKind::string: {
        std::string s;
        while (cur().kind == TokKind::string) {
          s += cur().text;
          next();
        }
        auto e = make(Expr::Kind::literal, pos);
        e->value = Value(std::move(s));
        return e;
      }
      case TokKind::integer: {
        auto e = make(Expr::Kind::literal, pos);
        try {
          e->value = Value(static_cast<int64_t>(std::stoll(t.text)));
        } catch (const std::exception&) {
          fail(pos, "integer literal out of range");
        }
        next();
        return e;
      }
      case TokKind::floating: {
        auto e = make(Expr::Kind::literal, pos);
        try {
          e->value = Value(std::stod(t.text));
        } catch (const std::exception&) {
          e->value = Value(t.text.find('-') != std::string::npos ? 0.0 : HUGE_VAL);
        }
        next();
        return e;
      }
      case TokKind::op: {
        if (t.text == "(") {
          next();
          if (skip_op(")")) {
            auto e = make(Expr::Kind::list, pos);
            e->name = "tuple";
            return e;
          }
          ExprPtr e = tuple_expr(true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          next();
          auto e = make(Expr::Kind::list, pos);
          comma_separated("]", [&] { e->items.push_back(expression()); });
          return e;
        }
        if (t.text == "{") {
          next();
          auto e = make(Expr::Kind::dict, pos);
          comma_separated("}", [&] {
            e->items.push_back(expression());
            expect_op(":");
            e->items.push_back(expression());
          });
          return e;
        }
        break;
      }
      default: break;
    }
    fail(pos, "unexpected " + describe(t));
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".")) {
        const size_t pos = cur().pos;
        next();
        if (cur().kind == TokKind::integer) {
          auto x = make(Expr::Kind::index, pos);
          x->a = std::move(e);
          x->b = make(Expr::Kind::literal, cur().pos);
          int64_t index = 0;
          const std::string& digits = cur().text;
          if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc())
            fail(cur().pos, "integer literal out of range");
          x->b->value = Value(index);
          next();
          e = std::move(x);
          continue;
        }
        auto x = make(Expr::Kind::attr, pos);
        x->name = expect_name();
        x->a = std::move(e);
        e = std::move(x);
      } else if (is_op("[")) {
        const size_t pos = cur().pos;
        next();
        e = subscript(std::move(e), pos);
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr obj, size_t pos) {
    ExprPtr parts[3];
    int colons = 0;
    for (;;) {
      if (is_op("]")) break;
      if (is_op(":")) {
        if (++colons > 2) fail(cur().pos, "too many ':' in a slice");
        next();
        continue;
      }
      if (parts[colons]) fail(cur().pos, "expected ']', got " + describe(cur()));
      parts[colons] = expression();
    }
    expect_op("]");
    if (colons == 0) {
      if (!parts[0]) fail(pos, "expected a subscript");
      auto x = make(Expr::Kind::index, pos);
      x->a = std::move(obj);
      x->b = std::move(parts[0]);
      return x;
    }
    auto x = make(Expr::Kind::slice, pos);
    x->a = std::move(obj);
    for (auto& p : parts) x->items.push_back(std::move(p));
    return x;
  }

  void call_args(Expr& e) {
    expect_op("(");
    comma_separated(")", [&] {
      if (is_op("*") || is_op("**")) fail(cur().pos, "*args and **kwargs in calls are not supported");
      if (cur().kind == TokKind::name && peek().kind == TokKind::op && peek().text == "=") {
        std::string k = cur().text;
        next();
        next();
        e.kwargs.emplace_back(std::move(k), expression());
        return;
      }
      if (!e.kwargs.empty()) fail(cur().pos, "a positional argument follows a keyword argument");
      e.items.push_back(expression());
    });
  }

  ExprPtr call(ExprPtr callee) {
    auto e = make(Expr::Kind::call, cur().pos);
    call_args(*e);
    e->a = std::move(callee);
    return e;
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (is_op(".") && peek().kind == TokKind::name) {
      next();
      n += "." + expect_name();
    }
    return n;
  }

  // One "| name(args)" after `obj` (at "|"; a {% filter %} tag's chain starts at the name).
  ExprPtr filter_chain(ExprPtr obj, bool start_at_name = false) {
    bool first = true;
    do {
      if (!(first && start_at_name)) expect_op("|");
      first = false;
      const size_t pos = cur().pos;
      auto f = make(Expr::Kind::filter, pos);
      f->name = dotted_name();
      if (!has_filter(f->name)) fail(pos, "no filter named '" + f->name + "'");
      if (is_op("(")) call_args(*f);
      f->a = std::move(obj);
      obj = std::move(f);
    } while (is_op("|"));
    return obj;
  }

  ExprPtr filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        const size_t pos = cur().pos;
        next();
        auto f = make(Expr::Kind::filter, pos);
        f->name = dotted_name();
        if (!has_filter(f->name)) fail(pos, "no filter named '" + f->name + "'");
        if (is_op("(")) call_args(*f);
        f->a = std::move(e);
        e = std::move(f);
      } else if (is_name("is")) {
        const size_t pos = cur().pos;
        next();
        auto t = make(Expr::Kind::test, pos);
        t->negated = skip_name("not");
        t->name = dotted_name();
        if (!has_test(t->name)) fail(pos, "no test named '" + t->name + "'");
        if (is_op("(")) {
          call_args(*t);
        } else if ((cur().kind == TokKind::name || cur().kind == TokKind::string || cur().kind == TokKind::integer ||
                    cur().kind == TokKind::floating || is_op("(") || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          t->items.push_back(postfix(primary()));
        }
        t->a = std::move(e);
        e = std::move(t);
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  Lexed lx_;
  size_t i_ = 0;
  size_t depth_ = 0;
};

}  // namespace

Template parse(std::string_view source, const LexOptions& options) { return Parser(lex(source, options)).run(); }

}  // namespace tokalign::chat::jinja
