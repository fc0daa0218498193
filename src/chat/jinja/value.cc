#include "chat/jinja/value.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "unicode/categories.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::chat::jinja {

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

Value* Dict::find(std::string_view key) {
  for (auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

void Dict::set(std::string key, Value v) {
  if (Value* old = find(key)) *old = std::move(v);
  else items_.emplace_back(std::move(key), std::move(v));
}

Value Value::namespace_of(Dict d) {
  Value v(Kind::ns);
  v.d_ = std::make_shared<Dict>(std::move(d));
  return v;
}

Value Value::sequence(List l, Seq kind) {
  Value v(std::move(l));
  v.seq_ = kind;
  return v;
}

Value Value::undefined(std::string what) {
  Value v;
  v.s_ = std::make_shared<const std::string>(std::move(what));
  return v;
}

const std::string& Value::undefined_name() const {
  static const std::string kNone = "value";
  return s_ ? *s_ : kNone;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::undefined:
    case Kind::none: return false;
    case Kind::boolean: return b_;
    case Kind::integer: return i_ != 0;
    case Kind::floating: return f_ != 0;
    case Kind::string: return !s_->empty();
    case Kind::list: return !l_->empty();
    case Kind::dict: return d_->size() != 0;
    case Kind::ns:
    case Kind::function: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::ns: return "Namespace";
    case Kind::function: return "function";
  }
  return "?";
}

std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |v| < 1e16.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  const size_t e = s.find('e');
  std::string mant = s.substr(0, e);
  const int exp = std::stoi(s.substr(e + 1));
  std::string sign;
  if (mant[0] == '-') {
    sign = "-";
    mant.erase(0, 1);
  }
  std::string digits;
  for (char c : mant)
    if (c != '.') digits.push_back(c);
  if (exp >= -4 && exp < 16) {
    std::string out;
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
    }
    return sign + out;
  }
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int ax = exp < 0 ? -exp : exp;
  out += exp < 0 ? "e-" : "e+";
  if (ax < 10) out += "0";
  out += std::to_string(ax);
  return sign + out;
}

namespace {

bool py_printable(char32_t c) {
  if (c == ' ') return true;
  if (c < 0x20 || c == 0x7F) return false;
  if (c < 0x7F) return true;
  using unicode::Category;
  switch (unicode::category(c)) {
    case Category::Cc:
    case Category::Cf:
    case Category::Cs:
    case Category::Co:
    case Category::Cn:
    case Category::Zl:
    case Category::Zp:
    case Category::Zs: return false;
    default: return true;
  }
}

void append_hex(std::string& out, uint32_t v, int digits) {
  static const char* hex = "0123456789abcdef";
  for (int k = digits - 1; k >= 0; --k) out.push_back(hex[(v >> (4 * k)) & 15]);
}

}  // namespace

std::string string_repr(std::string_view s) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size();) {
    const char32_t c = unicode::decode(s, i);
    if (c == static_cast<char32_t>(q) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (py_printable(c)) {
      unicode::append_utf8(out, c);
    } else if (c < 0x100) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c < 0x10000) {
      out += "\\u";
      append_hex(out, c, 4);
    } else {
      out += "\\U";
      append_hex(out, c, 8);
    }
  }
  out.push_back(q);
  return out;
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::string: return string_repr(*s_);
    case Kind::list: {
      std::string items;
      for (size_t i = 0; i < l_->size(); ++i) {
        if (i) items += ", ";
        items += (*l_)[i].repr();
      }
      switch (seq_) {
        case Seq::tuple: return "(" + items + (l_->size() == 1 ? ",)" : ")");
        case Seq::dict_items: return "dict_items([" + items + "])";
        case Seq::dict_keys: return "dict_keys([" + items + "])";
        case Seq::dict_values: return "dict_values([" + items + "])";
        case Seq::list: break;
      }
      return "[" + items + "]";
    }
    case Kind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : d_->items()) {
        if (!first) out += ", ";
        first = false;
        out += string_repr(k) + ": " + v.repr();
      }
      return out + "}";
    }
    case Kind::ns: return "<Namespace " + Value(Dict(*d_)).repr() + ">";
    default: return to_str();
  }
}

std::string Value::to_str() const {
  switch (kind_) {
    case Kind::undefined: return "";
    case Kind::none: return "None";
    case Kind::boolean: return b_ ? "True" : "False";
    case Kind::integer: return std::to_string(i_);
    case Kind::floating: return float_repr(f_);
    case Kind::string: return *s_;
    case Kind::function: return "<function " + fn_->name + ">";
    default: return repr();
  }
}

bool equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_float() || b.is_float()) {
      auto f = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_float(); };
      return f(a) == f(b);
    }
    auto i = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); };
    return i(a) == i(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::undefined:
    case K::none: return true;
    case K::string: return a.str() == b.str();
    case K::list: {
      if (a.seq_kind() != b.seq_kind() || a.seq_kind() == Value::Seq::dict_values) return false;
      if (a.list().size() != b.list().size()) return false;
      for (size_t i = 0; i < a.list().size(); ++i)
        if (!equal(a.list()[i], b.list()[i])) return false;
      return true;
    }
    case K::dict:
    case K::ns: {
      if (&a.dict() == &b.dict()) return true;
      if (a.kind() == K::ns || a.dict().size() != b.dict().size()) return false;
      for (const auto& [k, v] : a.dict().items()) {
        const Value* o = b.dict().find(k);
        if (!o || !equal(v, *o)) return false;
      }
      return true;
    }
    case K::function: return &a.function() == &b.function();
    default: return false;
  }
}

bool less(const Value& a, const Value& b) {
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  auto f = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_float(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int();
    return f(a) < f(b);
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 keeps code point order
  if (a.is_list() && b.is_list()) {
    const List &x = a.list(), &y = b.list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equal(x[i], y[i])) continue;
      return less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw Error(std::string("'<' not supported between instances of '") + a.type_name() + "' and '" + b.type_name() + "'");
}

namespace {

void json_into(std::string& out, const Value& v, int indent, bool sort_keys, std::string_view item_sep,
               std::string_view key_sep, int level) {
  auto newline = [&](int lv) {
    if (indent < 0) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(lv), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::none: out += "null"; return;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return;
    case Value::Kind::floating: {
      const double f = v.as_float();
      out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f < 0 ? "-Infinity" : "Infinity") : float_repr(f);
      return;
    }
    case Value::Kind::string: append_json_string(out, v.str()); return;
    case Value::Kind::list: {
      if (v.list().empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        json_into(out, v.list()[i], indent, sort_keys, item_sep, key_sep, level + 1);
      }
      newline(level);
      out.push_back(']');
      return;
    }
    case Value::Kind::dict: {
      if (v.dict().size() == 0) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.dict().items()) items.push_back(&kv);
      if (sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* x, auto* y) { return x->first < y->first; });
      out.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        append_json_string(out, items[i]->first);
        out += key_sep;
        json_into(out, items[i]->second, indent, sort_keys, item_sep, key_sep, level + 1);
      }
      newline(level);
      out.push_back('}');
      return;
    }
    default: throw Error(std::string("Object of type ") + v.type_name() + " is not JSON serializable");
  }
}

Value from_element(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE: return Value::none();
    case T::BOOL: return Value(bool(e.get_bool()));
    case T::INT64: return Value(int64_t(e.get_int64()));
    case T::UINT64: return Value(static_cast<double>(uint64_t(e.get_uint64())));
    case T::DOUBLE: return Value(double(e.get_double()));
    case T::STRING: return Value(std::string_view(e.get_string()));
    case T::ARRAY: {
      List l;
      for (simdjson::dom::element x : e.get_array()) l.push_back(from_element(x));
      return Value(std::move(l));
    }
    case T::OBJECT: {
      Dict d;
      for (auto field : e.get_object()) d.set(std::string(field.key), from_element(field.value));
      return Value(std::move(d));
    }
  }
  throw Error("unsupported JSON value");
}

}  // namespace

std::string to_json(const Value& v, int indent, bool sort_keys, std::string_view item_sep, std::string_view key_sep) {
  if (item_sep.empty()) item_sep = indent < 0 ? ", " : ",";
  if (key_sep.empty()) key_sep = ": ";
  std::string out;
  json_into(out, v, indent, sort_keys, item_sep, key_sep, 0);
  return out;
}

Value from_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) throw Error(std::string("invalid JSON: ") + simdjson::error_message(err));
  return from_element(root);
}

}  // namespace tokalign::chat::jinja
