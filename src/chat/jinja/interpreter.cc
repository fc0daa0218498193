#include "chat/jinja/interpreter.h"

#include <cmath>
#include <limits>

#include "chat/jinja/builtins.h"
#include "util/error.h"

namespace tokalign::chat::jinja {

namespace {

// An error that already names its template position.
class PositionedError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void undefined_error(const Value& v) { throw Error(v.undefined_name() + " is undefined"); }

struct Frame {
  std::vector<std::pair<std::string, Value>> vars;
  Value* find(std::string_view name) {
    for (auto& [k, v] : vars)
      if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    if (Value* old = find(name)) *old = std::move(v);
    else vars.emplace_back(name, std::move(v));
  }
};

int64_t checked(bool overflow, int64_t v) {
  if (overflow) throw Error("integer overflow (tokalign's integers are 64-bit)");
  return v;
}

double to_float(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_float(); }
int64_t to_int(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); }
bool numeric(const Value& v) { return v.is_number() || v.is_bool(); }

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  throw Error("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
}

Value arithmetic(const std::string& op, const Value& a, const Value& b, size_t max_len) {
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.str() + b.str());
    if (a.is_list() && b.is_list()) {
      List l = a.list();
      l.insert(l.end(), b.list().begin(), b.list().end());
      return Value(std::move(l));
    }
    if (a.is_string()) throw Error(std::string("can only concatenate str (not \"") + b.type_name() + "\") to str");
    if (a.is_list()) throw Error(std::string("can only concatenate list (not \"") + b.type_name() + "\") to list");
  }
  if (op == "*") {
    auto repeat = [max_len](const Value& seq, const Value& n) -> Value {
      const int64_t k = std::max<int64_t>(0, to_int(n));
      const size_t len = seq.is_string() ? seq.str().size() : seq.list().size();
      if (len && static_cast<uint64_t>(k) > max_len / len) throw Error("repeated sequence too long");
      if (seq.is_string()) {
        std::string s;
        for (int64_t i = 0; i < k; ++i) s += seq.str();
        return Value(std::move(s));
      }
      List l;
      for (int64_t i = 0; i < k; ++i) l.insert(l.end(), seq.list().begin(), seq.list().end());
      return Value(std::move(l));
    };
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b);
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a);
  }
  if (!numeric(a) || !numeric(b)) {
    if (op == "%" && a.is_string()) throw Error("printf-style formatting with % is not supported");
    unsupported(op, a, b);
  }
  const bool ints = !a.is_float() && !b.is_float();
  if (op == "/") {
    if (to_float(b) == 0) throw Error("division by zero");
    return Value(to_float(a) / to_float(b));
  }
  if (ints) {
    const int64_t x = to_int(a), y = to_int(b);
    int64_t r = 0;
    bool overflow = false;
    if (op == "+" || op == "-" || op == "*") {
      overflow = op == "+" ? __builtin_add_overflow(x, y, &r) : op == "-" ? __builtin_sub_overflow(x, y, &r) : __builtin_mul_overflow(x, y, &r);
      return Value(checked(overflow, r));
    }
    if (op == "//" || op == "%") {
      if (y == 0) throw Error("integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) throw Error("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t acc = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(acc, x, &acc)) checked(true, 0);
        if (acc == 0 || acc == 1) break;
      }
      if (acc == 1 && x == -1 && y % 2 == 1) acc = -1;
      return Value(acc);
    }
  }
  const double x = to_float(a), y = to_float(b);
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "//" || op == "%") {  // CPython's float_divmod
    if (y == 0) throw Error("float division by zero");
    double mod = std::fmod(x, y), div = (x - mod) / y;
    if (mod != 0) {
      if ((y < 0) != (mod < 0)) {
        mod += y;
        div -= 1.0;
      }
    } else {
      mod = std::copysign(0.0, y);
    }
    double floordiv;
    if (div != 0) {
      floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
      floordiv = std::copysign(0.0, x / y);
    }
    return Value(op == "%" ? mod : floordiv);
  }
  if (op == "**") return Value(std::pow(x, y));
  unsupported(op, a, b);
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string())
      throw Error(std::string("'in <string>' requires string as left operand, not ") + item.type_name());
    return container.str().find(item.str()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const Value& v : container.list())
      if (equal(v, item)) return true;
    return false;
  }
  if (container.is_dict()) return item.is_string() && container.dict().find(item.str()) != nullptr;
  if (container.is_undefined()) return false;
  throw Error(std::string("argument of type '") + container.type_name() + "' is not iterable");
}

class Interp {
 public:
  Interp(const Template& t, const Dict& globals, const RenderLimits& limits) : t_(t), limits_(limits) {
    root_.vars.reserve(globals.size() + 4);
    for (const auto& [k, v] : globals.items()) root_.set(k, v);
    scopes_.push_back(&root_);
  }

  // A namespace is the one mutable value, so `set ns.self = ns` makes a cycle of shared
  // pointers: emptying every namespace of the render frees them.
  ~Interp() {
    for (Value& ns : namespaces_) ns.mutable_namespace() = Dict();
  }
  Interp(const Interp&) = delete;
  Interp& operator=(const Interp&) = delete;

  Rendered run() {
    out_ = &result_.text;
    exec(t_.body);
    return std::move(result_);
  }

 private:
  enum class Flow { normal, break_, continue_ };

  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw PositionedError("template " + t_.where(pos) + ": " + what);
  }
  void step(size_t pos) {
    if (++steps_ > limits_.max_steps)
      fail(pos, "the template ran more than " + std::to_string(limits_.max_steps) + " steps (a runaway loop?)");
  }
  void emit(std::string_view s, size_t pos) {
    if (out_->size() + s.size() > limits_.max_output)
      fail(pos, "the rendered text exceeds " + std::to_string(limits_.max_output) + " bytes");
    out_->append(s);
  }

  Value lookup(const std::string& name) {
    for (size_t i = scopes_.size(); i-- > 0;)
      if (Value* v = scopes_[i]->find(name)) return *v;
    if (name == "range" || name == "namespace" || name == "dict") return global_function(name);
    return Value::undefined("'" + name + "'");
  }
  void assign(const std::string& name, Value v) { scopes_.back()->set(name, std::move(v)); }

  void assign_target(const Target& t, const Value& v, size_t pos) {
    if (!t.attr.empty()) {
      Value ns = lookup(t.names[0]);
      if (!ns.is_namespace()) fail(pos, "cannot assign attribute on non-namespace object");
      ns.mutable_namespace().set(t.attr, v);
      return;
    }
    if (t.names.size() == 1) {
      assign(t.names[0], v);
      return;
    }
    List items = iterate(v);
    if (items.size() != t.names.size())
      fail(pos, items.size() > t.names.size() ? "too many values to unpack (expected " + std::to_string(t.names.size()) + ")"
                                              : "not enough values to unpack (expected " + std::to_string(t.names.size()) +
                                                    ", got " + std::to_string(items.size()) + ")");
    for (size_t i = 0; i < items.size(); ++i) assign(t.names[i], items[i]);
  }

  Value global_function(const std::string& name) {
    Function f;
    f.name = name;
    if (name == "range") {
      const uint64_t cap = std::min<uint64_t>(1'000'000, limits_.max_steps);
      f.call = [cap](Args& a) -> Value {
        if (a.pos.empty() || a.pos.size() > 3 || !a.kw.empty()) throw Error("range expected 1 to 3 integer arguments");
        for (const Value& v : a.pos)
          if (!v.is_int() && !v.is_bool()) throw Error(std::string("'") + v.type_name() + "' object cannot be interpreted as an integer");
        int64_t start = 0, stop, stepv = 1;
        if (a.pos.size() == 1) stop = to_int(a.pos[0]);
        else {
          start = to_int(a.pos[0]);
          stop = to_int(a.pos[1]);
          if (a.pos.size() == 3) stepv = to_int(a.pos[2]);
        }
        if (stepv == 0) throw Error("range() arg 3 must not be zero");
        List l;
        for (int64_t i = start; stepv > 0 ? i < stop : i > stop; i += stepv) {
          if (l.size() >= cap) throw Error("range too big (over " + std::to_string(cap) + " items)");
          l.push_back(Value(i));
        }
        return Value(std::move(l));
      };
    } else if (name == "namespace" || name == "dict") {
      const bool ns = name == "namespace";
      f.call = [this, ns](Args& a) -> Value {
        Dict d;
        for (const Value& p : a.pos) {
          if (!p.is_dict()) throw Error(std::string(ns ? "namespace" : "dict") + "() takes a mapping as positional argument");
          for (const auto& [k, v] : p.dict().items()) d.set(k, v);
        }
        for (auto& [k, v] : a.kw) d.set(k, v);
        if (!ns) return Value(std::move(d));
        Value v = Value::namespace_of(std::move(d));
        namespaces_.push_back(v);
        return v;
      };
    }
    return Value(std::move(f));
  }

  Args eval_args(const Expr& e, size_t skip_items = 0) {
    Args a;
    for (size_t i = skip_items; i < e.items.size(); ++i) a.pos.push_back(eval(*e.items[i]));
    for (const auto& [k, v] : e.kwargs) a.kw.emplace_back(k, eval(*v));
    return a;
  }

  Value eval(const Expr& e) {
    try {
      return eval_inner(e);
    } catch (const PositionedError&) {
      throw;
    } catch (const Error& err) {
      fail(e.pos, err.what());
    }
  }

  Value eval_inner(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::literal: return e.value;
      case Expr::Kind::name: return lookup(e.name);
      case Expr::Kind::list: {
        List l;
        l.reserve(e.items.size());
        for (const auto& x : e.items) l.push_back(eval(*x));
        return e.name == "tuple" ? Value::tuple(std::move(l)) : Value(std::move(l));
      }
      case Expr::Kind::dict: {
        Dict d;
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          Value k = eval(*e.items[i]);
          if (!k.is_string()) throw Error("dict keys must be strings here");
          d.set(k.str(), eval(*e.items[i + 1]));
        }
        return Value(std::move(d));
      }
      case Expr::Kind::attr: return get_attr(eval(*e.a), e.name);
      case Expr::Kind::index: return get_item(eval(*e.a), eval(*e.b));
      case Expr::Kind::slice: {
        Value obj = eval(*e.a);
        Value parts[3];
        for (size_t i = 0; i < 3; ++i)
          if (e.items[i]) parts[i] = eval(*e.items[i]);
        return get_slice(obj, e.items[0] ? &parts[0] : nullptr, e.items[1] ? &parts[1] : nullptr,
                         e.items[2] ? &parts[2] : nullptr);
      }
      case Expr::Kind::call: {
        Value callee = eval(*e.a);
        Args a = eval_args(e);
        step(e.pos);
        if (callee.is_undefined()) undefined_error(callee);
        if (!callee.is_function()) throw Error(std::string("'") + callee.type_name() + "' object is not callable");
        return callee.function().call(a);
      }
      case Expr::Kind::filter: {
        Value v = e.a ? eval(*e.a) : block_input_;
        Args a = eval_args(e);
        return apply_filter(e.name, v, a);
      }
      case Expr::Kind::test: {
        Value v;
        try {
          v = eval(*e.a);
        } catch (const PositionedError&) {
          throw;
        }
        Args a = eval_args(e);
        const bool r = apply_test(e.name, v, a);
        return Value(e.negated ? !r : r);
      }
      case Expr::Kind::unary: {
        Value v = eval(*e.a);
        if (e.name == "not") return Value(!v.truthy());
        if (v.is_undefined()) undefined_error(v);
        if (!numeric(v)) throw Error(std::string("bad operand type for unary ") + e.name + ": '" + v.type_name() + "'");
        if (e.name == "+") return v.is_bool() ? Value(to_int(v)) : v;
        if (v.is_float()) return Value(-v.as_float());
        return Value(checked(to_int(v) == std::numeric_limits<int64_t>::min(), -to_int(v)));
      }
      case Expr::Kind::binary: {
        if (e.name == "and") {
          Value a = eval(*e.a);
          return a.truthy() ? eval(*e.b) : a;
        }
        if (e.name == "or") {
          Value a = eval(*e.a);
          return a.truthy() ? a : eval(*e.b);
        }
        Value a = eval(*e.a), b = eval(*e.b);
        if (e.name == "~") {
          std::string s = soft_str(a) + soft_str(b);
          if (s.size() > limits_.max_output) throw Error("string too long");
          return Value(std::move(s));
        }
        Value r = arithmetic(e.name, a, b, limits_.max_output);
        if (r.is_string() && r.str().size() > limits_.max_output) throw Error("string too long");
        return r;
      }
      case Expr::Kind::compare: {
        Value left = eval(*e.a);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.items[i]);
          const std::string& op = e.ops[i];
          bool r;
          if (op == "==") r = equal(left, right);
          else if (op == "!=") r = !equal(left, right);
          else if (op == "in") r = contains(right, left);
          else if (op == "notin") r = !contains(right, left);
          else {
            if (left.is_undefined()) undefined_error(left);
            if (right.is_undefined()) undefined_error(right);
            if (op == "<") r = less(left, right);
            else if (op == ">") r = less(right, left);
            else if (op == "<=") r = !less(right, left);
            else r = !less(left, right);
          }
          if (!r) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::cond: {
        if (eval(*e.b).truthy()) return eval(*e.a);
        return e.c ? eval(*e.c) : Value::undefined("the else branch of an inline if");
      }
    }
    throw Error("unknown expression");
  }

  Flow exec(const Body& body) {
    for (const auto& s : body) {
      const Flow f = exec(*s);
      if (f != Flow::normal) return f;
    }
    return Flow::normal;
  }

  Flow exec(const Stmt& s) {
    try {
      return exec_inner(s);
    } catch (const PositionedError&) {
      throw;
    } catch (const Error& err) {
      fail(s.pos, err.what());
    }
  }

  // For its lifetime, `frame` is the innermost scope: on top of the current scopes, or (a
  // macro or caller() body) on top of `base` instead of them.
  class Scope {
   public:
    Scope(Interp& in, Frame* frame) : in_(in), pushed_(true) { in_.scopes_.push_back(frame); }
    Scope(Interp& in, std::vector<Frame*> base, Frame* frame) : in_(in), saved_(std::move(in.scopes_)) {
      in_.scopes_ = std::move(base);
      in_.scopes_.push_back(frame);
    }
    ~Scope() {
      if (pushed_) in_.scopes_.pop_back();
      else in_.scopes_ = std::move(saved_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Interp& in_;
    bool pushed_ = false;
    std::vector<Frame*> saved_;
  };

  // Runs `body` with output going to a string of its own.
  std::string capture(const Body& body) {
    std::string buf;
    std::string* saved = out_;
    out_ = &buf;
    struct Restore {
      std::string*& out;
      std::string* saved;
      ~Restore() { out = saved; }
    } restore{out_, saved};
    exec(body);
    return buf;
  }

  Flow exec_inner(const Stmt& s) {
    step(s.pos);
    switch (s.kind) {
      case Stmt::Kind::text: emit(s.text, s.pos); return Flow::normal;
      case Stmt::Kind::print: {
        Value v = eval(*s.expr);
        emit(soft_str(v), s.pos);
        return Flow::normal;
      }
      case Stmt::Kind::if_: {
        for (const auto& [c, body] : s.branches)
          if (eval(*c).truthy()) return exec(body);
        return exec(s.else_body);
      }
      case Stmt::Kind::for_: return exec_for(s);
      case Stmt::Kind::set: assign_target(s.target, eval(*s.expr), s.pos); return Flow::normal;
      case Stmt::Kind::set_block: {
        Value v;
        {
          Frame f;
          Scope scope(*this, &f);
          v = Value(capture(s.body));
        }
        if (s.expr) {
          block_input_ = v;
          v = eval(*s.expr);
        }
        assign_target(s.target, v, s.pos);
        return Flow::normal;
      }
      case Stmt::Kind::macro: assign(s.name, make_macro(s)); return Flow::normal;
      case Stmt::Kind::call_block: {
        Value callee = eval(*s.expr->a);
        Args a = eval_args(*s.expr);
        if (callee.is_undefined()) undefined_error(callee);
        if (!callee.is_function()) throw Error(std::string("'") + callee.type_name() + "' object is not callable");
        // caller(): the body, rendered in the scopes of the call block (alive while the macro runs).
        Function caller;
        caller.name = "caller";
        const Stmt* block = &s;
        std::vector<Frame*> here = scopes_;
        caller.call = [this, block, here](Args& ca) -> Value {
          Frame f;
          for (size_t i = 0; i < block->params.size(); ++i) {
            const auto& [name, dflt] = block->params[i];
            if (i < ca.pos.size()) f.set(name, ca.pos[i]);
            else f.set(name, dflt ? eval(*dflt) : Value::undefined("'" + name + "'"));
          }
          for (auto& [k, v] : ca.kw) f.set(k, v);
          Scope scope(*this, here, &f);
          return Value(capture(block->body));
        };
        a.kw.emplace_back("caller", Value(std::move(caller)));
        step(s.pos);
        emit(soft_str(callee.function().call(a)), s.pos);
        return Flow::normal;
      }
      case Stmt::Kind::break_: return Flow::break_;
      case Stmt::Kind::continue_: return Flow::continue_;
      case Stmt::Kind::generation: {
        const size_t start = out_->size();
        const Flow f = exec(s.body);
        if (out_ == &result_.text) result_.generation.emplace_back(start, out_->size());
        return f;
      }
      case Stmt::Kind::filter_block: {
        block_input_ = Value(capture(s.body));
        emit(soft_str(eval(*s.expr)), s.pos);
        return Flow::normal;
      }
      case Stmt::Kind::with: {
        Frame f;
        for (const auto& [k, v] : s.params) f.set(k, eval(*v));
        Scope scope(*this, &f);
        return exec(s.body);
      }
    }
    return Flow::normal;
  }

  Flow exec_for(const Stmt& s) {
    Value seq = eval(*s.expr);
    if (seq.is_none()) throw Error("'NoneType' object is not iterable");
    List all = iterate(seq);
    List items;
    if (s.cond) {
      // The filter sees each item bound to the target, in a scope of its own.
      Frame f;
      Scope scope(*this, &f);
      for (Value& v : all) {
        step(s.pos);
        assign_target(s.target, v, s.pos);
        if (eval(*s.cond).truthy()) items.push_back(std::move(v));
      }
    } else {
      items = std::move(all);
    }
    if (items.empty()) return exec(s.else_body);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      step(s.pos);
      Frame f;
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(n - i));
      loop.set("revindex0", Value(n - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == n - 1));
      loop.set("length", Value(n));
      loop.set("depth", Value(1));
      loop.set("depth0", Value(0));
      if (i > 0) loop.set("previtem", items[static_cast<size_t>(i - 1)]);
      if (i + 1 < n) loop.set("nextitem", items[static_cast<size_t>(i + 1)]);
      Function cycle;
      cycle.name = "loop.cycle";
      cycle.call = [i](Args& a) -> Value {
        if (a.pos.empty()) throw Error("no items for cycling given");
        return a.pos[static_cast<size_t>(i) % a.pos.size()];
      };
      loop.set("cycle", Value(std::move(cycle)));
      f.set("loop", Value(std::move(loop)));
      Scope scope(*this, &f);
      assign_target(s.target, items[static_cast<size_t>(i)], s.pos);
      if (exec(s.body) == Flow::break_) break;
    }
    return Flow::normal;
  }

  Value make_macro(const Stmt& s) {
    Function f;
    f.name = s.name;
    const Stmt* def = &s;
    f.call = [this, def](Args& a) -> Value {
      if (++call_depth_ > limits_.max_call_depth) {
        --call_depth_;
        throw Error("macro calls nested deeper than " + std::to_string(limits_.max_call_depth) + " (runaway recursion?)");
      }
      struct Depth {
        size_t& depth;
        ~Depth() { --depth; }
      } depth{call_depth_};
      Frame frame;
      std::vector<Value> varargs;
      for (size_t i = 0; i < a.pos.size(); ++i) {
        if (i < def->params.size()) frame.set(def->params[i].first, a.pos[i]);
        else varargs.push_back(a.pos[i]);
      }
      Dict kwargs;
      for (auto& [k, v] : a.kw) {
        if (k == "caller") {
          frame.set(k, v);
          continue;
        }
        bool known = false;
        for (const auto& p : def->params) known |= p.first == k;
        if (known) frame.set(k, v);
        else kwargs.set(k, v);
      }
      // Scopes while the macro runs: the template's top level, then its own frame.
      Scope scope(*this, {&root_}, &frame);
      for (const auto& [name, dflt] : def->params)
        if (!frame.find(name)) frame.set(name, dflt ? eval(*dflt) : Value::undefined("'" + name + "'"));
      frame.set("varargs", Value::tuple(std::move(varargs)));
      frame.set("kwargs", Value(std::move(kwargs)));
      return Value(capture(def->body));
    };
    return Value(std::move(f));
  }

  const Template& t_;
  RenderLimits limits_;
  Frame root_;
  std::vector<Frame*> scopes_;
  Rendered result_;
  std::string* out_ = nullptr;
  Value block_input_;
  uint64_t steps_ = 0;
  size_t call_depth_ = 0;
  std::vector<Value> namespaces_;
};

}  // namespace

Rendered render(const Template& t, const Dict& globals, const RenderLimits& limits) {
  return Interp(t, globals, limits).run();
}

}  // namespace tokalign::chat::jinja
